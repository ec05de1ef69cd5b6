// Prometheus metrics of zflow serve (text exposition format 0.0.4): API requests, executions
// by status, state transitions, state and task durations as histograms, queue depths.
#ifndef ZFLOW_SERVER_METRICS_H_
#define ZFLOW_SERVER_METRICS_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "zflow/runtime.h"

namespace zflow::store {
class Store;
}

namespace zflow::server {

class ExecutionService;

class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,     2.5,  5,     10,  60,  300};
  void Observe(double seconds);
  // Appends the _bucket, _sum and _count lines of `name` with `labels` ("" or `a="b"`).
  void Render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::uint64_t, kBounds.size() + 1> counts_{};
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Metrics {
 public:
  // Thread-safe.
  void Request(std::string_view action, std::string_view error_type, double seconds);
  // Every event the store records (on the executions' loop thread).
  void Event(const runtime::ExecutionInfo& info, const runtime::HistoryEvent& event);
  std::string Render(store::Store& store, ExecutionService& executions);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> requests_;  // guarded by mu_
  std::map<std::string, Histogram> request_seconds_;                        // guarded by mu_
  std::uint64_t transitions_ = 0;                                           // guarded by mu_
  std::map<std::string, std::uint64_t> events_;                             // guarded by mu_
  Histogram state_seconds_;                                                 // guarded by mu_
  Histogram task_seconds_;                                                  // guarded by mu_
  // When each running state / task began, by execution ARN and state name.
  std::unordered_map<std::string, std::int64_t> state_began_;  // guarded by mu_
  std::unordered_map<std::string, std::int64_t> task_began_;   // guarded by mu_
};

}  // namespace zflow::server

#endif  // ZFLOW_SERVER_METRICS_H_
