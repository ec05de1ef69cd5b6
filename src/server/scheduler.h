// Schedules that start executions: EventBridge Scheduler's model (cron / rate / at
// expressions in a time zone, a target state machine with an input, ENABLED / DISABLED, start
// and end dates, one-time schedules deleted after their run), persisted in the store, and the
// subset of EventBridge Scheduler's REST API that manages them (CreateSchedule, GetSchedule,
// UpdateSchedule, DeleteSchedule, ListSchedules), so `aws scheduler --endpoint-url` works.
//
// Fires are named <schedule>-<yyyyMMddTHHmmssZ> after their scheduled time: a fire that
// started its execution just before a crash is not started again after it (the name exists).
// What happens to fires missed while the server was down is the schedule's choice: SKIP (as
// EventBridge does) or RUN_ONCE (one catch-up run).
#ifndef ZFLOW_SERVER_SCHEDULER_H_
#define ZFLOW_SERVER_SCHEDULER_H_

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/step_functions_api.h"
#include "store/store.h"
#include "zflow/clock.h"

namespace zflow::server {

struct SchedulerOptions {
  std::string region = "us-east-1";
  std::string account = "123456789012";
  Clock* clock = nullptr;  // null: the system clock
};

class Scheduler {
 public:
  Scheduler(SchedulerOptions options, store::Store& store, StepFunctionsApi& api);
  ~Scheduler();  // stops the thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Loads the schedules, settles the fires missed while the server was down, and starts
  // firing. Returns how many missed fires were skipped and run.
  struct Catchup {
    int skipped = 0;
    int run = 0;
  };
  Result<Catchup> Start();

  // The REST API: `method` GET/POST/PUT/DELETE, `name` the schedule ("" for the collection),
  // `query` the decoded query parameters.
  ApiResponse Handle(std::string_view method, std::string_view name,
                     const std::map<std::string, std::string>& query, std::string_view body);

  // Executions started by schedules so far (for metrics).
  std::uint64_t fired() const;

 private:
  Answer Create(std::string_view name, const json::object& in, bool update);
  Answer Get(std::string_view name);
  Answer Delete(std::string_view name);
  Answer List(const std::map<std::string, std::string>& query);

  TimePoint Now() const;
  // The next fire after the last one (or after creation); nullopt when it never fires again.
  std::optional<TimePoint> NextFire(const store::ScheduleRecord& s) const;
  void Fire(store::ScheduleRecord& s, TimePoint when);
  void Loop();
  void Wake();

  SchedulerOptions options_;
  store::Store& store_;
  StepFunctionsApi& api_;
  SystemClock system_clock_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;         // guarded by mu_
  bool changed_ = false;      // guarded by mu_: the schedules changed; reload
  std::uint64_t fired_ = 0;   // guarded by mu_
};

}  // namespace zflow::server

#endif  // ZFLOW_SERVER_SCHEDULER_H_
