// cloud/sigv4.h: AWS Signature Version 4 (AWS4-HMAC-SHA256): signing the requests zflow's
// clients send, and verifying the requests zflow's server receives from the AWS CLI, boto3 and
// the AWS SDKs (Authorization header or presigned query string).
//
//   // Client: sign just before sending (the body is hashed, so sign the final bytes).
//   SigV4Request request{.method = "POST", .path = "/",
//                        .headers = {{"Host", "localhost:8083"},
//                                    {"Content-Type", "application/x-amz-json-1.0"},
//                                    {"X-Amz-Target", "AWSStepFunctions.ListStateMachines"}},
//                        .body = body};
//   ZFLOW_RETURN_IF_ERROR(
//       SignRequest(request, creds, {.region = "us-east-1", .service = "states"}, clock.Now()));
//
//   // Server: verify before dispatching; the error maps to AWS's JSON error shape.
//   SigV4Verdict verdict = VerifyRequest(request, lookup_secret, clock.Now());
//   if (const auto* error = std::get_if<SigV4Error>(&verdict)) {
//     return JsonError(error->http_status, error->code, error->message);  // {"__type", "message"}
//   }
//   const SigV4Identity& caller = std::get<SigV4Identity>(verdict);
//
// The canonical request follows AWS's rules: the path is normalized (".", "..", empty segments)
// and URI-encoded once more than it was sent (S3: neither, it is signed as sent); the query is
// decoded, re-encoded with the RFC 3986 unreserved set and sorted by name, then value; header
// names are lower-cased, values trimmed with inner runs of blanks collapsed, repeats joined by
// ','; the payload hash is the X-Amz-Content-Sha256 header (or UNSIGNED-PAYLOAD) when sent,
// else the hex SHA-256 of the body. Checked against the AWS SigV4 test suite and
// @smithy/signature-v4 (tests/cloud/sigv4_test.cc).
#ifndef ZFLOW_CLOUD_SIGV4_H_
#define ZFLOW_CLOUD_SIGV4_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "zflow/clock.h"
#include "zflow/status.h"

namespace zflow::cloud {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term credentials
};

// An HTTP request as the HTTP layer sees it; no HTTP library types. Non-owning `body`: it must
// outlive the calls below.
struct SigV4Request {
  std::string method;  // "POST"
  // As sent on the wire (percent-encoded), without the query: "/". A server takes it from the
  // raw request target (cpp-httplib: Request::target up to '?'; Request::path is decoded).
  std::string path;
  std::string query;  // as sent on the wire, without '?'; may be empty
  // As sent or received: any case, repeats allowed, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

// Whether SignRequest adds X-Amz-Content-Sha256 (S3 requires it; other services accept it).
enum class PayloadHashHeader { kOmit, kInclude };

struct SigV4SigningOptions {
  std::string region;   // "us-east-1"
  std::string service;  // the signing name: "states", "lambda", "s3"
  PayloadHashHeader payload_hash_header = PayloadHashHeader::kOmit;
};

// Signs `request` in place: sets X-Amz-Date to `now`, X-Amz-Security-Token when the credentials
// have a session token, X-Amz-Content-Sha256 when asked (a value already there, such as
// UNSIGNED-PAYLOAD, is kept and signed), and replaces any Authorization header. Every header is
// signed except hop-by-hop ones a proxy may rewrite and User-Agent / X-Amzn-Trace-Id.
// Errors: kInvalidArgument when the request has no Host header (AWS requires it signed) or the
// credentials lack the access key id or the secret.
// Thread-safe (no shared state).
Status SignRequest(SigV4Request& request, const SigV4Credentials& credentials,
                   const SigV4SigningOptions& options, TimePoint now);

// Why a request was refused: the AWS error code (the JSON "__type"), AWS's message, and the HTTP
// status AWS answers with.
struct SigV4Error {
  // The codes VerifyRequest returns.
  static constexpr std::string_view kMissingAuthenticationToken = "MissingAuthenticationToken";
  static constexpr std::string_view kIncompleteSignature = "IncompleteSignature";
  static constexpr std::string_view kUnrecognizedClient = "UnrecognizedClientException";
  static constexpr std::string_view kInvalidSignature = "InvalidSignatureException";

  std::string code;
  std::string message;
  int http_status = 400;
  // For a signature mismatch: the canonical request and string to sign zflow computed, to log
  // when debugging a client (AWS does not send them to the caller, nor should the server).
  std::string detail;
};

// Who signed a verified request, from its credential scope.
struct SigV4Identity {
  std::string access_key_id;
  std::string region;   // as the client signed it; the caller decides whether to insist on one
  std::string service;  // likewise ("states")
  std::string session_token;  // X-Amz-Security-Token, when sent
};

using SigV4Verdict = std::variant<SigV4Identity, SigV4Error>;

// The secret access key of `access_key_id`, or nullopt when the key is unknown.
using SigV4SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

// Checks the request's signature: the Authorization header, else presigned query parameters
// (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Signature, optional
// X-Amz-Expires). Returns the signer's identity, or the error AWS would answer with (HTTP 400
// unless noted):
//   MissingAuthenticationToken (403): neither an Authorization header nor query authentication.
//   IncompleteSignature: a malformed Authorization header or query (says what is missing), an
//     algorithm other than AWS4-HMAC-SHA256, a date that does not parse.
//   UnrecognizedClientException: `lookup_secret` does not know the access key.
//   InvalidSignatureException: the signature does not match; the date is more than 5 minutes
//     from `now` ("Signature expired: ..." / "Signature not yet current: ..."), or a presigned
//     request is past X-Amz-Expires; the credential scope's date or terminator is wrong; Host is
//     not signed; X-Amz-Content-Sha256 is neither UNSIGNED-PAYLOAD nor the body's hash.
// Signatures are compared in constant time. `lookup_secret` is called at most once, on the
// calling thread. Thread-safe otherwise.
SigV4Verdict VerifyRequest(const SigV4Request& request, const SigV4SecretLookup& lookup_secret,
                           TimePoint now);

// "20150830T123600Z": the ISO 8601 basic format of X-Amz-Date (UTC, whole seconds).
std::string FormatAmzDate(TimePoint t);

}  // namespace zflow::cloud

#endif  // ZFLOW_CLOUD_SIGV4_H_
