#include "integrations/framework_container.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/file.h"
#include "common/subprocess.h"
#include "integrations/sagemaker.h"

namespace zflow::integrations {
namespace fs = std::filesystem;
namespace {

// The model server of a framework container: imports the user's inference script and serves
// it. The script's training code sits under `if __name__ == "__main__":`, so importing it does
// not train. Default handlers follow the scikit-learn container: model_fn is required;
// input_fn decodes text/csv, application/json and application/x-npy into a NumPy array;
// predict_fn calls model.predict; output_fn encodes to the Accept type (default
// $SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else application/json).
constexpr std::string_view kModelServer = R"py(
import importlib.util, io, json, os, sys, traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

code_dir = os.environ["SAGEMAKER_SUBMIT_DIRECTORY"]
program = os.environ["SAGEMAKER_PROGRAM"]
model_dir = os.environ["SM_MODEL_DIR"]
default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "application/json")
sys.path.insert(0, code_dir)
os.chdir(code_dir)
spec = importlib.util.spec_from_file_location(os.path.splitext(program)[0],
                                              os.path.join(code_dir, program))
user = importlib.util.module_from_spec(spec)
spec.loader.exec_module(user)


def default_model_fn(directory):
    raise NotImplementedError("Please provide a model_fn implementation in %s: the framework "
                              "container has no default for it" % program)


def text(body):
    return body.decode("utf-8") if isinstance(body, bytes) else body


def default_input_fn(body, content_type):
    if content_type.startswith("text/csv"):
        return np.atleast_2d(np.genfromtxt(io.StringIO(text(body)), delimiter=",", dtype=float))
    if content_type.startswith("application/json"):
        return np.array(json.loads(text(body)))
    if content_type.startswith("application/x-npy"):
        return np.load(io.BytesIO(body), allow_pickle=False)
    raise ValueError("the default input_fn takes text/csv, application/json or "
                     "application/x-npy, not %s" % content_type)


def default_predict_fn(data, model):
    return model.predict(data)


def default_output_fn(prediction, accept):
    array = np.asarray(prediction)
    if accept.startswith("application/json"):
        return json.dumps(array.tolist()), "application/json"
    if accept.startswith("text/csv"):
        rows = array.reshape(len(array), -1) if array.ndim > 0 else array.reshape(1, 1)
        return "\n".join(",".join(str(v.item() if hasattr(v, "item") else v) for v in row)
                         for row in rows) + "\n", "text/csv"
    if accept.startswith("application/x-npy"):
        buffer = io.BytesIO()
        np.save(buffer, array)
        return buffer.getvalue(), "application/x-npy"
    raise ValueError("the default output_fn encodes application/json, text/csv or "
                     "application/x-npy, not %s" % accept)


model = getattr(user, "model_fn", default_model_fn)(model_dir)
input_fn = getattr(user, "input_fn", default_input_fn)
predict_fn = getattr(user, "predict_fn", default_predict_fn)
output_fn = getattr(user, "output_fn", default_output_fn)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200 if self.path == "/ping" else 404)
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        content_type = self.headers.get("Content-Type", "application/json")
        accept = self.headers.get("Accept") or default_accept
        if accept == "*/*":
            accept = default_accept
        try:
            if content_type.startswith(("text/", "application/json")):
                body = body.decode("utf-8")
            result = output_fn(predict_fn(input_fn(body, content_type), model), accept)
            answer, answer_type = result if isinstance(result, tuple) else (result, accept)
            answer = answer.encode("utf-8") if isinstance(answer, str) else bytes(answer)
            status = 200
        except Exception:
            traceback.print_exc()
            answer = traceback.format_exc().strip().splitlines()[-1].encode("utf-8")
            answer_type, status = "text/plain", 500
        self.send_response(status)
        self.send_header("Content-Type", answer_type)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["SAGEMAKER_BIND_TO_PORT"])), Handler).serve_forever()
)py";

// Fetches an s3:// tar.gz and unpacks it into `into`.
Status Unpack(runtime::ObjectStore& store, std::string_view uri, const fs::path& into,
              std::string_view what) {
  auto split = SplitS3Uri(uri);
  if (!split || split->first.empty() || split->second.empty()) {
    return InvalidArgumentError(fmt::format("{} \"{}\" is not an s3://bucket/key URI", what, uri));
  }
  auto data = store.Get(split->first, split->second);
  if (!data.ok()) {
    return InvalidArgumentError(fmt::format("{} {}: {}", what, uri, data.status().message()));
  }
  std::error_code ec;
  fs::create_directories(into, ec);
  const fs::path archive = into.parent_path() / (into.filename().string() + ".tar.gz");
  ZFLOW_RETURN_IF_ERROR(WriteFileAtomically(archive.string(), *data));
  auto untar = RunProcess({"tar", "-xzf", archive.string(), "-C", into.string()});
  if (!untar.ok() || untar->exit_code != 0) {
    return InvalidArgumentError(fmt::format("{} {} is not a gzipped tar archive", what, uri));
  }
  return Status::Ok();
}

Status CheckProgram(const fs::path& code, const std::string& program, std::string_view source) {
  if (program.empty() || program.find("..") != std::string::npos || program.front() == '/') {
    return InvalidArgumentError(fmt::format("the entry script \"{}\" must be a relative path in "
                                            "the source directory",
                                            program));
  }
  std::error_code ec;
  if (!fs::is_regular_file(code / program, ec)) {
    return InvalidArgumentError(
        fmt::format("the entry script {} is not in the source directory {}", program, source));
  }
  return Status::Ok();
}

}  // namespace

std::string DecodeSdkValue(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"') {
    auto parsed = ParseJson(value, {.record_locations = false});
    if (parsed.ok() && parsed->value.is_string()) return std::string(parsed->value.as_string());
  }
  return std::string(value);
}

Result<ScriptLaunch> PrepareFrameworkTraining(const json::object& hyperparameters,
                                              runtime::ObjectStore& store, const fs::path& job) {
  auto get = [&](std::string_view key) -> std::string {
    const json::value* v = hyperparameters.if_contains(key);
    return v != nullptr && v->is_string() ? DecodeSdkValue(v->as_string()) : std::string();
  };
  const std::string program = get("sagemaker_program");
  const std::string source = get("sagemaker_submit_directory");
  if (program.empty()) {
    return InvalidArgumentError(
        "ClientError: the framework container needs the hyperparameter sagemaker_program (the "
        "entry script), as the SageMaker SDK sets it");
  }
  if (source.empty()) {
    return InvalidArgumentError(
        "ClientError: the framework container needs the hyperparameter "
        "sagemaker_submit_directory (an s3:// tar.gz of the source directory)");
  }
  const fs::path code = job / "code";
  if (Status s = Unpack(store, source, code, "sagemaker_submit_directory"); !s.ok()) {
    return InvalidArgumentError(fmt::format("ClientError: {}", s.message()));
  }
  if (Status s = CheckProgram(code, program, source); !s.ok()) {
    return InvalidArgumentError(fmt::format("ClientError: {}", s.message()));
  }
  ScriptLaunch launch{.argv = {"/usr/bin/python3", (code / program).string()},
                      .working_directory = code.string()};
  json::object user_hps;
  json::array user_args;
  for (const auto& [key, value] : hyperparameters) {
    if (std::string_view(key).starts_with("sagemaker_") || !value.is_string()) continue;
    std::string decoded = DecodeSdkValue(value.as_string());
    launch.argv.push_back(fmt::format("--{}", std::string_view(key)));
    launch.argv.push_back(decoded);
    user_args.emplace_back(fmt::format("--{}", std::string_view(key)));
    user_args.emplace_back(decoded);
    // Numbers and booleans as JSON values, strings as strings (what SM_HPS holds).
    auto parsed = ParseJson(decoded, {.record_locations = false});
    user_hps[key] = parsed.ok() && !parsed->value.is_object() && !parsed->value.is_array()
                        ? parsed->value
                        : json::value(decoded);
  }
  std::string module = program.substr(0, program.rfind(".py"));
  launch.env = {{"SM_MODULE_DIR", source},
                {"SM_MODULE_NAME", module},
                {"SM_USER_ENTRY_POINT", program},
                {"SM_USER_ARGS", ToJsonText(json::value(user_args))},
                {"SM_HPS", ToJsonText(json::value(user_hps))},
                {"SM_FRAMEWORK_MODULE", "zflow-local"},
                {"PYTHONPATH", code.string()}};
  return launch;
}

Result<ScriptLaunch> PrepareFrameworkServing(const std::map<std::string, std::string>& model_env,
                                             runtime::ObjectStore& store, const fs::path& dir) {
  auto get = [&](const char* key) -> std::string {
    auto it = model_env.find(key);
    return it == model_env.end() ? std::string() : DecodeSdkValue(it->second);
  };
  const std::string program = get("SAGEMAKER_PROGRAM");
  if (program.empty()) {
    return InvalidArgumentError(
        "the model's Environment has no SAGEMAKER_PROGRAM: a framework container serves the "
        "inference script it names (with model_fn), as the SageMaker SDK sets it");
  }
  std::string source = get("SAGEMAKER_SUBMIT_DIRECTORY");
  fs::path code = dir / "model" / "code";  // the SDK's repacked model.tar.gz keeps it there
  if (source.starts_with("s3://")) {
    code = dir / "code";
    ZFLOW_RETURN_IF_ERROR(Unpack(store, source, code, "SAGEMAKER_SUBMIT_DIRECTORY"));
  } else if (source.empty()) {
    source = "the model archive's code/ directory";
  }
  ZFLOW_RETURN_IF_ERROR(CheckProgram(code, program, source));
  const fs::path server = dir / "zflow_framework_server.py";
  ZFLOW_RETURN_IF_ERROR(WriteFileAtomically(server.string(), kModelServer));
  return ScriptLaunch{.argv = {"/usr/bin/python3", server.string()},
                      .env = {{"SAGEMAKER_PROGRAM", program},
                              {"SAGEMAKER_SUBMIT_DIRECTORY", code.string()},
                              {"PYTHONPATH", code.string()}},
                      .working_directory = dir.string()};
}

std::string ScriptFailureReason(int exit_code, std::string_view stderr_text,
                                const std::vector<std::string>& argv) {
  // The last lines that are not blank, at most 8 and 1,000 characters: the exception, under
  // its traceback.
  std::vector<std::string_view> lines;
  std::string_view rest = stderr_text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back(line);
  }
  std::string message;
  for (std::size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i) {
    message += std::string(lines[i]) + "\n";
  }
  if (message.size() > 1000) message = message.substr(message.size() - 1000);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  return fmt::format("AlgorithmError: ExecuteUserScriptError:\nExitCode {}\nErrorMessage \"{}\"\n"
                     "Command \"{}\", exit code: {}",
                     exit_code, message, command, exit_code);
}

}  // namespace zflow::integrations
