// The web UI's side of zflow serve: the built front end (ui/dist, embedded in the binary), login
// sessions for browsers, and the reads the Step Functions API has no action for (executions by
// start time, a run's artifacts in the object store, local endpoints, pipelines' step graphs).
// Everything else the UI shows it reads through the Step Functions API itself, like any client.
//
// Routes (wired in server.cc): GET / -> /ui/; GET /ui/... (the pages); POST /zflow/login,
// POST /zflow/logout, GET /zflow/session; GET /zflow/executions, /zflow/artifacts,
// /zflow/objects, /zflow/endpoints; POST /zflow/endpoints/NAME/invocations;
// GET|PUT /zflow/pipelines/NAME.
#ifndef ZFLOW_SERVER_WEB_UI_H_
#define ZFLOW_SERVER_WEB_UI_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "server/step_functions_api.h"
#include "store/store.h"
#include "zflow/clock.h"
#include "zflow/local_services.h"

namespace zflow::server {

// A file of the built front end.
struct UiAsset {
  std::string_view content_type;
  std::string_view body;  // sent compressed when the browser takes gzip (the HTTP backend does it)
  std::string etag;       // "\"<hash>\""
};

// The asset at a path under /ui/ ("assets/app.js"); the page (index.html) for any other path,
// since the front end routes itself. nullopt when the binary was built without the front end.
std::optional<UiAsset> FindUiAsset(std::string_view path);

struct WebUiOptions {
  // The server's credentials: when set, browsers log in with them and get a session.
  std::string access_key_id;
  std::string secret_access_key;
  std::chrono::seconds session_lifetime = std::chrono::hours(12);
  Clock* clock = nullptr;  // default: the system clock
};

// A download from the object store.
struct ObjectDownload {
  int http_status = 200;
  std::string content_type;
  std::string body;  // the object, or a JSON error
  std::string file_name;
};

class WebUi {
 public:
  WebUi(WebUiOptions options, store::Store& store, StepFunctionsApi& api,
        LocalServices& services);

  // ---- sessions (thread-safe) ----
  bool auth_required() const { return !options_.access_key_id.empty(); }
  // A new session's id when the credentials are the server's, else nullopt. Compared in
  // constant time.
  std::optional<std::string> Login(std::string_view access_key_id,
                                   std::string_view secret_access_key);
  // Whether a Cookie header carries a live session.
  bool HasSession(std::string_view cookie_header);
  void Logout(std::string_view cookie_header);
  // The Set-Cookie value for a session id (empty id: one that clears the cookie).
  std::string SessionCookie(std::string_view id, bool secure) const;

  // ---- reads and actions (thread-safe); bodies are JSON ----
  // ListExecutions with a start-time window: query stateMachineArn, statusFilter, maxResults,
  // nextToken (as ListExecutions), startedAfter / startedBefore (epoch milliseconds).
  ApiResponse Executions(const std::map<std::string, std::string>& query);
  // The objects a run refers to: every s3:// URI in its history that names an object, or a
  // prefix with objects under it. {"artifacts": [{"uri", "size", "lastModified"}]}.
  ApiResponse Artifacts(std::string_view execution_arn);
  ObjectDownload Object(std::string_view uri);
  // The local endpoints pipelines deployed: {"endpoints": [{"name", "status", "config",
  // "url", "failure"}]}.
  ApiResponse Endpoints();
  // Posts `body` to the endpoint's /invocations: {"body", "contentType"} or an error.
  ApiResponse InvokeEndpoint(std::string_view name, std::string_view body,
                             std::string_view content_type);
  // A pipeline's step graph (Pipeline::StepGraph), by state machine name.
  ApiResponse PutPipeline(std::string_view name, std::string_view graph);
  ApiResponse GetPipeline(std::string_view name);

 private:
  TimePoint Now() const;

  WebUiOptions options_;
  store::Store& store_;
  StepFunctionsApi& api_;
  LocalServices& services_;

  std::mutex sessions_mu_;
  std::map<std::string, TimePoint, std::less<>> sessions_;  // guarded by sessions_mu_
};

}  // namespace zflow::server

#endif  // ZFLOW_SERVER_WEB_UI_H_
