// HTTP Tasks (arn:aws:states:::http:invoke) over real HTTP (and HTTPS), through common/http.h.
//
// Parameters as the HTTP Task takes them: ApiEndpoint and Method (required), Headers,
// QueryParameters (values URL-encoded; arrays repeat the key), RequestBody (an object or array
// is sent as JSON, a string as is), and a connection (Authentication.ConnectionArn or
// InvocationConfig.ConnectionArn: locally its headers come from the profile). Headers AWS
// forbids (Authorization, Host, Content-Length, x-amz-*, ...) fail with States.Runtime. The
// result is {"ResponseBody", "StatusCode", "StatusText", "Headers"}; the body is parsed when it
// is JSON. A non-2xx answer fails with States.Http.StatusCode.<code> and the response as the
// cause; a connection failure or a response later than 60 seconds with States.Http.Socket.
#ifndef ZFLOW_INTEGRATIONS_HTTP_TASK_H_
#define ZFLOW_INTEGRATIONS_HTTP_TASK_H_

#include <map>
#include <string>

#include "zflow/runtime.h"

namespace zflow::integrations {

class HttpTaskHandler final : public runtime::TaskHandler {
 public:
  // Headers to add per connection ARN (a local stand-in for the EventBridge connection's
  // authorization).
  explicit HttpTaskHandler(std::map<std::string, std::map<std::string, std::string>> connections = {},
                           long timeout_seconds = 60)
      : connections_(std::move(connections)), timeout_seconds_(timeout_seconds) {}
  runtime::TaskResult Invoke(const runtime::TaskRequest& request) override;

 private:
  std::map<std::string, std::map<std::string, std::string>> connections_;
  long timeout_seconds_;
};

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_HTTP_TASK_H_
