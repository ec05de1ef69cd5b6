#include "common/http.h"

#include <strings.h>

namespace zflow::http {

namespace {
bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

std::string HeaderValue(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (SameName(k, name)) return v;
  }
  return {};
}

bool Request::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (SameName(k, name)) return true;
  }
  return false;
}

std::string Request::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

void Response::SetHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

void Response::SetContent(std::string content, std::string type) {
  body = std::move(content);
  static_body = {};
  content_type = std::move(type);
}

void Response::SetStaticContent(std::string_view content, std::string type) {
  body.clear();
  static_body = content;
  content_type = std::move(type);
}

void Response::Redirect(std::string location) {
  status = 302;
  SetHeader("Location", std::move(location));
}

Result<std::unique_ptr<Server>> MakeServer(const ServerOptions& options) {
  ZFLOW_ASSIGN_OR_RETURN(const Backend* backend, LoadBackend());
  std::string error;
  std::unique_ptr<Server> server = backend->make_server(options, &error);
  if (server == nullptr) return InvalidArgumentError(std::move(error));
  return server;
}

Reply Send(const Call& call) {
  Result<const Backend*> backend = LoadBackend();
  if (!backend.ok()) {
    Reply reply;
    reply.error = backend.status().message();
    return reply;
  }
  return (*backend)->send(call);
}

}  // namespace zflow::http
