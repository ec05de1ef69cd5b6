// The HTTP backend on cpp-httplib (see common/http.h): built into the zflow-http.so module and
// into the zflow_http_linked library. It must not call out-of-line functions of the rest of
// zflow: the module resolves its symbols against cpp-httplib and the C++ runtime only.
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/http.h"

namespace zflow::http {
namespace {

Request ToRequest(const httplib::Request& req) {
  Request out;
  out.method = req.method;
  out.target = req.target;
  out.path = req.path;
  out.headers.assign(req.headers.begin(), req.headers.end());
  out.params.assign(req.params.begin(), req.params.end());
  out.matches.reserve(req.matches.size());
  for (const auto& m : req.matches) out.matches.push_back(m.str());
  out.body = req.body;
  out.remote_addr = req.remote_addr;
  return out;
}

void FromResponse(Response& in, httplib::Response& res) {
  res.status = in.status;
  for (auto& [k, v] : in.headers) res.headers.emplace(std::move(k), std::move(v));
  if (!in.static_body.empty()) {
    res.set_content(in.static_body.data(), in.static_body.size(), in.content_type);
  } else if (!in.body.empty() || !in.content_type.empty()) {
    res.body = std::move(in.body);
    if (!in.content_type.empty()) res.set_header("Content-Type", in.content_type);
  }
}

class HttplibServer final : public Server {
 public:
  explicit HttplibServer(std::unique_ptr<httplib::Server> http) : http_(std::move(http)) {}
  ~HttplibServer() override { Stop(); }

  void Route(std::string_view method, const std::string& pattern, Handler handler) override {
    httplib::Server::Handler wrapped = [handler = std::move(handler)](const httplib::Request& req,
                                                                      httplib::Response& res) {
      Request in = ToRequest(req);
      Response out;
      handler(in, out);
      FromResponse(out, res);
    };
    if (method == "GET") {
      http_->Get(pattern, std::move(wrapped));
    } else if (method == "POST") {
      http_->Post(pattern, std::move(wrapped));
    } else if (method == "PUT") {
      http_->Put(pattern, std::move(wrapped));
    } else if (method == "DELETE") {
      http_->Delete(pattern, std::move(wrapped));
    } else if (method == "PATCH") {
      http_->Patch(pattern, std::move(wrapped));
    } else if (method == "OPTIONS") {
      http_->Options(pattern, std::move(wrapped));
    }
  }

  void SetErrorHandler(Handler handler) override {
    http_->set_error_handler([handler = std::move(handler)](const httplib::Request& req,
                                                            httplib::Response& res) {
      Request in = ToRequest(req);
      Response out;
      out.status = res.status;
      out.body = res.body;
      handler(in, out);
      if (out.body != res.body || !out.static_body.empty()) {
        res.headers.erase("Content-Type");
        res.body.clear();
      }
      FromResponse(out, res);
    });
  }

  int Bind(const std::string& host, int port) override {
    // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, which would let a second
    // server share a port that is in use.
    auto listening = std::make_shared<std::atomic<int>>(-1);
    http_->set_socket_options([listening](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      *listening = sock;
    });
    int bound = port;
    if (port == 0) {
      bound = http_->bind_to_any_port(host);
    } else if (!http_->bind_to_port(host, port)) {
      bound = -1;
    }
    if (bound <= 0) return -1;
    // cpp-httplib listens with a backlog of 5: a burst of clients connecting at once would see
    // SYNs dropped and retried a second later. Linux takes a new backlog from a second listen().
    if (int fd = listening->load(); fd >= 0) ::listen(fd, SOMAXCONN);
    return bound;
  }

  void Listen() override {
    listener_ = std::thread([this] {
      http_->listen_after_bind();
      listener_done_ = true;
    });
    // A stop() that came before the accept loop runs would be lost: return once it runs.
    while (!http_->is_running() && !listener_done_) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  void Stop() override {
    http_->stop();
    if (listener_.joinable()) listener_.join();
  }

 private:
  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
  std::atomic<bool> listener_done_{false};
};

std::unique_ptr<Server> MakeHttplibServer(const ServerOptions& options, std::string* error) {
  std::unique_ptr<httplib::Server> http;
  if (!options.tls_certificate.empty() || !options.tls_private_key.empty()) {
    http = std::make_unique<httplib::SSLServer>(options.tls_certificate.c_str(),
                                                options.tls_private_key.c_str());
    if (!http->is_valid()) {
      *error = "cannot use the TLS certificate " + options.tls_certificate + " with the key " +
               options.tls_private_key + " (are they PEM files that match?)";
      return nullptr;
    }
  } else {
    http = std::make_unique<httplib::Server>();
  }
  const int threads = options.threads;
  http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http->set_payload_max_length(options.max_body_bytes);
  http->set_tcp_nodelay(options.tcp_nodelay);
  http->set_keep_alive_max_count(options.keep_alive_max_requests);
  http->set_keep_alive_timeout(options.keep_alive_timeout_seconds);
  http->set_read_timeout(options.read_timeout_seconds, 0);
  return std::make_unique<HttplibServer>(std::move(http));
}

Reply SendWithHttplib(const Call& call) {
  httplib::Request request;
  request.method = call.method;
  request.path = call.path;
  for (const auto& [k, v] : call.headers) request.set_header(k, v);
  if (!call.content_type.empty()) request.set_header("Content-Type", call.content_type);
  request.body = call.body;
  Reply reply;
  httplib::Client client(call.base_url);
  if (!client.is_valid()) {
    reply.error = "not a URL this client can call: " + call.base_url;
    return reply;
  }
  client.set_connection_timeout(std::chrono::seconds(call.connect_timeout_seconds));
  client.set_read_timeout(std::chrono::seconds(call.read_timeout_seconds));
  client.set_write_timeout(std::chrono::seconds(call.write_timeout_seconds));
  client.set_follow_location(false);
  httplib::Result answer = client.send(request);
  if (!answer) {
    reply.error = httplib::to_string(answer.error());
    return reply;
  }
  reply.status = answer->status;
  reply.reason = answer->reason;
  reply.headers.assign(answer->headers.begin(), answer->headers.end());
  reply.body = std::move(answer->body);
  return reply;
}

constexpr Backend kBackend{kBackendVersion, &MakeHttplibServer, &SendWithHttplib};

}  // namespace
}  // namespace zflow::http

extern "C" __attribute__((visibility("default"))) const zflow::http::Backend*
zflow_http_backend() {
  return &zflow::http::kBackend;
}
