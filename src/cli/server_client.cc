#include "cli/server_client.h"


#include <cstdlib>

#include <fmt/format.h>

#include "cloud/sigv4.h"
#include "common/http.h"

namespace zflow::cli {

std::string DefaultEndpoint() {
  const char* env = std::getenv("ZFLOW_ENDPOINT");
  return env != nullptr && *env != '\0' ? env : "http://127.0.0.1:8083";
}

Result<ServerClient> ServerClient::Connect(std::string endpoint, std::string region) {
  ServerClient c;
  std::string_view rest = endpoint;
  if (rest.starts_with("http://")) {
    c.scheme_ = "http";
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    c.scheme_ = "https";
    rest.remove_prefix(8);
  } else {
    return InvalidArgumentError(
        fmt::format("{}: the endpoint is a URL such as http://127.0.0.1:8083", endpoint));
  }
  while (rest.ends_with("/")) rest.remove_suffix(1);
  std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || rest.find('/') != std::string_view::npos) {
    c.host_ = std::string(rest);
    c.port_ = c.scheme_ == "https" ? 443 : 80;
  } else {
    c.host_ = std::string(rest.substr(0, colon));
    c.port_ = std::atoi(std::string(rest.substr(colon + 1)).c_str());
    if (c.port_ <= 0 || c.port_ > 65535) {
      return InvalidArgumentError(fmt::format("{}: bad port", endpoint));
    }
  }
  c.endpoint_ = fmt::format("{}://{}:{}", c.scheme_, c.host_, c.port_);
  c.region_ = std::move(region);
  return c;
}

Result<json::object> ServerClient::Call(std::string_view action, const json::object& request) const {
  return Send("POST", "/", fmt::format("AWSStepFunctions.{}", action), ToJsonText(request));
}

Result<json::object> ServerClient::Rest(std::string_view method, std::string_view path,
                                        std::string_view body) const {
  return Send(method, path, "", body);
}

Result<json::object> ServerClient::Send(std::string_view method, std::string_view path,
                                        std::string_view target, std::string_view body) const {
  // The signature covers the path and the query apart.
  const std::size_t question = path.find('?');
  cloud::SigV4Request request{.method = std::string(method),
                              .path = std::string(path.substr(0, question)),
                              .query = question == std::string_view::npos
                                           ? std::string()
                                           : std::string(path.substr(question + 1)),
                              .body = body};
  request.headers = {{"Host", fmt::format("{}:{}", host_, port_)},
                     {"Content-Type", target.empty() ? "application/json"
                                                     : "application/x-amz-json-1.0"}};
  if (!target.empty()) request.headers.emplace_back("X-Amz-Target", std::string(target));
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (id != nullptr && secret != nullptr && *id != '\0' && *secret != '\0') {
    const char* session = std::getenv("AWS_SESSION_TOKEN");
    ZFLOW_RETURN_IF_ERROR(cloud::SignRequest(
        request, {id, secret, session != nullptr ? session : ""},
        {.region = region_, .service = target.empty() ? "scheduler" : "states"},
        SystemClock().Now()));
  }
  http::Call call{.base_url = fmt::format("{}://{}:{}", scheme_, host_, port_),
                  .method = std::string(method),
                  .path = std::string(path),
                  .connect_timeout_seconds = 5,
                  .read_timeout_seconds = 75};
  for (auto& [k, v] : request.headers) {
    if (k == "Host") continue;
    if (k == "Content-Type") {
      if (method != "GET") call.content_type = v;  // a GET has no body
      continue;
    }
    call.headers.emplace_back(k, v);
  }
  if (method != "GET") call.body = std::string(body);
  // A module that cannot load is an installation problem, and said as such.
  if (auto backend = http::LoadBackend(); !backend.ok()) return backend.status();
  http::Reply res = http::Send(call);
  if (!res.ok()) {
    return UnavailableError(fmt::format(
        "cannot reach zflow serve at {} ({}); start it with `zflow serve` or point "
        "--endpoint-url / ZFLOW_ENDPOINT at it",
        endpoint_, res.error));
  }
  auto parsed = ParseJson(res.body.empty() ? std::string_view("{}") : res.body);
  if (!parsed.ok() || !parsed->value.is_object()) {
    return UnavailableError(fmt::format("{} answered HTTP {} with something that is not JSON",
                                        endpoint_, res.status));
  }
  json::object out = std::move(parsed->value.as_object());
  if (res.status == 200) return out;
  std::string type = res.Header("x-amzn-ErrorType");
  if (const json::value* t = out.if_contains("__type"); t != nullptr && t->is_string()) {
    std::string_view s = t->as_string();
    type = std::string(s.substr(s.find('#') + 1));
  }
  std::string message;
  for (std::string_view key : {"message", "Message"}) {
    if (const json::value* m = out.if_contains(key); m != nullptr && m->is_string()) {
      message = std::string(m->as_string());
    }
  }
  StatusCode code = StatusCode::kInvalidArgument;
  if (type.ends_with("DoesNotExist") || type == "ResourceNotFoundException" ||
      type == "ResourceNotFound") {
    code = StatusCode::kNotFound;
  } else if (type.ends_with("AlreadyExists") || type == "ConflictException") {
    code = StatusCode::kAlreadyExists;
  } else if (res.status == 403 || type.find("Signature") != std::string::npos ||
             type == "UnrecognizedClientException") {
    code = StatusCode::kPermissionDenied;
  } else if (res.status >= 500) {
    code = StatusCode::kUnavailable;
  }
  return Status(code, fmt::format("{}: {}", type, message));
}

}  // namespace zflow::cli
