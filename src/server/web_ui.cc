#include "server/web_ui.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "integrations/sagemaker.h"

namespace zflow::server {
namespace {

constexpr std::string_view kCookieName = "zflow_session";
constexpr std::size_t kMaxSessions = 10000;
constexpr std::size_t kMaxArtifacts = 500;
constexpr std::size_t kMaxObjectsPerPrefix = 100;
constexpr std::size_t kMaxGraphBytes = 1 << 20;

ApiResponse Json(const json::object& body) { return ApiResponse{200, ToJsonText(body), {}}; }

ApiResponse Fail(std::string type, std::string message, int status = 400) {
  return ErrorResponse(ApiError{std::move(type), std::move(message), status});
}

bool EqualSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The session id in a Cookie header ("a=1; zflow_session=ID; b=2"), or empty.
std::string_view SessionId(std::string_view cookies) {
  while (!cookies.empty()) {
    std::size_t end = cookies.find(';');
    std::string_view pair = cookies.substr(0, end);
    cookies = end == std::string_view::npos ? std::string_view() : cookies.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > kCookieName.size() && pair.starts_with(kCookieName) &&
        pair[kCookieName.size()] == '=') {
      return pair.substr(kCookieName.size() + 1);
    }
  }
  return {};
}

std::optional<std::int64_t> ParseInt(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Characters that end an s3:// URI inside JSON text (quotes, escapes, separators).
bool EndsUri(char c) {
  return c == '"' || c == '\\' || c == ' ' || c == ',' || c == '\'' || c == '\n' || c == '}' ||
         c == ']' || static_cast<unsigned char>(c) < 0x20;
}

std::string_view ContentTypeFor(std::string_view key) {
  std::size_t dot = key.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : key.substr(dot + 1);
  if (ext == "pdf") return "application/pdf";
  if (ext == "json") return "application/json";
  if (ext == "csv" || ext == "out") return "text/csv; charset=utf-8";
  if (ext == "txt" || ext == "log" || ext == "md") return "text/plain; charset=utf-8";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gz" || ext == "tgz") return "application/gzip";
  return "application/octet-stream";
}

}  // namespace

WebUi::WebUi(WebUiOptions options, store::Store& store, StepFunctionsApi& api,
             LocalServices& services)
    : options_(std::move(options)), store_(store), api_(api), services_(services) {}

TimePoint WebUi::Now() const {
  return options_.clock != nullptr ? options_.clock->Now() : SystemClock().Now();
}

// ---- sessions ----

std::optional<std::string> WebUi::Login(std::string_view access_key_id,
                                        std::string_view secret_access_key) {
  if (!auth_required()) return std::nullopt;
  // Both compared, whatever the first says, so the time taken tells nothing.
  const bool id_ok = EqualSecret(access_key_id, options_.access_key_id);
  const bool secret_ok = EqualSecret(secret_access_key, options_.secret_access_key);
  if (!id_ok || !secret_ok) return std::nullopt;
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return std::nullopt;
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  const TimePoint now = Now();
  std::lock_guard<std::mutex> lock(sessions_mu_);
  std::erase_if(sessions_, [&](const auto& s) { return s.second <= now; });
  if (sessions_.size() >= kMaxSessions) sessions_.erase(sessions_.begin());
  sessions_[id] = now + options_.session_lifetime;
  return id;
}

bool WebUi::HasSession(std::string_view cookie_header) {
  std::string_view id = SessionId(cookie_header);
  if (id.empty()) return false;
  std::lock_guard<std::mutex> lock(sessions_mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  if (it->second <= Now()) {
    sessions_.erase(it);
    return false;
  }
  return true;
}

void WebUi::Logout(std::string_view cookie_header) {
  std::string_view id = SessionId(cookie_header);
  std::lock_guard<std::mutex> lock(sessions_mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

std::string WebUi::SessionCookie(std::string_view id, bool secure) const {
  const auto max_age = id.empty() ? std::chrono::seconds(0) : options_.session_lifetime;
  return fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", kCookieName, id,
                     max_age.count(), secure ? "; Secure" : "");
}

// ---- reads ----

ApiResponse WebUi::Executions(const std::map<std::string, std::string>& query) {
  json::object in;
  StepFunctionsApi::StartWindow window;
  for (const auto& [key, value] : query) {
    if (key == "stateMachineArn" || key == "statusFilter" || key == "nextToken") {
      if (!value.empty()) in[key] = value;
    } else if (key == "maxResults" || key == "startedAfter" || key == "startedBefore") {
      if (value.empty()) continue;
      std::optional<std::int64_t> n = ParseInt(value);
      if (!n || *n < 0) {
        return Fail("ValidationException",
                    fmt::format("{} must be a non-negative integer, not '{}'", key,
                                value.substr(0, 64)));
      }
      if (key == "maxResults") in[key] = *n;
      if (key == "startedAfter") window.started_after_ms = *n;
      if (key == "startedBefore") window.started_before_ms = *n;
    }
  }
  Answer answer = api_.ListExecutions(in, window);
  if (!answer.ok()) return ErrorResponse(answer.error());
  return Json(answer.body());
}

ApiResponse WebUi::Artifacts(std::string_view execution_arn) {
  auto e = store_.GetExecution(execution_arn);
  if (!e.ok()) {
    return Fail("ExecutionDoesNotExist",
                fmt::format("Execution Does Not Exist: '{}'", execution_arn.substr(0, 256)));
  }
  // Every s3:// URI the run's input, parameters and results mention.
  std::set<std::string> uris;
  auto scan = [&](std::string_view text) {
    for (std::size_t at = text.find("s3://"); at != std::string_view::npos && uris.size() < 1000;
         at = text.find("s3://", at + 5)) {
      std::size_t end = at + 5;
      while (end < text.size() && !EndsUri(text[end])) ++end;
      if (end > at + 5) uris.emplace(text.substr(at, end - at));
    }
  };
  scan(e->input);
  for (std::int64_t from = 1; from > 0;) {
    auto page = store_.Events(e->id, from, 1000, false);
    if (!page.ok()) return ErrorResponse(ApiError{"InternalServerError", page.status().message(), 500});
    for (const std::string& event : page->events) scan(event);
    from = page->next_id;
  }
  runtime::ObjectStore& objects = services_.object_store();
  json::array out;
  std::set<std::string> seen;
  auto add = [&](const std::string& bucket, const runtime::ObjectStore::ObjectInfo& o) {
    std::string uri = fmt::format("s3://{}/{}", bucket, o.key);
    if (out.size() >= kMaxArtifacts || !seen.insert(uri).second) return;
    out.push_back(json::object{{"uri", uri}, {"size", o.size}, {"lastModified", o.last_modified}});
  };
  for (const std::string& uri : uris) {
    auto split = integrations::SplitS3Uri(uri);
    if (!split || split->first.empty()) continue;
    const auto& [bucket, key] = *split;
    std::string prefix = key.empty() || key.back() == '/' ? key : key + "/";
    auto exact = key.empty() || key.back() == '/'
                     ? Result<std::vector<runtime::ObjectStore::ObjectInfo>>(
                           std::vector<runtime::ObjectStore::ObjectInfo>{})
                     : objects.List(bucket, key);
    if (exact.ok()) {
      for (const auto& o : *exact) {
        if (o.key == key) add(bucket, o);
      }
    }
    // Objects under a prefix belong to this run when the prefix names it (".../runs/<name>/");
    // a shared prefix (all models, the raw data) would list other runs' objects.
    if (uri.find(e->name) == std::string::npos) continue;
    auto under = objects.List(bucket, prefix);
    if (!under.ok()) continue;
    std::size_t n = 0;
    for (const auto& o : *under) {
      if (++n > kMaxObjectsPerPrefix) break;
      add(bucket, o);
    }
  }
  std::sort(out.begin(), out.end(), [](const json::value& a, const json::value& b) {
    return a.as_object().at("uri").as_string() < b.as_object().at("uri").as_string();
  });
  return Json(json::object{{"artifacts", std::move(out)}});
}

ObjectDownload WebUi::Object(std::string_view uri) {
  auto split = integrations::SplitS3Uri(uri);
  if (!split || split->first.empty() || split->second.empty() || split->second.back() == '/') {
    ApiResponse e = Fail("ValidationException",
                         fmt::format("uri must name an object as s3://bucket/key, not '{}'",
                                     uri.substr(0, 256)));
    return ObjectDownload{e.http_status, "application/json", e.body, {}};
  }
  const auto& [bucket, key] = *split;
  auto data = services_.object_store().Get(bucket, key);
  if (!data.ok()) {
    const bool missing = data.status().code() == StatusCode::kNotFound;
    ApiResponse e = Fail(missing ? "NoSuchKey" : "ValidationException",
                         std::string(data.status().message()), missing ? 404 : 400);
    return ObjectDownload{e.http_status, "application/json", e.body, {}};
  }
  std::size_t slash = key.rfind('/');
  return ObjectDownload{200, std::string(ContentTypeFor(key)), std::move(*data),
                        slash == std::string::npos ? key : key.substr(slash + 1)};
}

ApiResponse WebUi::Endpoints() {
  auto endpoints = integrations::ListEndpoints(services_.work_dir());
  if (!endpoints.ok()) {
    return Fail("InternalServerError", std::string(endpoints.status().message()), 500);
  }
  json::array out;
  for (const auto& e : *endpoints) {
    json::object item{{"name", e.name}, {"status", e.status}, {"config", e.config}};
    if (e.status == "InService") {
      item["url"] = fmt::format("http://127.0.0.1:{}/invocations", e.port);
    }
    if (!e.failure.empty()) item["failure"] = e.failure;
    out.push_back(std::move(item));
  }
  return Json(json::object{{"endpoints", std::move(out)}});
}

ApiResponse WebUi::InvokeEndpoint(std::string_view name, std::string_view body,
                                  std::string_view content_type) {
  if (body.size() > (6 << 20)) {
    return Fail("ValidationException", "The body is larger than 6 MB, the invocation limit", 413);
  }
  auto answer = integrations::InvokeEndpoint(services_.work_dir(), std::string(name),
                                             std::string(body),
                                             content_type.empty() ? "text/csv"
                                                                  : std::string(content_type));
  if (!answer.ok()) {
    const bool missing = answer.status().code() == StatusCode::kNotFound;
    return Fail(missing ? "ValidationException" : "ModelError",
                std::string(answer.status().message()), missing ? 404 : 424);
  }
  return Json(json::object{{"body", ValidUtf8(*answer)}});
}

ApiResponse WebUi::PutPipeline(std::string_view name, std::string_view graph) {
  if (graph.size() > kMaxGraphBytes) {
    return Fail("ValidationException", "A pipeline's step graph is limited to 1 MiB", 413);
  }
  auto parsed = ParseJson(graph);
  const json::object* o = parsed.ok() ? parsed->value.if_object() : nullptr;
  const json::value* steps = o != nullptr ? o->if_contains("steps") : nullptr;
  if (steps == nullptr || !steps->is_array()) {
    return Fail("ValidationException",
                parsed.ok() ? "A step graph is a JSON object with a \"steps\" array"
                            : fmt::format("The step graph is not JSON: {}",
                                          parsed.status().message()));
  }
  const std::string arn = api_.MachineArn(name);
  if (!store_.GetStateMachine(arn).ok()) {
    return Fail("StateMachineDoesNotExist",
                fmt::format("State Machine Does Not Exist: '{}'", arn));
  }
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
  Status s = store_.PutPipelineGraph(arn, ToJsonText(parsed->value), now_ms);
  if (!s.ok()) return Fail("InternalServerError", std::string(s.message()), 500);
  return Json(json::object{{"stateMachineArn", arn}});
}

ApiResponse WebUi::GetPipeline(std::string_view name) {
  auto graph = store_.GetPipelineGraph(api_.MachineArn(name));
  if (!graph.ok()) {
    return Fail("ResourceNotFound",
                fmt::format("No pipeline step graph for the state machine '{}'",
                            name.substr(0, 80)),
                404);
  }
  return ApiResponse{200, std::move(*graph), {}};
}

}  // namespace zflow::server
