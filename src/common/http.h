// HTTP for zflow's servers (zflow serve, the Databricks stand-in) and clients (HTTP Tasks, local
// SageMaker endpoints, the command line's calls to zflow serve).
//
// cpp-httplib does the work, but Debian ships it only as a shared library that loads OpenSSL,
// zlib and brotli and initialises OpenSSL when the program starts: about 3 ms on every command,
// even `zflow --help`. So the code that touches cpp-httplib lives behind this interface, in one
// source file built twice: into the `zflow-http.so` module, which the `zflow` command loads the
// first time it serves or calls HTTP, and into a static library that the tests, the benchmarks,
// the Python module and the SDK's programs link directly. Which one a program gets is chosen at
// link time (src/CMakeLists.txt: the ZFLOW_HTTP_AS_MODULE target property).
#ifndef ZFLOW_COMMON_HTTP_H_
#define ZFLOW_COMMON_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zflow/status.h"

namespace zflow::http {

// Header names compare without case; a name may repeat.
using Headers = std::vector<std::pair<std::string, std::string>>;

// The first value of a header, or "".
std::string HeaderValue(const Headers& headers, std::string_view name);

// ---- serving ----

struct Request {
  std::string method;
  std::string target;  // as sent: the path, undecoded, with the query
  std::string path;    // decoded, without the query
  Headers headers;
  std::vector<std::pair<std::string, std::string>> params;  // the decoded query
  std::vector<std::string> matches;  // the route pattern's match: [0] the path, then the groups
  std::string body;
  std::string remote_addr;

  bool HasHeader(std::string_view name) const;
  std::string Header(std::string_view name) const { return HeaderValue(headers, name); }
  std::string Param(std::string_view name) const;  // the first value, or ""
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Sent instead of `body` when not empty: bytes that outlive the server (the embedded web UI).
  std::string_view static_body;
  std::string content_type;

  void SetHeader(std::string name, std::string value);
  void SetContent(std::string content, std::string type);
  void SetStaticContent(std::string_view content, std::string type);
  void Redirect(std::string location);  // 302 Found
};

using Handler = std::function<void(const Request&, Response&)>;

struct ServerOptions {
  // PEM files, both or neither: HTTPS with them.
  std::string tls_certificate;
  std::string tls_private_key;
  int threads = 8;  // requests handled at once
  std::size_t max_body_bytes = 8 << 20;  // a larger request is answered 413
  bool tcp_nodelay = false;
  int keep_alive_max_requests = 5;
  int keep_alive_timeout_seconds = 5;  // an idle connection holds a thread this long
  int read_timeout_seconds = 5;
};

// One HTTP server: routes, then Listen, then Stop (or destruction) ends it.
class Server {
 public:
  virtual ~Server() = default;

  // `pattern` is an ECMAScript regular expression matched against the whole decoded path; its
  // groups are the request's `matches`. Routes are tried in the order they were added.
  virtual void Route(std::string_view method, const std::string& pattern, Handler handler) = 0;
  // Called for answers of 400 and above (unrouted paths, bodies too large, a handler's own
  // errors), with the status and the body so far: it may set a body.
  virtual void SetErrorHandler(Handler handler) = 0;
  // Binds host:port (port 0: any free port) with SO_REUSEADDR and a full listen backlog; the
  // port, or -1 when it cannot.
  virtual int Bind(const std::string& host, int port) = 0;
  // Accepts connections on a thread of its own; returns once it accepts.
  virtual void Listen() = 0;
  // Stops accepting, and waits for the accepting thread. Idempotent.
  virtual void Stop() = 0;
};

// A server; kInvalidArgument when the TLS files cannot be used.
Result<std::unique_ptr<Server>> MakeServer(const ServerOptions& options);

// ---- calling ----

struct Call {
  std::string base_url;  // "http://host:port" or "https://host:port"
  std::string method = "GET";
  std::string path = "/";  // with the query
  Headers headers;
  std::string body;
  std::string content_type;  // sent as Content-Type when not empty
  long connect_timeout_seconds = 300;
  long read_timeout_seconds = 5;
  long write_timeout_seconds = 5;
};

struct Reply {
  std::string error;  // not empty: no answer came, and this says why
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;

  bool ok() const { return error.empty(); }
  std::string Header(std::string_view name) const { return HeaderValue(headers, name); }
};

// Sends one request on a connection of its own. Redirects are not followed.
Reply Send(const Call& call);

// ---- the implementation's entry points (src/common/http_backend.cc) ----

struct Backend {
  int version;
  // nullptr and `error` set when the options cannot be used.
  std::unique_ptr<Server> (*make_server)(const ServerOptions& options, std::string* error);
  Reply (*send)(const Call& call);
};
inline constexpr int kBackendVersion = 1;

// The backend linked into this program, or the module's, loaded on the first call.
Result<const Backend*> LoadBackend();

}  // namespace zflow::http

#endif  // ZFLOW_COMMON_HTTP_H_
