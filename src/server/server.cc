// zflow serve: the HTTP front of the Step Functions API, the store and the executions.
#include "zflow/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cloud/sigv4.h"
#include "server/execution_service.h"
#include "server/metrics.h"
#include "server/scheduler.h"
#include "server/step_functions_api.h"
#include "store/store.h"
#include "zflow/local_services.h"

namespace zflow {
namespace fs = std::filesystem;
namespace {

bool IsLoopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

constexpr std::string_view kTargetPrefix = "AWSStepFunctions.";

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<LocalServices> services;
  std::unique_ptr<server::ExecutionService> executions;
  std::unique_ptr<server::StepFunctionsApi> api;
  std::unique_ptr<server::Metrics> metrics;
  std::unique_ptr<server::Scheduler> scheduler;
  std::unique_ptr<httplib::Server> http;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  int port = 0;
  std::size_t recovered = 0;
  int missed_skipped = 0;
  int missed_run = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;  // guarded by mu

  void Serve(const httplib::Request& req, httplib::Response& res);
  // With credentials: the AWS error for a request that is not signed with them.
  std::optional<server::ApiError> Authenticate(const httplib::Request& req);
};

std::optional<server::ApiError> Server::Impl::Authenticate(const httplib::Request& req) {
  if (options.access_key_id.empty()) return std::nullopt;
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

void Server::Impl::Serve(const httplib::Request& req, httplib::Response& res) {
  const auto started = std::chrono::steady_clock::now();
  std::string target = req.get_header_value("X-Amz-Target");
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
  res.set_header("x-amzn-RequestId", fmt::format("{:016x}", std::hash<std::string>{}(
                                                                  target + std::to_string(
                                                                      started.time_since_epoch()
                                                                          .count()))));
  res.set_content(response.body, "application/x-amz-json-1.0");
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

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown();
  if (impl_->listener.joinable()) impl_->listener.join();
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
                            .work_dir = (fs::path(options.data_dir) / "work").string()}));
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
  ZFLOW_ASSIGN_OR_RETURN(impl->recovered, impl->executions->Recover());
  impl->scheduler = std::make_unique<server::Scheduler>(
      server::SchedulerOptions{.region = options.region, .account = options.account,
                               .clock = options.clock},
      *impl->store, *impl->api);
  ZFLOW_ASSIGN_OR_RETURN(server::Scheduler::Catchup catchup, impl->scheduler->Start());
  impl->missed_skipped = catchup.skipped;
  impl->missed_run = catchup.run;

  if (tls) {
    impl->http = std::make_unique<httplib::SSLServer>(options.tls_certificate.c_str(),
                                                      options.tls_private_key.c_str());
    if (!impl->http->is_valid()) {
      return InvalidArgumentError(fmt::format(
          "cannot use the TLS certificate {} with the key {} (are they PEM files that match?)",
          options.tls_certificate, options.tls_private_key));
    }
  } else {
    impl->http = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *impl->http;
  const int threads = options.http_threads;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(8 << 20);
  http.set_tcp_nodelay(true);  // answers go out at once, not after the peer's delayed ACK
  http.set_keep_alive_max_count(10000);
  // An idle keep-alive connection holds a worker thread until this runs out, and a shutdown
  // waits for it.
  http.set_keep_alive_timeout(2);
  http.set_read_timeout(70, 0);  // GetActivityTask holds a request up to 60 seconds
  auto listening = std::make_shared<std::atomic<int>>(-1);
  http.set_socket_options([listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listening = sock;
  });
  Impl* raw = impl.get();
  http.Post("/", [raw](const httplib::Request& req, httplib::Response& res) {
    raw->Serve(req, res);
  });
  // Metrics hold counts and durations only (no names, ARNs or data), so a Prometheus scraper,
  // which cannot sign requests, reads them without credentials.
  http.Get("/metrics", [raw](const httplib::Request&, httplib::Response& res) {
    res.set_content(raw->metrics->Render(*raw->store, *raw->executions),
                    "text/plain; version=0.0.4");
  });
  // EventBridge Scheduler's REST API (restJson1), for the schedules that start executions.
  auto schedules = [raw](const httplib::Request& req, httplib::Response& res) {
    server::ApiResponse response;
    if (auto denied = raw->Authenticate(req)) {
      response = server::ErrorResponse(*denied);
    } else {
      std::map<std::string, std::string> query(req.params.begin(), req.params.end());
      std::string name = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
      response = raw->scheduler->Handle(req.method, name, query, req.body);
    }
    res.status = response.http_status;
    if (!response.error_type.empty()) res.set_header("x-amzn-ErrorType", response.error_type);
    res.set_content(response.body, "application/json");
  };
  http.Get("/schedules", schedules);
  constexpr const char* kSchedule = R"(/schedules/([^/]+))";
  http.Get(kSchedule, schedules);
  http.Post(kSchedule, schedules);
  http.Put(kSchedule, schedules);
  http.Delete(kSchedule, schedules);
  // Task logs (a zflow extension: AWS keeps them in CloudWatch Logs):
  // GET /zflow/task-logs?executionArn=ARN -> {"logs": [{"eventId", "stateName", "log"}]}.
  http.Get("/zflow/task-logs", [raw](const httplib::Request& req, httplib::Response& res) {
    server::ApiResponse response;
    if (auto denied = raw->Authenticate(req)) {
      response = server::ErrorResponse(*denied);
    } else {
      response = raw->api->TaskLogs(req.get_param_value("executionArn"));
    }
    res.status = response.http_status;
    res.set_content(response.body, "application/json");
  });
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    server::ApiResponse e = server::ErrorResponse(server::ApiError{
        res.status == 413 ? "ValidationException" : "UnknownOperationException",
        res.status == 413 ? "The request is larger than 8 MiB"
                          : fmt::format("No such resource (HTTP {})", res.status),
        res.status});
    res.set_content(e.body, "application/x-amz-json-1.0");
  });
  int port = options.port;
  if (port == 0) {
    port = http.bind_to_any_port(options.host);
  } else if (!http.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return UnavailableError(fmt::format("cannot listen on {}:{} (is the port in use? choose "
                                        "another with --port)",
                                        options.host, options.port));
  }
  // cpp-httplib listens with a backlog of 5: a burst of clients connecting at once (16 SDK
  // clients starting) would see SYNs dropped and retried a second later. Linux takes a new
  // backlog from a second listen().
  if (int fd = listening->load(); fd >= 0) ::listen(fd, SOMAXCONN);
  impl->port = port;
  impl->listener = std::thread([raw] {
    raw->http->listen_after_bind();
    raw->listener_done = true;
  });
  // Serving before Start returns: a stop() that comes before the accept loop runs is lost.
  while (!impl->http->is_running() && !impl->listener_done) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
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
  if (impl_->http) impl_->http->stop();
  impl_->cv.notify_all();
}

}  // namespace zflow
