// Request fields and resource names of the Step Functions API: typed reads that produce AWS's
// validation errors, ARN parsing, pagination tokens, dates. Internal to the API's .cc files.
#ifndef ZFLOW_SERVER_API_FIELDS_H_
#define ZFLOW_SERVER_API_FIELDS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "server/step_functions_api.h"
#include "zflow/json.h"

namespace zflow::server {

// Reads a request's members; the first problem is kept in `error` and later reads return
// empty values, so a handler reads everything and checks once.
class Fields {
 public:
  explicit Fields(const json::object& in) : in_(in) {}
  // A string member that must be there, with AWS's length constraint.
  std::string Required(std::string_view key, std::size_t max_length = runtime::kMaxPayloadBytes);
  std::optional<std::string> Optional(std::string_view key,
                                      std::size_t max_length = runtime::kMaxPayloadBytes);
  std::optional<bool> Bool(std::string_view key);
  std::optional<std::int64_t> Int(std::string_view key, std::int64_t min, std::int64_t max);
  // An object / array member (nullptr when absent).
  const json::object* Object(std::string_view key);
  const json::array* Array(std::string_view key);
  // A member that must be one of `allowed`.
  std::optional<std::string> Enum(std::string_view key,
                                  std::initializer_list<std::string_view> allowed);

  bool ok() const { return !error.has_value(); }
  std::optional<ApiError> error;

 private:
  const json::value* Find(std::string_view key);
  void Fail(ApiError e) {
    if (!error) error = std::move(e);
  }
  const json::object& in_;
};

ApiError Validation(std::string message);
ApiError Error(std::string type, std::string message);

// arn:aws:states:<region>:<account>:<kind>:<name>[:<qualifier>]
struct StatesArn {
  std::string region;
  std::string account;
  std::string kind;                 // stateMachine, execution, express, activity, mapRun
  std::string name;                 // machine / activity name
  std::string qualifier;            // execution name, version number or alias name; may be empty
  std::string machine_arn() const;  // arn:aws:states:<region>:<account>:stateMachine:<name>
};
std::optional<StatesArn> ParseStatesArn(std::string_view arn);
// AWS's "Invalid Arn" error for `arn` (wrong syntax, or `expected` is not its kind).
ApiError InvalidArn(std::string_view arn, std::string_view why);

// AWS's rule for state machine, execution, activity and alias names.
std::optional<ApiError> CheckName(std::string_view name, std::size_t max_length = 80);

// Pagination: an opaque token around a cursor (a number or a name).
std::string PageToken(std::string_view cursor);
// nullopt for a token this server did not issue (AWS: InvalidToken).
std::optional<std::string> PageCursor(std::string_view token);
// Reads "nextToken": an error for a token that is too long or not ours.
std::optional<std::string> ReadPageToken(Fields& fields);
// maxResults: 0 or absent means `fallback`; AWS allows 0..1000.
int ReadMaxResults(Fields& fields, int fallback = 100);

// A store failure the client cannot fix: ServiceUnavailable (503) for a full disk or a data
// directory that cannot be written, InternalServerError (500) otherwise.
ApiError Internal(const Status& st);
ApiError MachineMissing(std::string_view arn);
// Reads a "tags" list ([{key, value}], at most 50).
std::optional<std::map<std::string, std::string>> ReadTags(Fields& f, std::string_view key);

// Dates are epoch seconds (fractional) in the JSON protocol.
json::value Date(std::int64_t ms);

}  // namespace zflow::server

#endif  // ZFLOW_SERVER_API_FIELDS_H_
