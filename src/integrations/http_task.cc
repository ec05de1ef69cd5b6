#include "integrations/http_task.h"


#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "asl/evaluation.h"
#include "common/http.h"
#include "common/percent_encoding.h"

namespace zflow::integrations {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The request headers the HTTP Task refuses (AWS: "forbidden headers").
bool Forbidden(std::string_view name) {
  static const char* kForbidden[] = {
      "a-im", "accept-charset", "accept-datetime", "accept-encoding", "authorization",
      "cache-control", "connection", "content-encoding", "content-length", "content-md5", "date",
      "expect", "forwarded", "from", "host", "http2-settings", "max-forwards", "origin",
      "pragma", "proxy-authorization", "referer", "server", "te", "trailer",
      "transfer-encoding", "upgrade", "via", "warning"};
  std::string l = Lower(name);
  if (l.starts_with("if-") || l.starts_with("x-forwarded-") || l.starts_with("x-amz-") ||
      l.starts_with("x-amzn-")) {
    return true;
  }
  return std::find(std::begin(kForbidden), std::end(kForbidden), l) != std::end(kForbidden);
}

std::string ScalarText(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : ToJsonText(v);
}

runtime::TaskResult Runtime(std::string cause) {
  return runtime::TaskResult::Failure(std::string(asl::errors::kRuntime), std::move(cause));
}

// "https://host:port/path?q" -> ("https://host:port", "/path?q"); nullopt for another scheme.
std::optional<std::pair<std::string, std::string>> SplitUrl(const std::string& url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  std::string scheme = Lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::size_t path = url.find_first_of("/?#", scheme_end + 3);
  std::string origin = url.substr(0, path);
  if (origin.size() == scheme_end + 3) return std::nullopt;  // no host
  std::string rest = path == std::string::npos ? "/" : url.substr(path);
  if (std::size_t hash = rest.find('#'); hash != std::string::npos) rest.resize(hash);
  if (rest.empty() || rest.front() != '/') rest = "/" + rest;
  return std::make_pair(origin, rest);
}

}  // namespace

runtime::TaskResult HttpTaskHandler::Invoke(const runtime::TaskRequest& r) {
  const json::object* p = r.input.if_object();
  if (p == nullptr) return Runtime("the HTTP Task's Parameters are not an object");
  const json::value* endpoint = p->if_contains("ApiEndpoint");
  const json::value* method = p->if_contains("Method");
  if (endpoint == nullptr || !endpoint->is_string() || method == nullptr || !method->is_string()) {
    return Runtime("the HTTP Task needs string ApiEndpoint and Method parameters");
  }
  std::string m(method->get_string());
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"};
  if (std::find(std::begin(kMethods), std::end(kMethods), m) == std::end(kMethods)) {
    return Runtime(fmt::format("Method \"{}\" is not one of GET, POST, PUT, DELETE, PATCH, "
                               "OPTIONS, HEAD",
                               m));
  }
  std::string connection;
  for (const char* holder : {"Authentication", "InvocationConfig"}) {
    const json::value* h = p->if_contains(holder);
    const json::value* arn = h != nullptr && h->is_object() ? h->get_object().if_contains("ConnectionArn") : nullptr;
    if (arn != nullptr && arn->is_string()) connection = std::string(arn->get_string());
  }
  if (connection.empty()) {
    return Runtime("the HTTP Task needs a connection (Authentication.ConnectionArn or "
                   "InvocationConfig.ConnectionArn)");
  }
  // URL with the query parameters.
  std::string url(endpoint->get_string());
  if (const json::value* q = p->if_contains("QueryParameters"); q != nullptr && q->is_object()) {
    std::string query;
    auto add = [&](std::string_view k, const json::value& v) {
      query += fmt::format("{}{}={}", query.empty() ? "" : "&", PercentEncode(k), PercentEncode(ScalarText(v)));
    };
    for (const auto& [k, v] : q->get_object()) {
      if (v.is_array()) {
        for (const auto& item : v.get_array()) add(k, item);
      } else {
        add(k, v);
      }
    }
    if (!query.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + query;
  }
  auto target = SplitUrl(url);
  if (!target) {
    return runtime::TaskResult::Failure(
        "States.Http.Socket", fmt::format("{} {}: only http:// and https:// URLs with a host can "
                                          "be called", m, url));
  }
  // Headers: the connection's, then the task's.
  http::Call call{.base_url = target->first,
                  .method = m,
                  .path = target->second,
                  .connect_timeout_seconds = timeout_seconds_,
                  .read_timeout_seconds = timeout_seconds_,
                  .write_timeout_seconds = timeout_seconds_};
  if (auto it = connections_.find(connection); it != connections_.end()) {
    for (const auto& [k, v] : it->second) call.headers.emplace_back(k, v);
  }
  bool has_content_type = false;
  if (const json::value* h = p->if_contains("Headers"); h != nullptr && h->is_object()) {
    for (const auto& [k, v] : h->get_object()) {
      if (Forbidden(k)) {
        return Runtime(fmt::format("the header \"{}\" cannot be set by an HTTP Task",
                                   std::string(k)));
      }
      has_content_type = has_content_type || Lower(k) == "content-type";
      call.headers.emplace_back(std::string(k), ScalarText(v));
    }
  }
  if (const json::value* b = p->if_contains("RequestBody")) {
    call.body = b->is_string() ? std::string(b->get_string()) : ToJsonText(*b);
    if (!has_content_type) {
      call.headers.emplace_back("Content-Type", b->is_string()
                                                    ? "application/x-www-form-urlencoded"
                                                    : "application/json");
    }
  }
  call.headers.emplace_back("User-Agent", "Amazon|StepFunctions|HttpInvoke|us-east-1");
  call.headers.emplace_back("Accept", "*/*");
  http::Reply answer = http::Send(call);
  if (!answer.ok()) {
    return runtime::TaskResult::Failure("States.Http.Socket",
                                        fmt::format("{} {}: {}", m, url, answer.error));
  }
  const long status = answer.status;
  // The response's headers, as lists of values.
  json::object header_map;
  for (const auto& [key, value] : answer.headers) {
    json::value& list = header_map[key];
    if (!list.is_array()) list = json::array();
    list.as_array().emplace_back(value);
  }
  const std::string status_text = answer.reason;
  const std::string& response = answer.body;
  json::value parsed_body = json::value(response);
  if (auto j = ParseJson(response, {.record_locations = false}); j.ok()) parsed_body = j->value;
  json::object out{{"Headers", std::move(header_map)},
                   {"ResponseBody", std::move(parsed_body)},
                   {"StatusCode", status},
                   {"StatusText", status_text}};
  if (status < 200 || status > 299) {
    return runtime::TaskResult::Failure(fmt::format("States.Http.StatusCode.{}", status),
                                        ToJsonText(json::value(out)));
  }
  return runtime::TaskResult::Success(std::move(out));
}

}  // namespace zflow::integrations
