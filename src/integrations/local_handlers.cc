#include "integrations/local_handlers.h"

#include <charconv>

#include <fmt/format.h>

#include "asl/evaluation.h"
#include "common/subprocess.h"
#include "integrations/task_log.h"

namespace zflow::integrations {
namespace {

class EchoHandler final : public runtime::TaskHandler {
 public:
  runtime::TaskResult Invoke(const runtime::TaskRequest& r) override {
    return runtime::TaskResult::Success(r.input);
  }
  bool inline_safe() const override { return true; }
};

class CommandHandler final : public runtime::TaskHandler {
 public:
  explicit CommandHandler(std::vector<std::string> argv) : argv_(std::move(argv)) {}

  runtime::TaskResult Invoke(const runtime::TaskRequest& r) override {
    ProcessOptions options;
    options.cancel = r.cancelled.get();
    options.on_stderr = r.heartbeat;  // anything on stderr is a sign of life
    if (r.timeout) options.timeout = *r.timeout;  // the process group dies with the task
    auto run = RunProcess(argv_, ToJsonText(r.input), options);
    if (!run.ok()) {
      return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                          run.status().message());
    }
    runtime::TaskResult result = Interpret(*run);
    result.log = TaskLogTail(run->stderr_text);
    return result;
  }

 private:
  runtime::TaskResult Interpret(const ProcessResult& finished) const {
    const ProcessResult* run = &finished;
    if (run->timed_out || run->cancelled) {
      return runtime::TaskResult::Failure(
          std::string(run->timed_out ? asl::errors::kTimeout : asl::errors::kTaskFailed),
          fmt::format("{} was stopped ({})", argv_[0],
                      run->timed_out ? "TimeoutSeconds passed" : "the task was cancelled"));
    }
    if (run->exit_code != 0) {
      for (const std::string* text : {&run->stdout_text, &run->stderr_text}) {
        auto parsed = ParseJson(*text, {.record_locations = false});
        if (parsed.ok() && parsed->value.is_object()) {
          const json::object& o = parsed->value.get_object();
          const json::value* type = o.if_contains("errorType");
          const json::value* message = o.if_contains("errorMessage");
          if (type != nullptr && type->is_string()) {
            return runtime::TaskResult::Failure(
                std::string(type->get_string()),
                message != nullptr && message->is_string() ? std::string(message->get_string())
                                                           : std::string());
          }
        }
      }
      return runtime::TaskResult::Failure(
          std::string(asl::errors::kTaskFailed),
          fmt::format("{} exited with status {}: {}", argv_[0], run->exit_code,
                      run->stderr_text.substr(0, 4096)));
    }
    std::string_view out = run->stdout_text;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.remove_suffix(1);
    if (out.empty()) return runtime::TaskResult::Success(nullptr);
    auto parsed = ParseJson(out, {.record_locations = false});
    if (!parsed.ok()) {
      return runtime::TaskResult::Failure(
          std::string(asl::errors::kTaskFailed),
          fmt::format("{} printed output that is not JSON ({})", argv_[0],
                      parsed.status().message()));
    }
    return runtime::TaskResult::Success(std::move(parsed->value));
  }

  std::vector<std::string> argv_;
};

// "3" -> [3, 3]; "1-2" -> [1, 2].
std::optional<std::pair<std::int64_t, std::int64_t>> ParseAttempts(std::string_view key) {
  auto number = [](std::string_view s) -> std::optional<std::int64_t> {
    std::int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
  };
  std::size_t dash = key.find('-');
  if (dash == std::string_view::npos) {
    auto v = number(key);
    if (!v) return std::nullopt;
    return std::pair{*v, *v};
  }
  auto a = number(key.substr(0, dash));
  auto b = number(key.substr(dash + 1));
  if (!a || !b || *b < *a) return std::nullopt;
  return std::pair{*a, *b};
}

}  // namespace

std::shared_ptr<runtime::TaskHandler> MakeEchoHandler() { return std::make_shared<EchoHandler>(); }

std::shared_ptr<runtime::TaskHandler> MakeCommandHandler(std::vector<std::string> argv) {
  return std::make_shared<CommandHandler>(std::move(argv));
}

Result<std::shared_ptr<MockHandler>> MockHandler::Create(
    const json::value& config, std::string_view machine_name, std::string_view test_case,
    std::shared_ptr<runtime::TaskHandler> fallback) {
  auto bad = [](const std::string& what) { return InvalidArgumentError("mock config: " + what); };
  if (!config.is_object()) return bad("the top level must be an object");
  const json::value* machines = config.get_object().if_contains("StateMachines");
  const json::value* responses = config.get_object().if_contains("MockedResponses");
  if (machines == nullptr || !machines->is_object()) return bad("\"StateMachines\" is missing");
  if (responses == nullptr || !responses->is_object()) {
    return bad("\"MockedResponses\" is missing");
  }
  // The machine: by name, or the only one that has the test case.
  const json::value* cases = nullptr;
  std::vector<std::string> with_case;
  for (const auto& [name, m] : machines->get_object()) {
    const json::value* tc = m.is_object() ? m.get_object().if_contains("TestCases") : nullptr;
    if (tc == nullptr || !tc->is_object()) continue;
    if (name == machine_name) cases = tc;
    if (tc->get_object().contains(test_case)) with_case.push_back(std::string(name));
  }
  if (cases == nullptr || !cases->get_object().contains(test_case)) {
    if (with_case.size() == 1) {
      cases = &machines->get_object().at(with_case[0]).get_object().at("TestCases");
    } else if (with_case.empty()) {
      return bad(fmt::format("no state machine has a test case named \"{}\"", test_case));
    } else {
      return bad(fmt::format("several state machines have the test case \"{}\" ({}); name the "
                             "one to use",
                             test_case, fmt::join(with_case, ", ")));
    }
  }
  auto handler = std::shared_ptr<MockHandler>(new MockHandler());
  handler->fallback_ = std::move(fallback);
  for (const auto& [state, response_name] : cases->get_object().at(test_case).as_object()) {
    if (!response_name.is_string()) {
      return bad(fmt::format("test case \"{}\": state \"{}\" must name a mocked response",
                             test_case, std::string_view(state)));
    }
    const json::value* r = responses->get_object().if_contains(response_name.get_string());
    if (r == nullptr || !r->is_object()) {
      return bad(fmt::format("MockedResponses has no \"{}\" (used by state \"{}\")",
                             std::string_view(response_name.get_string()),
                             std::string_view(state)));
    }
    std::vector<Response> list;
    for (const auto& [key, entry] : r->get_object()) {
      auto attempts = ParseAttempts(key);
      if (!attempts || !entry.is_object()) {
        return bad(fmt::format("response \"{}\": \"{}\" must be an attempt number or range "
                               "(\"0\", \"1-2\") holding Return or Throw",
                               std::string_view(response_name.get_string()),
                               std::string_view(key)));
      }
      Response resp;
      resp.first = attempts->first;
      resp.last = attempts->second;
      if (const json::value* ret = entry.get_object().if_contains("Return")) {
        resp.value = *ret;
      } else if (const json::value* t = entry.get_object().if_contains("Throw")) {
        const json::value* e = t->is_object() ? t->get_object().if_contains("Error") : nullptr;
        const json::value* c = t->is_object() ? t->get_object().if_contains("Cause") : nullptr;
        if (e == nullptr || !e->is_string()) {
          return bad(fmt::format("response \"{}\": Throw needs an \"Error\" string",
                                 std::string_view(response_name.get_string())));
        }
        resp.error = std::string(e->get_string());
        if (c != nullptr && c->is_string()) resp.cause = std::string(c->get_string());
      } else {
        return bad(fmt::format("response \"{}\": attempt \"{}\" needs Return or Throw",
                               std::string_view(response_name.get_string()),
                               std::string_view(key)));
      }
      list.push_back(std::move(resp));
    }
    std::sort(list.begin(), list.end(),
              [](const Response& a, const Response& b) { return a.first < b.first; });
    handler->by_state_.emplace(std::string(state), std::move(list));
  }
  return handler;
}

runtime::TaskResult MockHandler::Invoke(const runtime::TaskRequest& request) {
  auto it = by_state_.find(request.state_name);
  if (it == by_state_.end() || it->second.empty()) {
    if (fallback_ != nullptr) return fallback_->Invoke(request);
    return runtime::TaskResult::Failure(
        std::string(asl::errors::kRuntime),
        fmt::format("The test case does not mock the state '{}' and no local handler serves '{}'",
                    request.state_name, request.resource));
  }
  std::string execution;
  if (request.context.is_object()) {
    if (const json::value* e = request.context.get_object().if_contains("Execution")) {
      if (const json::value* id = e->as_object().if_contains("Id")) {
        execution = ToJsonText(*id);
      }
    }
  }
  std::int64_t attempt = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    attempt = invocations_[execution + "\n" + request.state_name]++;
  }
  const Response* chosen = &it->second.back();
  for (const Response& r : it->second) {
    if (attempt >= r.first && attempt <= r.last) {
      chosen = &r;
      break;
    }
  }
  if (chosen->value) return runtime::TaskResult::Success(*chosen->value);
  return runtime::TaskResult::Failure(chosen->error, chosen->cause);
}

}  // namespace zflow::integrations
