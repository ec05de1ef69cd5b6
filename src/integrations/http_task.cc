#include "integrations/http_task.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include <fmt/format.h>

#include "asl/evaluation.h"

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

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

runtime::TaskResult HttpTaskHandler::Invoke(const runtime::TaskRequest& r) {
  static const bool kInit = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  if (!kInit) return Runtime("libcurl could not be initialized");
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
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Runtime("libcurl could not start a request");
  // URL with the query parameters.
  std::string url(endpoint->get_string());
  if (const json::value* q = p->if_contains("QueryParameters"); q != nullptr && q->is_object()) {
    std::string query;
    auto add = [&](std::string_view k, const json::value& v) {
      char* ek = curl_easy_escape(curl.get(), k.data(), static_cast<int>(k.size()));
      std::string text = ScalarText(v);
      char* ev = curl_easy_escape(curl.get(), text.data(), static_cast<int>(text.size()));
      query += fmt::format("{}{}={}", query.empty() ? "" : "&", ek, ev);
      curl_free(ek);
      curl_free(ev);
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
  // Headers: the connection's, then the task's.
  std::unique_ptr<curl_slist, ListDeleter> headers;
  auto add_header = [&](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  if (auto it = connections_.find(connection); it != connections_.end()) {
    for (const auto& [k, v] : it->second) add_header(k + ": " + v);
  }
  bool has_content_type = false;
  if (const json::value* h = p->if_contains("Headers"); h != nullptr && h->is_object()) {
    for (const auto& [k, v] : h->get_object()) {
      if (Forbidden(k)) {
        return Runtime(fmt::format("the header \"{}\" cannot be set by an HTTP Task",
                                   std::string(k)));
      }
      has_content_type = has_content_type || Lower(k) == "content-type";
      add_header(fmt::format("{}: {}", std::string(k), ScalarText(v)));
    }
  }
  std::string body;
  if (const json::value* b = p->if_contains("RequestBody")) {
    body = b->is_string() ? std::string(b->get_string()) : ToJsonText(*b);
    if (!has_content_type && !b->is_string()) add_header("Content-Type: application/json");
  }
  add_header("User-Agent: Amazon|StepFunctions|HttpInvoke|us-east-1");
  std::string response;
  std::string response_headers;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, m.c_str());
  if (m == "HEAD") curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  if (!body.empty() || p->contains("RequestBody")) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, Collect);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &response_headers);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, timeout_seconds_);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    return runtime::TaskResult::Failure(
        "States.Http.Socket", fmt::format("{} {}: {}", m, url, curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  // The last response's headers (after redirects or 100-continue), as lists of values.
  json::object header_map;
  std::string status_text;
  std::size_t start = 0;
  while (start < response_headers.size()) {
    std::size_t end = response_headers.find("\r\n", start);
    if (end == std::string::npos) end = response_headers.size();
    std::string_view line(response_headers.data() + start, end - start);
    start = end + 2;
    if (line.starts_with("HTTP/")) {
      header_map.clear();
      std::size_t sp = line.find(' ', line.find(' ') + 1);
      status_text = sp == std::string_view::npos ? "" : std::string(line.substr(sp + 1));
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    json::value& list = header_map[key];
    if (!list.is_array()) list = json::array();
    list.as_array().emplace_back(value);
  }
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
