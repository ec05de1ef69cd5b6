#include "integrations/lambda.h"

#include "integrations/task_log.h"

#include <fmt/format.h>

#include "asl/evaluation.h"
#include "common/ids.h"
#include "common/subprocess.h"

namespace zflow::integrations {
namespace {

// Runs handler(event, context) from a Python file the way the Lambda Python runtime does: the
// event on stdin, the return value as JSON on stdout (the handler's own prints go to stderr,
// which is the function's log), an exception as {"errorMessage", "errorType", "stackTrace"}.
constexpr const char* kPythonBootstrap = R"py(
import importlib.util, json, os, sys, time, traceback, uuid
path, handler_name, function_name, timeout_ms, arn = sys.argv[1:6]
out = sys.stdout
sys.stdout = sys.stderr
class Context:
    def __init__(self):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/aws/lambda/" + function_name
        self.log_stream_name = "zflow-local"
        self._deadline = time.time() + int(timeout_ms) / 1000.0
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))
context = Context()
def fail(error_type, message, tb=None):
    out.write(json.dumps({"errorMessage": message, "errorType": error_type,
                          "requestId": context.aws_request_id,
                          "stackTrace": traceback.format_tb(tb) if tb else []}))
    out.flush()
    sys.exit(1)
try:
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("lambda_function", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
except Exception as e:
    fail("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (path, e))
handler = getattr(module, handler_name, None)
if handler is None:
    fail("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (handler_name, path))
try:
    event = json.loads(sys.stdin.read() or "null")
    result = handler(event, context)
except Exception as e:
    fail(type(e).__name__, str(e), e.__traceback__)
try:
    text = json.dumps(result)
except Exception as e:
    fail("Runtime.MarshalError", "Unable to marshal response: %s" % e)
out.write(text)
out.flush()
)py";


}  // namespace

std::string LambdaHandler::FunctionName(std::string_view s) {
  // arn:aws:lambda:region:account:function:name[:qualifier], account:function:name[:qualifier],
  // name[:qualifier].
  std::size_t f = s.find("function:");
  if (f != std::string_view::npos) s = s.substr(f + 9);
  std::size_t colon = s.find(':');
  return std::string(colon == std::string_view::npos ? s : s.substr(0, colon));
}

runtime::TaskResult LambdaHandler::Invoke(const runtime::TaskRequest& r) {
  bool integration = r.resource.starts_with("arn:aws:states:::lambda:invoke");
  std::string name;
  json::value event;
  if (integration) {
    const json::object* params = r.input.if_object();
    const json::value* fn = params != nullptr ? params->if_contains("FunctionName") : nullptr;
    if (fn == nullptr || !fn->is_string()) {
      return runtime::TaskResult::Failure(
          "Lambda.InvalidParameterValueException",
          "lambda:invoke needs a string FunctionName in its Parameters");
    }
    name = FunctionName(fn->get_string());
    const json::value* payload = params->if_contains("Payload");
    event = payload != nullptr ? *payload : json::value(json::object());
  } else {
    name = FunctionName(r.resource);
    event = r.input;
  }
  auto it = functions_.find(name);
  if (it == functions_.end()) {
    return runtime::TaskResult::Failure(
        "Lambda.ResourceNotFoundException",
        fmt::format("Function not found: arn:aws:lambda:{}:{}:function:{} (no local handler is "
                    "mapped to it; add it under \"lambda:\" in the profile)",
                    region_, account_, name));
  }
  runtime::TaskResult result = Call(name, it->second, event, r);
  if (!result.ok() || !integration) return result;
  std::string request_id = RandomUuid();
  runtime::TaskResult wrapped = runtime::TaskResult::Success(json::object{
      {"ExecutedVersion", "$LATEST"},
      {"Payload", std::move(*result.output)},
      {"SdkHttpMetadata",
       json::object{{"AllHttpHeaders",
                     json::object{{"X-Amz-Executed-Version", json::array{"$LATEST"}},
                                  {"x-amzn-Remapped-Content-Length", json::array{"0"}},
                                  {"Connection", json::array{"keep-alive"}},
                                  {"x-amzn-RequestId", json::array{request_id}},
                                  {"Content-Type", json::array{"application/json"}}}},
                    {"HttpHeaders", json::object{{"Connection", "keep-alive"},
                                                 {"Content-Type", "application/json"},
                                                 {"X-Amz-Executed-Version", "$LATEST"},
                                                 {"x-amzn-Remapped-Content-Length", "0"},
                                                 {"x-amzn-RequestId", request_id}}},
                    {"HttpStatusCode", 200}}},
      {"SdkResponseMetadata", json::object{{"RequestId", request_id}}},
      {"StatusCode", 200}});
  wrapped.log = std::move(result.log);
  return wrapped;
}

runtime::TaskResult LambdaHandler::Call(const std::string& name, const LambdaFunctionSpec& spec,
                                        const json::value& event,
                                        const runtime::TaskRequest& r) {
  if (spec.function) return spec.function(event);
  std::vector<std::string> argv = spec.command;
  if (!spec.python_file.empty()) {
    argv = {"/usr/bin/python3",
            "-c",
            kPythonBootstrap,
            spec.python_file,
            spec.handler,
            name,
            std::to_string(std::chrono::milliseconds(spec.timeout).count()),
            fmt::format("arn:aws:lambda:{}:{}:function:{}", region_, account_, name)};
  }
  if (argv.empty()) {
    return runtime::TaskResult::Failure("Lambda.ServiceException",
                                        fmt::format("function {} has no local handler", name));
  }
  ProcessOptions options;
  options.env = environment_;
  options.cancel = r.cancelled.get();
  options.on_stderr = r.heartbeat;
  options.timeout = spec.timeout;
  if (r.timeout && *r.timeout < spec.timeout) options.timeout = *r.timeout;
  auto run = RunProcess(argv, ToJsonText(event), options);
  if (!run.ok()) {
    return runtime::TaskResult::Failure("Lambda.ServiceException", run.status().message());
  }
  runtime::TaskResult result = Interpret(*run, argv[0], name, spec.timeout, r);
  result.log = TaskLogTail(run->stderr_text);
  return result;
}

runtime::TaskResult LambdaHandler::Interpret(const ProcessResult& run_result,
                                             const std::string& program, const std::string& name,
                                             std::chrono::seconds spec_timeout,
                                             const runtime::TaskRequest& r) {
  const ProcessResult* run = &run_result;
  if (run->cancelled) {
    return runtime::TaskResult::Failure(std::string(asl::errors::kTaskFailed),
                                        fmt::format("function {} was stopped", name));
  }
  if (run->timed_out) {
    if (r.timeout && *r.timeout < spec_timeout) {
      return runtime::TaskResult::Failure(std::string(asl::errors::kTimeout), "");
    }
    json::object payload{{"errorMessage", fmt::format("Task timed out after {:.2f} seconds",
                                                      static_cast<double>(spec_timeout.count()))},
                         {"errorType", "Sandbox.Timedout"}};
    return runtime::TaskResult::Failure("Sandbox.Timedout", ToJsonText(json::value(payload)));
  }
  std::string_view out = run->stdout_text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\r')) {
    out.remove_suffix(1);
  }
  if (run->exit_code != 0) {
    // A function error: the error payload, or what the process left on stderr.
    auto parsed = ParseJson(out, {.record_locations = false});
    if (parsed.ok() && parsed->value.is_object()) {
      const json::value* type = parsed->value.get_object().if_contains("errorType");
      std::string error = type != nullptr && type->is_string() ? std::string(type->get_string())
                                                               : "Lambda.Unknown";
      return runtime::TaskResult::Failure(error, ToJsonText(parsed->value));
    }
    std::string tail = run->stderr_text.size() > 4096
                           ? run->stderr_text.substr(run->stderr_text.size() - 4096)
                           : run->stderr_text;
    json::object payload{{"errorMessage", fmt::format("{} exited with status {}: {}", program,
                                                      run->exit_code, tail)},
                         {"errorType", "Runtime.ExitError"}};
    return runtime::TaskResult::Failure("Runtime.ExitError", ToJsonText(json::value(payload)));
  }
  if (out.empty()) return runtime::TaskResult::Success(nullptr);
  auto parsed = ParseJson(out, {.record_locations = false});
  if (!parsed.ok()) {
    json::object payload{{"errorMessage", fmt::format("the function's output is not JSON: {}",
                                                      parsed.status().message())},
                         {"errorType", "Runtime.MarshalError"}};
    return runtime::TaskResult::Failure("Runtime.MarshalError", ToJsonText(json::value(payload)));
  }
  return runtime::TaskResult::Success(std::move(parsed->value));
}

}  // namespace zflow::integrations
