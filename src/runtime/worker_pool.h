// A small fixed pool of worker threads for blocking task handlers.
#ifndef ZFLOW_RUNTIME_WORKER_POOL_H_
#define ZFLOW_RUNTIME_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace zflow::runtime {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  // Runs the jobs already posted, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Thread-safe.
  void Post(std::function<void()> job);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_WORKER_POOL_H_
