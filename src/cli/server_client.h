// A client of zflow serve for the CLI (zflow executions ..., zflow deploy --local): the Step
// Functions JSON protocol and the Scheduler REST API over HTTP, signed with SigV4 when
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are set.
#ifndef ZFLOW_CLI_SERVER_CLIENT_H_
#define ZFLOW_CLI_SERVER_CLIENT_H_

#include <string>
#include <string_view>

#include "zflow/json.h"
#include "zflow/status.h"

namespace zflow::cli {

// $ZFLOW_ENDPOINT, else http://127.0.0.1:8083.
std::string DefaultEndpoint();

class ServerClient {
 public:
  // `endpoint`: http(s)://host:port. kInvalidArgument for anything else.
  static Result<ServerClient> Connect(std::string endpoint, std::string region = "us-east-1");

  // One Step Functions action. Errors: kUnavailable when the server cannot be reached (the
  // message says how to start one); for an AWS error, a Status whose message starts with the
  // error type ("ExecutionDoesNotExist: ...") and whose code maps it (kNotFound, ...).
  Result<json::object> Call(std::string_view action, const json::object& request) const;
  // A Scheduler REST call: method, path ("/schedules/name"), JSON body ("" for none).
  Result<json::object> Rest(std::string_view method, std::string_view path,
                            std::string_view body) const;

  const std::string& endpoint() const { return endpoint_; }

 private:
  Result<json::object> Send(std::string_view method, std::string_view path,
                            std::string_view target, std::string_view body) const;
  std::string endpoint_;
  std::string scheme_;
  std::string host_;
  int port_ = 0;
  std::string region_;
};

}  // namespace zflow::cli

#endif  // ZFLOW_CLI_SERVER_CLIENT_H_
