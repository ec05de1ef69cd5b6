#include "integrations/databricks.h"

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "common/file.h"
#include "common/http.h"
#include "common/subprocess.h"

namespace zflow::integrations {
namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Error(http::Response& res, int status, std::string_view code, std::string message) {
  res.status = status;
  res.SetContent(ToJsonText(json::value(json::object{{"error_code", code}, {"message", message}})),
                  "application/json");
}

}  // namespace

struct DatabricksServer::Impl {
  struct Run {
    std::int64_t id = 0;
    std::string name;
    std::string task_key;
    std::string life_cycle = "PENDING";
    std::string result;  // empty while running
    std::string message;
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    std::atomic<bool> cancel{false};
    std::thread worker;
  };

  DatabricksOptions options;
  std::unique_ptr<http::Server> server;
  std::mutex mu;
  std::map<std::int64_t, std::unique_ptr<Run>> runs;  // guarded by mu
  std::map<std::string, std::int64_t> tokens;         // idempotency_token -> run; guarded
  std::int64_t next_id = 1001;                        // guarded

  // The local file for a python_file path, by the longest mapped prefix.
  std::optional<std::string> LocalFile(const std::string& path) const {
    std::string best_prefix;
    std::string best_dir;
    for (const auto& [prefix, dir] : options.files) {
      if (path.starts_with(prefix) && prefix.size() > best_prefix.size()) {
        best_prefix = prefix;
        best_dir = dir;
      }
    }
    if (best_prefix.empty()) return std::nullopt;
    std::string rest = path.substr(best_prefix.size());
    if (rest.find("..") != std::string::npos) return std::nullopt;
    return (std::filesystem::path(best_dir) / rest).string();
  }

  json::value Describe(const Run& r, const std::string& url) const {
    json::object state{{"life_cycle_state", r.life_cycle}, {"state_message", r.message},
                       {"user_cancelled_or_timedout", r.result == "CANCELED"}};
    if (!r.result.empty()) state["result_state"] = r.result;
    json::object out{{"run_id", r.id},
                     {"run_name", r.name},
                     {"run_page_url", fmt::format("{}/#job/runs/{}", url, r.id)},
                     {"start_time", r.start_ms},
                     {"state", state},
                     {"tasks", json::array{json::object{{"task_key", r.task_key},
                                                        {"run_id", r.id},
                                                        {"state", state}}}}};
    if (r.end_ms != 0) out["end_time"] = r.end_ms;
    return out;
  }

  void Submit(const http::Request& req, http::Response& res, const std::string& url) {
    auto body = ParseJson(req.body, {.record_locations = false});
    if (!body.ok() || !body->value.is_object()) {
      return Error(res, 400, "MALFORMED_REQUEST", "The request body is not a JSON object.");
    }
    const json::object& b = body->value.get_object();
    const json::value* tasks = b.if_contains("tasks");
    if (tasks == nullptr || !tasks->is_array() || tasks->get_array().size() != 1) {
      return Error(res, 400, "INVALID_PARAMETER_VALUE",
                   "The local stand-in runs submissions with exactly one task.");
    }
    const json::object* task = tasks->get_array()[0].if_object();
    const json::value* python = task != nullptr ? task->if_contains("spark_python_task") : nullptr;
    const json::value* file =
        python != nullptr && python->is_object() ? python->get_object().if_contains("python_file")
                                                 : nullptr;
    if (file == nullptr || !file->is_string()) {
      return Error(res, 400, "INVALID_PARAMETER_VALUE",
                   "The task needs spark_python_task.python_file (the only task type run locally).");
    }
    std::vector<std::string> argv = {"/usr/bin/python3"};
    std::optional<std::string> local = LocalFile(std::string(file->get_string()));
    if (const json::value* ps = python->get_object().if_contains("parameters"); ps && ps->is_array()) {
      for (const auto& p : ps->get_array()) {
        argv.push_back(p.is_string() ? std::string(p.get_string()) : ToJsonText(p));
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    std::string token;
    if (const json::value* t = b.if_contains("idempotency_token"); t && t->is_string()) {
      token = std::string(t->get_string());
      if (auto it = tokens.find(token); it != tokens.end()) {
        res.SetContent(ToJsonText(json::value(json::object{{"run_id", it->second}})),
                        "application/json");
        return;
      }
    }
    auto run = std::make_unique<Run>();
    run->id = next_id++;
    if (const json::value* n = b.if_contains("run_name"); n && n->is_string()) {
      run->name = std::string(n->get_string());
    }
    if (const json::value* k = task->if_contains("task_key"); k && k->is_string()) {
      run->task_key = std::string(k->get_string());
    }
    run->start_ms = NowMs();
    if (!token.empty()) tokens[token] = run->id;
    Run* r = run.get();
    if (!local) {
      r->life_cycle = "INTERNAL_ERROR";
      r->result = "FAILED";
      r->message = fmt::format("{} is not mapped to a local file (profile: databricks.files)",
                               file->get_string());
      r->end_ms = NowMs();
    } else {
      argv.insert(argv.begin() + 1, *local);
      r->life_cycle = "RUNNING";
      r->worker = std::thread([this, r, argv] {
        ProcessOptions po;
        po.cancel = &r->cancel;
        if (!options.s3_root.empty()) po.env["ZFLOW_S3_ROOT"] = options.s3_root;
        auto result = RunProcess(argv, "", po);
        if (!options.log_dir.empty() && result.ok()) {
          std::error_code ec;
          std::filesystem::create_directories(options.log_dir, ec);
          (void)WriteFileAtomically(
              (std::filesystem::path(options.log_dir) / fmt::format("{}.log", r->id)).string(),
              result->stdout_text + result->stderr_text);
        }
        std::lock_guard<std::mutex> l(mu);
        r->end_ms = NowMs();
        r->life_cycle = "TERMINATED";
        if (!result.ok()) {
          r->life_cycle = "INTERNAL_ERROR";
          r->result = "FAILED";
          r->message = result.status().message();
        } else if (result->cancelled) {
          r->result = "CANCELED";
          r->message = "Run cancelled.";
        } else if (result->exit_code != 0) {
          r->result = "FAILED";
          std::string tail = result->stderr_text.size() > 2000
                                 ? result->stderr_text.substr(result->stderr_text.size() - 2000)
                                 : result->stderr_text;
          while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
          r->message = tail.empty() ? fmt::format("the script exited with status {}",
                                                  result->exit_code)
                                    : tail;
        } else {
          r->result = "SUCCESS";
          r->message = "";
        }
      });
    }
    runs.emplace(r->id, std::move(run));
    res.SetContent(ToJsonText(json::value(json::object{{"run_id", r->id}})), "application/json");
    (void)url;
  }

  Run* Find(const std::string& id_text) {
    try {
      auto it = runs.find(std::stoll(id_text));
      return it == runs.end() ? nullptr : it->second.get();
    } catch (const std::exception&) {
      return nullptr;
    }
  }
};

DatabricksServer::DatabricksServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<DatabricksServer>> DatabricksServer::Start(DatabricksOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  Impl* i = impl.get();
  ZFLOW_ASSIGN_OR_RETURN(i->server, http::MakeServer({}));
  const int port = i->server->Bind("127.0.0.1", i->options.port);
  if (port <= 0) {
    return UnavailableError(fmt::format(
        "the Databricks stand-in cannot listen on 127.0.0.1:{} (is the port in use? set "
        "databricks.port in the profile)",
        i->options.port));
  }
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  i->server->Route("POST", R"(/api/2\.[12]/jobs/runs/submit)",
                 [i, url](const http::Request& req, http::Response& res) {
                   i->Submit(req, res, url);
                 });
  i->server->Route("GET", R"(/api/2\.[12]/jobs/runs/get)",
                [i, url](const http::Request& req, http::Response& res) {
                  std::lock_guard<std::mutex> lock(i->mu);
                  Impl::Run* r = i->Find(req.Param("run_id"));
                  if (r == nullptr) {
                    return Error(res, 400, "INVALID_PARAMETER_VALUE",
                                 fmt::format("Run {} does not exist.",
                                             req.Param("run_id")));
                  }
                  res.SetContent(ToJsonText(i->Describe(*r, url)), "application/json");
                });
  i->server->Route("POST", R"(/api/2\.[12]/jobs/runs/cancel)",
                 [i](const http::Request& req, http::Response& res) {
                   auto body = ParseJson(req.body, {.record_locations = false});
                   const json::value* id =
                       body.ok() && body->value.is_object()
                           ? body->value.get_object().if_contains("run_id")
                           : nullptr;
                   std::lock_guard<std::mutex> lock(i->mu);
                   Impl::Run* r = id != nullptr ? i->Find(ToJsonText(*id)) : nullptr;
                   if (r == nullptr) {
                     return Error(res, 400, "INVALID_PARAMETER_VALUE", "Run does not exist.");
                   }
                   r->cancel = true;  // a no-op for a finished run
                   res.SetContent("{}", "application/json");
                 });
  i->server->Listen();
  std::unique_ptr<DatabricksServer> s(new DatabricksServer(std::move(impl)));
  s->port_ = port;
  return s;
}

DatabricksServer::~DatabricksServer() {
  // No new runs, then stop the running ones (their process groups are killed).
  impl_->server->Stop();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& [id, r] : impl_->runs) r->cancel = true;
  }
  for (auto& [id, r] : impl_->runs) {
    if (r->worker.joinable()) r->worker.join();
  }
}

}  // namespace zflow::integrations
