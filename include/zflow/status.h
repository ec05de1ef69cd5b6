// zflow/status.h: the one error model of zflow's C++ API.
//
// Every fallible call returns a Status (no value) or a Result<T> (a value or a Status).
// Workflow failures (States.TaskFailed, user error names) are data, not Status.
//
//   zflow::Result<StateMachine> machine = zflow::asl::ParseStateMachine(text);
//   if (!machine.ok()) { std::cerr << machine.status().ToString(); return 1; }
//   Use(*machine);
//
// Inside zflow, propagate with ZFLOW_RETURN_IF_ERROR(expr) and ZFLOW_ASSIGN_OR_RETURN(lhs, expr).
#ifndef ZFLOW_STATUS_H_
#define ZFLOW_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace zflow {

// One enum of error codes for the whole project. HTTP status and process exit codes are derived
// from it in one place each (HttpStatusFor, ExitCodeFor).
enum class StatusCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong (bad JSON, invalid definition, bad flag)
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a named thing exists already
  kFailedPrecondition,  // the system is not in a state that allows the call
  kOutOfRange,          // a value is outside an allowed range or quota
  kResourceExhausted,   // a limit of this machine or process was hit
  kPermissionDenied,    // the caller may not do this
  kUnavailable,         // try again later
  kDeadlineExceeded,    // took too long
  kAborted,             // stopped on purpose
  kUnimplemented,       // not supported
  kDataLoss,            // stored data is unreadable
  kInternal,            // a bug in zflow
};

std::string_view StatusCodeName(StatusCode code);
// The HTTP status an API server answers with for a failed call with this code.
int HttpStatusFor(StatusCode code);
// The process exit code the CLI uses for a failure with this code (0 for kOk, 1 for invalid
// input, 2 for usage errors are decided by the CLI itself; this covers the rest).
int ExitCodeFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status OutOfRangeError(std::string message);
Status ResourceExhaustedError(std::string message);
Status InternalError(std::string message);
Status UnimplementedError(std::string message);
Status UnavailableError(std::string message);

// A value of type T, or the Status that says why there is none.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Status>, "use Status directly");

 public:
  // Implicit on purpose: `return value;` and `return SomeError(...);` both work.
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(data_).ok()) {
      data_.template emplace<1>(StatusCode::kInternal, "Result constructed from an OK status");
    }
  }

  bool ok() const { return data_.index() == 0; }
  // The error; OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<1>(data_); }

  // Preconditions for the accessors below: ok().
  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

namespace internal {
inline Status AsStatus(Status s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace zflow

#define ZFLOW_CONCAT_INNER_(a, b) a##b
#define ZFLOW_CONCAT_(a, b) ZFLOW_CONCAT_INNER_(a, b)

#define ZFLOW_RETURN_IF_ERROR(expr)                                    \
  do {                                                                 \
    ::zflow::Status zflow_status_ = ::zflow::internal::AsStatus(expr); \
    if (!zflow_status_.ok()) return zflow_status_;                     \
  } while (false)

#define ZFLOW_ASSIGN_OR_RETURN(lhs, expr) \
  ZFLOW_ASSIGN_OR_RETURN_IMPL_(ZFLOW_CONCAT_(zflow_result_, __LINE__), lhs, expr)
// `lhs` may be a declaration, so it cannot be parenthesized.
#define ZFLOW_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr); /* NOLINT(bugprone-macro-parentheses) */ \
  if (!result.ok()) return result.status(); /* NOLINT(bugprone-macro-parentheses) */ \
  lhs = std::move(result).value() /* NOLINT(bugprone-macro-parentheses) */

#endif  // ZFLOW_STATUS_H_
