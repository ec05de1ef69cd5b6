// zflow serve: the HTTP front of the Step Functions API, the store and the executions.
#include "zflow/server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cloud/sigv4.h"
#include "common/http.h"
#include "server/execution_service.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "server/step_functions_api.h"
#include "server/web_ui.h"
#include "store/store.h"
#include "zflow/local_services.h"

namespace zflow {
namespace fs = std::filesystem;
namespace {

bool IsLoopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

constexpr std::string_view kTargetPrefix = "AWSStepFunctions.";

void SetJson(http::Response& res, const server::ApiResponse& response) {
  res.status = response.http_status;
  if (!response.error_type.empty()) res.SetHeader("x-amzn-ErrorType", response.error_type);
  res.SetContent(response.body, "application/json");
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<LocalServices> services;
  std::unique_ptr<server::ExecutionService> executions;
  std::unique_ptr<server::StepFunctionsApi> api;
  std::unique_ptr<server::Metrics> metrics;
  std::unique_ptr<server::Scheduler> scheduler;
  std::unique_ptr<server::WebUi> ui;
  std::unique_ptr<http::Server> http;
  int port = 0;
  std::size_t recovered = 0;
  int missed_skipped = 0;
  int missed_run = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;  // guarded by mu

  void Serve(const http::Request& req, http::Response& res);
  // With credentials: the AWS error for a request that is not signed with them.
  std::optional<server::ApiError> Authenticate(const http::Request& req);
};

std::optional<server::ApiError> Server::Impl::Authenticate(const http::Request& req) {
  if (options.access_key_id.empty()) return std::nullopt;
  // A browser logged in to the web UI: its session cookie (SameSite=Strict, so other sites'
  // pages do not send it). A request that changes something must also come from this origin.
  if (req.HasHeader("Cookie") && ui->HasSession(req.Header("Cookie"))) {
    const std::string origin = req.Header("Origin");
    if (req.method == "GET" || origin.empty() || origin.ends_with("//" + req.Header("Host"))) {
      return std::nullopt;
    }
    return server::ApiError{"AccessDeniedException",
                            "A request with a session cookie must come from the web UI's origin",
                            403};
  }
  cloud::SigV4Request request;
  request.method = req.method;
  std::string_view target = req.target;
  std::size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  for (const auto& [name, value] : req.headers) request.headers.emplace_back(name, value);
  request.body = req.body;
  const TimePoint now = options.clock != nullptr ? options.clock->Now() : SystemClock().Now();
  cloud::SigV4Verdict verdict = cloud::VerifyRequest(
      request,
      [this](std::string_view id) -> std::optional<std::string> {
        if (id != options.access_key_id) return std::nullopt;
        return options.secret_access_key;
      },
      now);
  const auto* error = std::get_if<cloud::SigV4Error>(&verdict);
  if (error == nullptr) return std::nullopt;
  if (options.log_requests && !error->detail.empty()) {
    fmt::print(stderr, "{}: signature mismatch; zflow computed:\n{}\n", req.remote_addr,
               error->detail);
  }
  return server::ApiError{error->code, error->message, error->http_status};
}

void Server::Impl::Serve(const http::Request& req, http::Response& res) {
  const auto started = std::chrono::steady_clock::now();
  std::string target = req.Header("X-Amz-Target");
  std::string_view action;
  server::ApiResponse response;
  if (auto denied = Authenticate(req)) {
    response = server::ErrorResponse(*denied);
  } else if (!std::string_view(target).starts_with(kTargetPrefix)) {
    response = server::ErrorResponse(server::ApiError{
        "UnknownOperationException",
        target.empty() ? "Missing X-Amz-Target header: requests name their action as "
                         "X-Amz-Target: AWSStepFunctions.<Action>"
                       : fmt::format("Unknown operation: '{}'", target.substr(0, 128)),
        400});
  } else {
    action = std::string_view(target).substr(kTargetPrefix.size());
    response = api->Handle(action, req.body);
  }
  res.status = response.http_status;
  res.SetHeader("x-amzn-RequestId", fmt::format("{:016x}", std::hash<std::string>{}(
                                                                  target + std::to_string(
                                                                      started.time_since_epoch()
                                                                          .count()))));
  res.SetContent(response.body, "application/x-amz-json-1.0");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics->Request(action.empty() ? "unknown" : action, response.error_type, seconds);
  if (options.log_requests) {
    fmt::print(stderr, "{} {} {} {:.1f} ms{}\n", req.remote_addr, action.empty() ? "-" : action,
               res.status, seconds * 1000, response.error_type.empty()
                                                ? ""
                                                : " " + response.error_type);
  }
}

namespace {

// Headers of every web UI page and asset: no framing, no sniffing, scripts from this origin only.
void SetPageHeaders(http::Response& res) {
  res.SetHeader("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data: blob:; style-src 'self' "
                 "'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                 "form-action 'self'");
  res.SetHeader("X-Content-Type-Options", "nosniff");
  res.SetHeader("X-Frame-Options", "DENY");
  res.SetHeader("Referrer-Policy", "no-referrer");
}

// GET handlers of the UI's reads, behind the same authentication as the API.
template <typename Handler>
http::Handler Guarded(Server::Impl& impl, Handler handler) {
  return [&impl, handler](const http::Request& req, http::Response& res) {
    if (auto denied = impl.Authenticate(req)) {
      SetJson(res, server::ErrorResponse(*denied));
      return;
    }
    handler(req, res);
  };
}

}  // namespace

void AddWebUiRoutes(http::Server& routes, Server::Impl& impl, bool tls) {
  server::WebUi& ui = *impl.ui;
  routes.Route("GET", "/", [](const http::Request&, http::Response& res) { res.Redirect("/ui/"); });
  routes.Route("GET", "/ui", [](const http::Request&, http::Response& res) { res.Redirect("/ui/"); });
  routes.Route("GET", R"(/ui/(.*))", [](const http::Request& req, http::Response& res) {
    SetPageHeaders(res);
    std::optional<server::UiAsset> asset = server::FindUiAsset(req.matches[1]);
    if (!asset) {
      if (!server::FindUiAsset("index.html")) {
        res.SetContent("This zflow was built without its web UI: run `make ui`, then build "
                        "again.\n",
                        "text/plain; charset=utf-8");
        return;
      }
      res.status = 404;
      res.SetContent("Not found\n", "text/plain; charset=utf-8");
      return;
    }
    res.SetHeader("ETag", asset->etag);
    res.SetHeader("Cache-Control", "no-cache");
    if (req.Header("If-None-Match") == asset->etag) {
      res.status = 304;
      return;
    }
    res.SetStaticContent(asset->body, std::string(asset->content_type));
  });
  // Sessions. The credentials travel in the body, never in a URL, and are not logged.
  routes.Route("GET", "/zflow/session", [&ui](const http::Request& req, http::Response& res) {
    const bool in = !ui.auth_required() || ui.HasSession(req.Header("Cookie"));
    res.SetHeader("Cache-Control", "no-store");
    res.SetContent(ToJsonText(json::object{{"authRequired", ui.auth_required()},
                                            {"authenticated", in}}),
                    "application/json");
  });
  routes.Route("POST", "/zflow/login", [&ui, tls](const http::Request& req, http::Response& res) {
    auto parsed = ParseJson(req.body);
    const json::object* in = parsed.ok() ? parsed->value.if_object() : nullptr;
    auto field = [&](const char* name) -> std::string {
      const json::value* v = in != nullptr ? in->if_contains(name) : nullptr;
      return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (!ui.auth_required()) {
      SetJson(res, server::ErrorResponse(server::ApiError{
                       "ValidationException",
                       "This server has no credentials: the web UI is open without a login",
                       400}));
      return;
    }
    std::optional<std::string> session =
        ui.Login(field("accessKeyId"), field("secretAccessKey"));
    if (!session) {
      SetJson(res, server::ErrorResponse(server::ApiError{
                       "UnrecognizedClientException",
                       "The access key id or the secret access key is not this server's", 401}));
      return;
    }
    res.SetHeader("Set-Cookie", ui.SessionCookie(*session, tls));
    res.SetHeader("Cache-Control", "no-store");
    res.SetContent("{\"authenticated\":true}", "application/json");
  });
  routes.Route("POST", "/zflow/logout", [&ui, tls](const http::Request& req, http::Response& res) {
    ui.Logout(req.Header("Cookie"));
    res.SetHeader("Set-Cookie", ui.SessionCookie("", tls));
    res.SetContent("{\"authenticated\":false}", "application/json");
  });
  // Reads and actions the Step Functions API has no action for.
  routes.Route("GET", "/zflow/executions", Guarded(impl, [&ui](const http::Request& req,
                                                    http::Response& res) {
             std::map<std::string, std::string> query(req.params.begin(), req.params.end());
             SetJson(res, ui.Executions(query));
           }));
  routes.Route("GET", "/zflow/artifacts", Guarded(impl, [&ui](const http::Request& req,
                                                   http::Response& res) {
             SetJson(res, ui.Artifacts(req.Param("executionArn")));
           }));
  routes.Route("GET", "/zflow/objects", Guarded(impl, [&ui](const http::Request& req,
                                                 http::Response& res) {
             server::ObjectDownload d = ui.Object(req.Param("uri"));
             res.status = d.http_status;
             // Objects are data, never pages of this origin: no scripts, no sniffing.
             res.SetHeader("Content-Security-Policy", "sandbox; default-src 'none'");
             res.SetHeader("X-Content-Type-Options", "nosniff");
             if (d.http_status == 200) {
               const bool inline_ok = req.Param("download").empty() &&
                                      (d.content_type == "application/pdf" ||
                                       d.content_type.starts_with("text/") ||
                                       d.content_type.starts_with("image/png") ||
                                       d.content_type.starts_with("image/jpeg") ||
                                       d.content_type == "application/json");
               std::string safe_name;
               for (char c : d.file_name) {
                 safe_name += std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                                      c == '.' || c == '-' || c == '_'
                                  ? c
                                  : '_';
               }
               res.SetHeader("Content-Disposition",
                              fmt::format("{}; filename=\"{}\"",
                                          inline_ok ? "inline" : "attachment", safe_name));
             }
             res.SetContent(d.body, d.content_type);
           }));
  routes.Route("GET", "/zflow/endpoints", Guarded(impl, [&ui](const http::Request&,
                                                   http::Response& res) {
             SetJson(res, ui.Endpoints());
           }));
  routes.Route("POST", R"(/zflow/endpoints/([^/]+)/invocations)",
            Guarded(impl, [&ui](const http::Request& req, http::Response& res) {
              SetJson(res, ui.InvokeEndpoint(req.matches[1], req.body,
                                             req.Header("Content-Type")));
            }));
  routes.Route("GET", R"(/zflow/pipelines/([^/]+))",
           Guarded(impl, [&ui](const http::Request& req, http::Response& res) {
             SetJson(res, ui.GetPipeline(req.matches[1]));
           }));
  routes.Route("PUT", R"(/zflow/pipelines/([^/]+))",
           Guarded(impl, [&ui](const http::Request& req, http::Response& res) {
             SetJson(res, ui.PutPipeline(req.matches[1], req.body));
           }));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown();
  impl_->http.reset();
  impl_->scheduler.reset();
  impl_->api.reset();
  impl_->executions.reset();
  impl_->services.reset();
  impl_->store.reset();
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  const bool credentials = !options.access_key_id.empty() || !options.secret_access_key.empty();
  if (credentials && (options.access_key_id.empty() || options.secret_access_key.empty())) {
    return InvalidArgumentError(
        "give both an access key id and a secret access key, or neither");
  }
  if (!credentials && !IsLoopback(options.host)) {
    return InvalidArgumentError(fmt::format(
        "refusing to listen on {} without credentials: anyone who can reach it could run "
        "workflows. Give --access-key-id and --secret-access-key (or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY), or listen on 127.0.0.1",
        options.host));
  }
  const bool tls = !options.tls_certificate.empty() || !options.tls_private_key.empty();
  if (tls && (options.tls_certificate.empty() || options.tls_private_key.empty())) {
    return InvalidArgumentError("TLS needs both a certificate and its private key");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) {
    return Status(StatusCode::kPermissionDenied,
                  fmt::format("cannot create the data directory {}: {}", options.data_dir,
                              ec.message()));
  }
  ZFLOW_ASSIGN_OR_RETURN(impl->store,
                         store::Store::Open((fs::path(options.data_dir) / "zflow.db").string()));
  ZFLOW_ASSIGN_OR_RETURN(
      impl->services,
      LocalServices::Start({.profile = options.profile,
                            .work_dir = (fs::path(options.data_dir) / "work").string(),
                            .s3_root = options.s3_root}));
  impl->metrics = std::make_unique<server::Metrics>();
  impl->store->SetEventObserver(
      [metrics = impl->metrics.get()](const runtime::ExecutionInfo& info,
                                      const runtime::HistoryEvent& event) {
        metrics->Event(info, event);
      });
  impl->executions = std::make_unique<server::ExecutionService>(
      server::ExecutionServiceOptions{.region = options.region,
                                      .account = options.account,
                                      .clock = options.clock,
                                      .worker_threads = options.worker_threads},
      *impl->store, *impl->services);
  impl->api = std::make_unique<server::StepFunctionsApi>(
      server::ApiOptions{.region = options.region, .account = options.account}, *impl->store,
      *impl->executions);
  impl->ui = std::make_unique<server::WebUi>(
      server::WebUiOptions{.access_key_id = options.access_key_id,
                           .secret_access_key = options.secret_access_key,
                           .clock = options.clock},
      *impl->store, *impl->api, *impl->services);
  ZFLOW_ASSIGN_OR_RETURN(impl->recovered, impl->executions->Recover());
  impl->scheduler = std::make_unique<server::Scheduler>(
      server::SchedulerOptions{.region = options.region, .account = options.account,
                               .clock = options.clock},
      *impl->store, *impl->api);
  ZFLOW_ASSIGN_OR_RETURN(server::Scheduler::Catchup catchup, impl->scheduler->Start());
  impl->missed_skipped = catchup.skipped;
  impl->missed_run = catchup.run;

  ZFLOW_ASSIGN_OR_RETURN(
      impl->http,
      http::MakeServer({.tls_certificate = options.tls_certificate,
                        .tls_private_key = options.tls_private_key,
                        .threads = options.http_threads,
                        .max_body_bytes = 8 << 20,
                        // answers go out at once, not after the peer's delayed ACK
                        .tcp_nodelay = true,
                        .keep_alive_max_requests = 10000,
                        // An idle keep-alive connection holds a worker thread until this runs
                        // out, and a shutdown waits for it.
                        .keep_alive_timeout_seconds = 2,
                        // GetActivityTask holds a request up to 60 seconds
                        .read_timeout_seconds = 70}));
  http::Server& routes = *impl->http;
  Impl* raw = impl.get();
  routes.Route("POST", "/", [raw](const http::Request& req, http::Response& res) {
    raw->Serve(req, res);
  });
  // Metrics hold counts and durations only (no names, ARNs or data), so a Prometheus scraper,
  // which cannot sign requests, reads them without credentials.
  routes.Route("GET", "/metrics", [raw](const http::Request&, http::Response& res) {
    res.SetContent(raw->metrics->Render(*raw->store, *raw->executions),
                    "text/plain; version=0.0.4");
  });
  // EventBridge Scheduler's REST API (restJson1), for the schedules that start executions.
  auto schedules = [raw](const http::Request& req, http::Response& res) {
    server::ApiResponse response;
    if (auto denied = raw->Authenticate(req)) {
      response = server::ErrorResponse(*denied);
    } else {
      std::map<std::string, std::string> query(req.params.begin(), req.params.end());
      std::string name = req.matches.size() > 1 ? req.matches[1] : std::string();
      response = raw->scheduler->Handle(req.method, name, query, req.body);
    }
    res.status = response.http_status;
    if (!response.error_type.empty()) res.SetHeader("x-amzn-ErrorType", response.error_type);
    res.SetContent(response.body, "application/json");
  };
  routes.Route("GET", "/schedules", schedules);
  constexpr const char* kSchedule = R"(/schedules/([^/]+))";
  routes.Route("GET", kSchedule, schedules);
  routes.Route("POST", kSchedule, schedules);
  routes.Route("PUT", kSchedule, schedules);
  routes.Route("DELETE", kSchedule, schedules);
  // Task logs (a zflow extension: AWS keeps them in CloudWatch Logs):
  // GET /zflow/task-logs?executionArn=ARN -> {"logs": [{"eventId", "stateName", "log"}]}.
  routes.Route("GET", "/zflow/task-logs", [raw](const http::Request& req, http::Response& res) {
    server::ApiResponse response;
    if (auto denied = raw->Authenticate(req)) {
      response = server::ErrorResponse(*denied);
    } else {
      response = raw->api->TaskLogs(req.Param("executionArn"));
    }
    res.status = response.http_status;
    res.SetContent(response.body, "application/json");
  });
  AddWebUiRoutes(routes, *raw, tls);
  routes.Route("GET", "/health", [](const http::Request&, http::Response& res) {
    res.SetContent("{\"status\":\"ok\"}", "application/json");
  });
  routes.SetErrorHandler([](const http::Request&, http::Response& res) {
    if (!res.body.empty()) return;
    server::ApiResponse e = server::ErrorResponse(server::ApiError{
        res.status == 413 ? "ValidationException" : "UnknownOperationException",
        res.status == 413 ? "The request is larger than 8 MiB"
                          : fmt::format("No such resource (HTTP {})", res.status),
        res.status});
    res.SetContent(e.body, "application/x-amz-json-1.0");
  });
  const int port = routes.Bind(options.host, options.port);
  if (port <= 0) {
    return UnavailableError(fmt::format("cannot listen on {}:{} (is the port in use? choose "
                                        "another with --port)",
                                        options.host, options.port));
  }
  impl->port = port;
  routes.Listen();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }

std::string Server::url() const {
  const bool tls = !impl_->options.tls_certificate.empty();
  std::string host = impl_->options.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return fmt::format("{}://{}:{}", tls ? "https" : "http", host, impl_->port);
}

std::size_t Server::recovered() const { return impl_->recovered; }
bool Server::authenticated() const { return !impl_->options.access_key_id.empty(); }

void Server::Wait() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [&] { return impl_->stopped; });
}

void Server::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  if (impl_->http) impl_->http->Stop();
  impl_->cv.notify_all();
}

}  // namespace zflow
