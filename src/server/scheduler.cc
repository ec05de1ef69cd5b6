#include "server/scheduler.h"

#include <algorithm>
#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "pipeline/schedule_expression.h"
#include "server/api_fields.h"

namespace zflow::server {
namespace {

using std::chrono::milliseconds;

std::int64_t Millis(TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

TimePoint FromMillis(std::int64_t ms) { return TimePoint(milliseconds(ms)); }

// EventBridge Scheduler's REST errors: the type in x-amzn-ErrorType, {"Message"} in the body.
ApiResponse RestError(const ApiError& e) {
  return ApiResponse{e.http_status, ToJsonText(json::object{{"Message", ValidUtf8(e.message)}}),
                     e.type};
}

ApiError NotFound(std::string_view name) {
  return ApiError{"ResourceNotFoundException", fmt::format("Schedule {} does not exist.", name),
                  404};
}

ApiError Invalid(std::string message) {
  return ApiError{"ValidationException", std::move(message), 400};
}

// Seconds since the epoch (the REST protocol's timestamps), as milliseconds.
std::optional<std::int64_t> ReadDate(const json::object& in, std::string_view key) {
  const json::value* v = in.if_contains(key);
  if (v == nullptr || v->is_null()) return 0;
  if (!v->is_number()) return std::nullopt;
  return static_cast<std::int64_t>(v->to_number<double>() * 1000);
}

std::string StringOr(const json::object& in, std::string_view key, const std::string& fallback) {
  const json::value* v = in.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : fallback;
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options, store::Store& store, StepFunctionsApi& api)
    : options_(std::move(options)), store_(store), api_(api) {}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

TimePoint Scheduler::Now() const {
  return options_.clock != nullptr ? options_.clock->Now() : system_clock_.Now();
}

std::uint64_t Scheduler::fired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

std::optional<TimePoint> Scheduler::NextFire(const store::ScheduleRecord& s) const {
  auto expression = pipeline::ScheduleExpression::Parse(s.expression, s.time_zone);
  if (!expression.ok()) return std::nullopt;
  const std::int64_t begin = std::max(s.start_ms, s.creation_ms);
  TimePoint anchor = FromMillis(s.start_ms != 0 ? s.start_ms : s.creation_ms);
  if (expression->kind() == pipeline::ScheduleKind::kRate && s.start_ms == 0) {
    // Without a start date a rate schedule fires when it is created, then every period.
    anchor -= expression->rate_period();
  }
  // Strictly after the last fire; the first fire may be at the start (or creation) itself.
  TimePoint after = s.last_fire_ms != 0 ? FromMillis(s.last_fire_ms) : FromMillis(begin - 1);
  std::optional<TimePoint> next = expression->NextAfter(after, anchor);
  if (next && s.end_ms != 0 && Millis(*next) > s.end_ms) return std::nullopt;
  return next;
}

void Scheduler::Fire(store::ScheduleRecord& s, TimePoint when) {
  const std::string stamp = fmt::format("{:%Y%m%dT%H%M%SZ}",
                                        std::chrono::time_point_cast<std::chrono::seconds>(when));
  const std::string name = fmt::format("{}-{}", s.name.substr(0, 80 - 1 - stamp.size()), stamp);
  Answer started = api_.StartExecution(
      json::object{{"stateMachineArn", s.machine_arn}, {"name", name}, {"input", s.input}});
  if (!started.ok() && started.error().type != "ExecutionAlreadyExists") {
    // The fire is spent either way (EventBridge drops a target it cannot invoke after its
    // retries); the reason goes to the log.
    fmt::print(stderr, "zflow serve: schedule {} could not start {}: {}: {}\n", s.name,
               s.machine_arn, started.error().type, started.error().message);
  }
  s.last_fire_ms = Millis(when);
  Status st = store_.SetScheduleFired(s.name, s.last_fire_ms);
  if (!st.ok()) fmt::print(stderr, "zflow serve: schedule {}: {}\n", s.name, st.message());
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++fired_;
  }
  if (s.after_completion == "DELETE" && !NextFire(s)) (void)store_.DeleteSchedule(s.name);
}

Result<Scheduler::Catchup> Scheduler::Start() {
  Catchup out;
  ZFLOW_ASSIGN_OR_RETURN(auto schedules, store_.ListSchedules());
  const TimePoint now = Now();
  for (store::ScheduleRecord& s : schedules) {
    if (s.state != "ENABLED") continue;
    // Every fire due by now came while the server was down.
    std::optional<TimePoint> latest;
    int missed = 0;
    for (auto next = NextFire(s); next && *next <= now && missed < 1000000; next = NextFire(s)) {
      latest = next;
      s.last_fire_ms = Millis(*next);
      ++missed;
    }
    if (!latest) continue;
    if (s.missed == "RUN_ONCE") {
      Fire(s, *latest);
      ++out.run;
      out.skipped += missed - 1;
    } else {
      ZFLOW_RETURN_IF_ERROR(store_.SetScheduleFired(s.name, s.last_fire_ms));
      out.skipped += missed;
    }
  }
  thread_ = std::thread([this] { Loop(); });
  return out;
}

void Scheduler::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed_ = true;
  }
  cv_.notify_all();
}

void Scheduler::Loop() {
  std::vector<store::ScheduleRecord> schedules;
  bool reload = true;
  while (true) {
    if (reload) {
      auto loaded = store_.ListSchedules();
      if (loaded.ok()) schedules = std::move(*loaded);
      reload = false;
    }
    const TimePoint now = Now();
    std::optional<TimePoint> earliest;
    for (store::ScheduleRecord& s : schedules) {
      if (s.state != "ENABLED") continue;
      // Normally one fire is due; after a pause of this process (a suspended laptop), the
      // latest due fire runs and the ones before it are skipped, as at start.
      std::optional<TimePoint> due;
      auto next = NextFire(s);
      for (int n = 0; next && *next <= now && n < 1000000; ++n) {
        due = next;
        s.last_fire_ms = Millis(*next);
        next = NextFire(s);
      }
      if (due) {
        Fire(s, *due);
        reload = reload || s.after_completion == "DELETE";
      }
      if (next && (!earliest || *next < *earliest)) earliest = next;
    }
    std::unique_lock<std::mutex> lock(mu_);
    // The clock may be a test's manual clock, which moves without notice: look again at least
    // every 20 ms then; the system clock is waited on until the next fire.
    auto wait = std::chrono::milliseconds(options_.clock != nullptr ? 20 : 60000);
    if (earliest) {
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*earliest - now) +
                                std::chrono::milliseconds(1));
    }
    cv_.wait_for(lock, wait, [&] { return stop_ || changed_; });
    if (stop_) return;
    if (changed_) {
      changed_ = false;
      reload = true;
    }
  }
}

// ---- the REST API ----

ApiResponse Scheduler::Handle(std::string_view method, std::string_view name,
                              const std::map<std::string, std::string>& query,
                              std::string_view body) {
  Answer answer = json::object{};
  if (name.empty()) {
    if (method != "GET") return RestError(Invalid("Only GET lists schedules"));
    answer = List(query);
  } else if (method == "GET") {
    answer = Get(name);
  } else if (method == "DELETE") {
    answer = Delete(name);
  } else if (method == "POST" || method == "PUT") {
    auto parsed = ParseJson(body.empty() ? std::string_view("{}") : body);
    if (!parsed.ok() || !parsed->value.is_object()) {
      return RestError(Invalid("The request body must be a JSON object"));
    }
    answer = Create(name, parsed->value.as_object(), method == "PUT");
  } else {
    return RestError(Invalid(fmt::format("Method {} is not supported", method)));
  }
  if (!answer.ok()) return RestError(answer.error());
  return ApiResponse{200, ToJsonText(answer.body()), {}};
}

Answer Scheduler::Create(std::string_view name, const json::object& in, bool update) {
  if (auto bad = CheckName(name, 64)) {
    return Invalid(fmt::format("Invalid schedule name '{}': 1-64 letters, digits, '.', '-', '_'",
                               name));
  }
  std::string group = StringOr(in, "GroupName", "default");
  if (group != "default") return Invalid("zflow serve keeps schedules in the default group");
  store::ScheduleRecord record;
  auto existing = store_.GetSchedule(name);
  if (update && !existing.ok()) return NotFound(name);
  if (!update && existing.ok()) {
    return ApiError{"ConflictException", fmt::format("Schedule {} already exists.", name), 409};
  }
  if (existing.ok()) record = *existing;
  record.name = std::string(name);
  record.expression = StringOr(in, "ScheduleExpression", "");
  record.time_zone = StringOr(in, "ScheduleExpressionTimezone", "UTC");
  record.state = StringOr(in, "State", "ENABLED");
  record.description = StringOr(in, "Description", "");
  record.after_completion = StringOr(in, "ActionAfterCompletion", "NONE");
  record.missed = StringOr(in, "ZflowMissedRuns", update ? record.missed : "SKIP");
  if (record.expression.empty()) return Invalid("ScheduleExpression is required");
  auto expression = pipeline::ScheduleExpression::Parse(record.expression, record.time_zone);
  if (!expression.ok()) {
    return Invalid(fmt::format("Invalid Schedule Expression {}: {}", record.expression,
                               expression.status().message()));
  }
  if (record.state != "ENABLED" && record.state != "DISABLED") {
    return Invalid("State must be ENABLED or DISABLED");
  }
  if (record.after_completion != "NONE" && record.after_completion != "DELETE") {
    return Invalid("ActionAfterCompletion must be NONE or DELETE");
  }
  if (record.missed != "SKIP" && record.missed != "RUN_ONCE") {
    return Invalid("ZflowMissedRuns must be SKIP or RUN_ONCE");
  }
  const json::value* window = in.if_contains("FlexibleTimeWindow");
  if (window == nullptr || !window->is_object()) return Invalid("FlexibleTimeWindow is required");
  if (StringOr(window->as_object(), "Mode", "") != "OFF") {
    return Invalid("zflow serve fires schedules at their time: FlexibleTimeWindow Mode must be "
                   "OFF");
  }
  record.window = ToJsonText(*window);
  const json::value* target = in.if_contains("Target");
  if (target == nullptr || !target->is_object()) return Invalid("Target is required");
  const json::object& t = target->as_object();
  record.machine_arn = StringOr(t, "Arn", "");
  record.role_arn = StringOr(t, "RoleArn", "");
  record.input = StringOr(t, "Input", "{}");
  auto arn = ParseStatesArn(record.machine_arn);
  if (!arn || arn->kind != "stateMachine") {
    return Invalid(fmt::format("Target Arn {} is not a state machine: zflow serve runs schedules "
                               "that start Step Functions executions",
                               record.machine_arn));
  }
  if (!ParseJson(record.input).ok()) return Invalid("Target Input must be JSON");
  auto start = ReadDate(in, "StartDate");
  auto end = ReadDate(in, "EndDate");
  if (!start || !end) return Invalid("StartDate and EndDate are timestamps");
  record.start_ms = *start;
  record.end_ms = *end;
  const std::int64_t now = Millis(Now());
  if (!existing.ok()) record.creation_ms = now;
  record.update_ms = now;
  if (update && existing.ok() && existing->expression != record.expression) {
    record.last_fire_ms = 0;  // a new expression starts from now
    record.creation_ms = now;
  } else if (update) {
    // Fires that fell while the schedule was paused (or before this update) do not run.
    record.last_fire_ms = std::max(record.last_fire_ms, now);
  }
  if (Status st = store_.PutSchedule(record); !st.ok()) {
    return ApiError{"InternalServerException", std::string(st.message()), 500};
  }
  Wake();
  return json::object{{"ScheduleArn", fmt::format("arn:aws:scheduler:{}:{}:schedule/default/{}",
                                                  options_.region, options_.account, name)}};
}

Answer Scheduler::Get(std::string_view name) {
  auto s = store_.GetSchedule(name);
  if (!s.ok()) return NotFound(name);
  json::object out{
      {"Arn", fmt::format("arn:aws:scheduler:{}:{}:schedule/default/{}", options_.region,
                          options_.account, s->name)},
      {"Name", s->name},
      {"GroupName", "default"},
      {"ScheduleExpression", s->expression},
      {"ScheduleExpressionTimezone", s->time_zone},
      {"State", s->state},
      {"ActionAfterCompletion", s->after_completion},
      {"FlexibleTimeWindow", ParseJson(s->window).value().value},
      {"Target", json::object{{"Arn", s->machine_arn}, {"RoleArn", s->role_arn}, {"Input", s->input}}},
      {"CreationDate", Date(s->creation_ms)},
      {"LastModificationDate", Date(s->update_ms)},
      {"ZflowMissedRuns", s->missed}};
  if (!s->description.empty()) out["Description"] = s->description;
  if (s->start_ms != 0) out["StartDate"] = Date(s->start_ms);
  if (s->end_ms != 0) out["EndDate"] = Date(s->end_ms);
  if (auto next = NextFire(*s); next && s->state == "ENABLED") {
    out["ZflowNextFire"] = Date(Millis(*next));
  }
  return out;
}

Answer Scheduler::Delete(std::string_view name) {
  Status st = store_.DeleteSchedule(name);
  if (st.code() == StatusCode::kNotFound) return NotFound(name);
  if (!st.ok()) return ApiError{"InternalServerException", std::string(st.message()), 500};
  Wake();
  return json::object{};
}

Answer Scheduler::List(const std::map<std::string, std::string>& query) {
  auto all = store_.ListSchedules();
  if (!all.ok()) return ApiError{"InternalServerException", std::string(all.status().message()), 500};
  auto param = [&](std::string_view key) {
    auto it = query.find(std::string(key));
    return it == query.end() ? std::string() : it->second;
  };
  const std::string prefix = param("NamePrefix");
  const std::string state = param("State");
  int limit = 100;
  if (std::string m = param("MaxResults"); !m.empty()) {
    limit = std::clamp(std::atoi(m.c_str()), 1, 100);
  }
  std::string after;
  if (std::string token = param("NextToken"); !token.empty()) {
    auto cursor = PageCursor(token);
    if (!cursor) return Invalid("Invalid NextToken");
    after = *cursor;
  }
  json::array list;
  std::string next;
  for (const auto& s : *all) {
    if (!after.empty() && s.name <= after) continue;
    if (!s.name.starts_with(prefix) || (!state.empty() && s.state != state)) continue;
    if (list.size() == static_cast<std::size_t>(limit)) {
      next = list.back().as_object().at("Name").as_string().c_str();
      break;
    }
    list.push_back(json::object{
        {"Arn", fmt::format("arn:aws:scheduler:{}:{}:schedule/default/{}", options_.region,
                            options_.account, s.name)},
        {"Name", s.name},
        {"GroupName", "default"},
        {"State", s.state},
        {"CreationDate", Date(s.creation_ms)},
        {"LastModificationDate", Date(s.update_ms)},
        {"Target", json::object{{"Arn", s.machine_arn}}}});
  }
  json::object out{{"Schedules", std::move(list)}};
  if (!next.empty()) out["NextToken"] = PageToken(next);
  return out;
}

}  // namespace zflow::server
