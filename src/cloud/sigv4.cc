// AWS Signature Version 4: the canonical request, the signing key chain, and the checks AWS
// makes before it compares signatures.
#include "cloud/sigv4.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>

#include "common/percent_encoding.h"

namespace zflow::cloud {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// AWS refuses requests whose date is further than this from its clock.
constexpr std::chrono::minutes kMaxClockSkew{5};
// The longest X-Amz-Expires AWS accepts: a week.
constexpr long long kMaxPresignedExpiresSeconds = 604800;

using Header = std::pair<std::string, std::string>;
using Digest = std::array<unsigned char, 32>;

// ---- Hashing ----

Digest Sha256(std::string_view data) {
  Digest digest{};
  EVP_Digest(data.data(), data.size(), digest.data(), nullptr, EVP_sha256(), nullptr);
  return digest;
}

Digest HmacSha256(std::string_view key, std::string_view data) {
  Digest digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(), &length);
  return digest;
}

std::string_view AsText(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string Hex(const Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char byte : digest) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xF];
  }
  return out;
}

// ---- Text ----

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), AsciiLower);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

// The characters JavaScript's /\s/ matches in ASCII: what the SDKs trim and collapse.
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t end = s.find(separator);
    parts.push_back(s.substr(0, end));
    if (end == std::string_view::npos) return parts;
    s.remove_prefix(end + 1);
  }
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

// ---- URI encoding (RFC 3986 unreserved set, upper-case hex, as AWS requires) ----

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool IsEscape(std::string_view s, size_t i) {
  return i + 2 < s.size() && s[i] == '%' && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0;
}

enum class Keep { kNothing, kSlashes, kSlashesAndEscapes };

std::string UriEncode(std::string_view s, Keep keep) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (IsUnreserved(c) || (c == '/' && keep != Keep::kNothing) ||
        (keep == Keep::kSlashesAndEscapes && IsEscape(s, i))) {
      out += c;
      continue;
    }
    auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xF];
  }
  return out;
}

// ---- Dates ----

std::optional<int> Digits(std::string_view s) {
  int value = 0;
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::from_chars(s.data(), s.data() + s.size(), value);
  return value;
}

std::optional<TimePoint> MakeTime(int year, unsigned month, unsigned day, int hour, int minute,
                                  int second) {
  std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(month),
                                   std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  return TimePoint(std::chrono::sys_days(date) + std::chrono::hours(hour) +
                   std::chrono::minutes(minute) + std::chrono::seconds(second));
}

// "20150830T123600Z".
std::optional<TimePoint> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto year = Digits(s.substr(0, 4)), month = Digits(s.substr(4, 2)), day = Digits(s.substr(6, 2));
  auto hour = Digits(s.substr(9, 2)), minute = Digits(s.substr(11, 2));
  auto second = Digits(s.substr(13, 2));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  return MakeTime(*year, *month, *day, *hour, *minute, *second);
}

// The HTTP Date header (RFC 9110 IMF-fixdate): "Mon, 09 Sep 2011 23:36:00 GMT".
std::optional<TimePoint> ParseHttpDate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  size_t comma = s.find(", ");
  if (comma == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> parts = Split(Trim(s.substr(comma + 2)), ' ');
  if (parts.size() != 5 || parts[4] != "GMT") return std::nullopt;
  auto month = std::find(kMonths.begin(), kMonths.end(), parts[1]);
  std::vector<std::string_view> clock = Split(parts[3], ':');
  if (month == kMonths.end() || clock.size() != 3) return std::nullopt;
  auto day = Digits(parts[0]), year = Digits(parts[2]);
  auto hour = Digits(clock[0]), minute = Digits(clock[1]), second = Digits(clock[2]);
  if (!day || !year || !hour || !minute || !second) return std::nullopt;
  return MakeTime(*year, static_cast<unsigned>(month - kMonths.begin() + 1), *day, *hour, *minute,
                  *second);
}

// ---- Headers ----

std::optional<std::string_view> FirstHeader(const std::vector<Header>& headers,
                                            std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return Trim(value);
  }
  return std::nullopt;
}

void SetHeader(std::vector<Header>& headers, std::string name, std::string value) {
  std::erase_if(headers, [&](const Header& h) { return EqualsIgnoreCase(h.first, name); });
  headers.emplace_back(std::move(name), std::move(value));
}

// Trimmed, inner runs of blanks collapsed to one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  bool in_blank = false;
  for (char c : Trim(value)) {
    if (IsBlank(c)) {
      in_blank = true;
      continue;
    }
    if (in_blank) out += ' ';
    in_blank = false;
    out += c;
  }
  return out;
}

// Hop-by-hop headers a proxy may rewrite, and headers SDKs and load balancers change after
// signing: never signed by SignRequest (the SDKs leave them out too).
bool IsUnsignable(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 11> kUnsignable = {
      "authorization",       "connection", "expect",         "keep-alive",
      "proxy-authorization", "te",         "trailer",        "upgrade",
      "transfer-encoding",   "user-agent", "x-amzn-trace-id"};
  return std::find(kUnsignable.begin(), kUnsignable.end(), lower_name) != kUnsignable.end();
}

// ---- The canonical request ----

struct QueryParam {
  std::string name, value;  // decoded
};

std::vector<QueryParam> ParseQuery(std::string_view query) {
  std::vector<QueryParam> params;
  if (query.empty()) return params;
  for (std::string_view piece : Split(query, '&')) {
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    params.push_back({PercentDecode(piece.substr(0, eq)),
                      eq == std::string_view::npos ? "" : PercentDecode(piece.substr(eq + 1))});
  }
  return params;
}

const QueryParam* FindParam(const std::vector<QueryParam>& params, std::string_view name) {
  for (const QueryParam& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// Decoded and encoded again, so every client's spelling of the same query signs the same.
std::string CanonicalQuery(const std::vector<QueryParam>& params, std::string_view excluded) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (const QueryParam& p : params) {
    if (p.name == excluded) continue;
    encoded.emplace_back(UriEncode(p.name, Keep::kNothing), UriEncode(p.value, Keep::kNothing));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string CanonicalUri(std::string_view path, std::string_view service) {
  // S3 signs the path as sent (object keys may hold "//" or ".."); only characters a client left
  // unencoded are encoded.
  if (service == "s3") {
    return path.empty() ? "/" : UriEncode(path, Keep::kSlashesAndEscapes);
  }
  // Other services sign the normalized path, encoded once more than it was sent (the SDKs encode
  // the segments for the wire, then the whole path for the signature).
  std::vector<std::string_view> segments;
  for (std::string_view segment : Split(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else {
      segments.push_back(segment);
    }
  }
  std::string normalized = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) normalized += '/';
    normalized += segments[i];
  }
  if (!segments.empty() && path.ends_with('/')) normalized += '/';
  return UriEncode(normalized, Keep::kSlashes);
}

struct SigningInput {
  std::string_view amz_date;  // "20150830T123600Z", as signed
  std::string_view region;
  std::string_view service;
  std::string_view signed_headers;  // "host;x-amz-date"
  std::string_view payload_hash;
  std::string_view excluded_query_param;  // X-Amz-Signature for presigned requests
};

std::string CanonicalRequest(const SigV4Request& request, const SigningInput& in) {
  std::string headers;
  for (std::string_view name : Split(in.signed_headers, ';')) {
    std::string lower = Lower(name);
    std::vector<std::string> values;
    for (const auto& [key, value] : request.headers) {
      if (EqualsIgnoreCase(Trim(key), lower)) values.push_back(CanonicalHeaderValue(value));
    }
    headers += fmt::format("{}:{}\n", lower, Join(values, ","));
  }
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", request.method,
                     CanonicalUri(request.path, in.service),
                     CanonicalQuery(ParseQuery(request.query), in.excluded_query_param), headers,
                     in.signed_headers, in.payload_hash);
}

std::string Scope(const SigningInput& in) {
  return fmt::format("{}/{}/{}/{}", in.amz_date.substr(0, 8), in.region, in.service, kTerminator);
}

std::string StringToSign(const SigningInput& in, std::string_view canonical_request) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, in.amz_date, Scope(in),
                     Hex(Sha256(canonical_request)));
}

std::string Signature(std::string_view secret, const SigningInput& in,
                      std::string_view string_to_sign) {
  Digest key = HmacSha256(fmt::format("AWS4{}", secret), in.amz_date.substr(0, 8));
  key = HmacSha256(AsText(key), in.region);
  key = HmacSha256(AsText(key), in.service);
  key = HmacSha256(AsText(key), kTerminator);
  return Hex(HmacSha256(AsText(key), string_to_sign));
}

// ---- Verification ----

SigV4Error MakeError(std::string_view code, std::string message, std::string detail = {}) {
  int status = code == SigV4Error::kMissingAuthenticationToken ? 403 : 400;
  return SigV4Error{std::string(code), std::move(message), status, std::move(detail)};
}

// What the Authorization header or the presigned query names, before any check of its values.
struct Authentication {
  std::string algorithm;
  std::string credential;      // "AKID/20150830/us-east-1/service/aws4_request"
  std::string signed_headers;  // "host;x-amz-date"
  std::string signature;
  std::string amz_date;  // ISO 8601 basic, as it enters the string to sign
  TimePoint date;
  std::optional<std::chrono::seconds> expires;  // presigned requests only
  std::string session_token;
  bool presigned = false;
};

using Parsed = std::variant<Authentication, SigV4Error>;

std::string DateError(std::string_view got) {
  return fmt::format(
      "Date must be in ISO-8601 'basic format'. Got '{}'. See "
      "http://en.wikipedia.org/wiki/ISO_8601",
      got);
}

Parsed FromAuthorizationHeader(const SigV4Request& request, std::string_view header) {
  Authentication auth;
  std::string_view rest = header;
  size_t space = rest.find(' ');
  auth.algorithm = std::string(rest.substr(0, space));
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  for (std::string_view part : Split(rest, ',')) {
    part = Trim(part);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    if (key == "Credential") auth.credential = value;
    if (key == "SignedHeaders") auth.signed_headers = value;
    if (key == "Signature") auth.signature = value;
  }
  std::optional<std::string_view> amz_date = FirstHeader(request.headers, "x-amz-date");
  std::optional<std::string_view> http_date = FirstHeader(request.headers, "date");

  // AWS lists everything that is missing, then echoes the header.
  std::vector<std::string> missing;
  for (auto [name, value] :
       {std::pair{"Credential", &auth.credential}, std::pair{"Signature", &auth.signature},
        std::pair{"SignedHeaders", &auth.signed_headers}}) {
    if (value->empty()) {
      missing.push_back(fmt::format("Authorization header requires '{}' parameter.", name));
    }
  }
  if (!amz_date && !http_date) {
    missing.emplace_back(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (!missing.empty()) {
    return MakeError(SigV4Error::kIncompleteSignature,
                     fmt::format("{} Authorization={}", Join(missing, " "), header));
  }
  if (amz_date) {
    std::optional<TimePoint> date = ParseAmzDate(*amz_date);
    if (!date) return MakeError(SigV4Error::kIncompleteSignature, DateError(*amz_date));
    auth.date = *date;
    auth.amz_date = std::string(*amz_date);
  } else {
    std::optional<TimePoint> date = ParseHttpDate(*http_date);
    if (!date) {
      return MakeError(SigV4Error::kIncompleteSignature,
                       fmt::format("Date header must be an HTTP date such as 'Mon, 09 Sep 2011 "
                                   "23:36:00 GMT', got '{}'.",
                                   *http_date));
    }
    auth.date = *date;
    auth.amz_date = FormatAmzDate(*date);
  }
  auth.session_token = std::string(
      FirstHeader(request.headers, "x-amz-security-token").value_or(std::string_view()));
  return auth;
}

Parsed FromQuery(const std::vector<QueryParam>& params, const SigV4Request& request) {
  Authentication auth;
  auth.presigned = true;
  std::vector<std::string> missing;
  for (auto [name, value] : {std::pair{"X-Amz-Algorithm", &auth.algorithm},
                             std::pair{"X-Amz-Credential", &auth.credential},
                             std::pair{"X-Amz-Signature", &auth.signature},
                             std::pair{"X-Amz-SignedHeaders", &auth.signed_headers},
                             std::pair{"X-Amz-Date", &auth.amz_date}}) {
    const QueryParam* param = FindParam(params, name);
    if (param == nullptr || param->value.empty()) {
      missing.push_back(fmt::format("AWS query-string parameters must include '{}'.", name));
    } else {
      *value = param->value;
    }
  }
  if (!missing.empty()) {
    return MakeError(SigV4Error::kIncompleteSignature,
                     Join(missing, " ") + " Re-examine the query-string parameters.");
  }
  std::optional<TimePoint> date = ParseAmzDate(auth.amz_date);
  if (!date) return MakeError(SigV4Error::kIncompleteSignature, DateError(auth.amz_date));
  auth.date = *date;
  if (const QueryParam* expires = FindParam(params, "X-Amz-Expires")) {
    std::optional<int> seconds = expires->value.size() <= 9 ? Digits(expires->value) : std::nullopt;
    if (!seconds) {
      return MakeError(SigV4Error::kIncompleteSignature,
                       fmt::format("X-Amz-Expires should be a number, got '{}'.", expires->value));
    }
    if (*seconds > kMaxPresignedExpiresSeconds) {
      return MakeError(SigV4Error::kIncompleteSignature,
                       fmt::format("X-Amz-Expires must be less than a week (in seconds) that is {}",
                                   kMaxPresignedExpiresSeconds));
    }
    auth.expires = std::chrono::seconds(*seconds);
  }
  if (const QueryParam* token = FindParam(params, "X-Amz-Security-Token")) {
    auth.session_token = token->value;
  } else {
    auth.session_token = std::string(
        FirstHeader(request.headers, "x-amz-security-token").value_or(std::string_view()));
  }
  return auth;
}

// AWS's wording, e.g. "Signature expired: 20150830T123600Z is now earlier than 20150830T124500Z
// (20150830T125000Z - 5 min.)".
std::optional<SigV4Error> CheckTime(const Authentication& auth, TimePoint now) {
  std::string when = FormatAmzDate(auth.date);
  if (auth.date > now + kMaxClockSkew) {
    return MakeError(SigV4Error::kInvalidSignature,
                     fmt::format("Signature not yet current: {} is still later than {} ({} + 5 "
                                 "min.)",
                                 when, FormatAmzDate(now + kMaxClockSkew), FormatAmzDate(now)));
  }
  if (auth.expires) {
    if (now > auth.date + *auth.expires) {
      return MakeError(SigV4Error::kInvalidSignature,
                       fmt::format("Signature expired: {} is now earlier than {} ({} - {} sec.)",
                                   when, FormatAmzDate(now - *auth.expires), FormatAmzDate(now),
                                   auth.expires->count()));
    }
  } else if (auth.date < now - kMaxClockSkew) {
    return MakeError(SigV4Error::kInvalidSignature,
                     fmt::format("Signature expired: {} is now earlier than {} ({} - 5 min.)", when,
                                 FormatAmzDate(now - kMaxClockSkew), FormatAmzDate(now)));
  }
  return std::nullopt;
}

SigV4Verdict Verify(const SigV4Request& request, const Authentication& auth,
                    const SigV4SecretLookup& lookup_secret, TimePoint now) {
  if (auth.algorithm != kAlgorithm) {
    return MakeError(SigV4Error::kIncompleteSignature,
                     fmt::format("Unsupported AWS 'algorithm': '{}'.", auth.algorithm));
  }
  std::vector<std::string_view> scope = Split(auth.credential, '/');
  if (scope.size() != 5 ||
      std::any_of(scope.begin(), scope.end(), [](std::string_view s) { return s.empty(); })) {
    return MakeError(SigV4Error::kIncompleteSignature,
                     fmt::format("Credential must have exactly 5 slash-delimited elements, e.g. "
                                 "keyid/date/region/service/term, got '{}'",
                                 auth.credential));
  }
  SigV4Identity identity{.access_key_id = std::string(scope[0]),
                         .region = std::string(scope[2]),
                         .service = std::string(scope[3]),
                         .session_token = auth.session_token};
  std::string_view date8 = std::string_view(auth.amz_date).substr(0, 8);
  if (scope[1] != date8) {
    return MakeError(SigV4Error::kInvalidSignature,
                     fmt::format("Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                 "version of date from HTTP: '{}' != '{}', from '{}'.",
                                 scope[1], date8, auth.amz_date));
  }
  if (scope[4] != kTerminator) {
    return MakeError(SigV4Error::kInvalidSignature,
                     fmt::format("Credential should be scoped with a valid terminator: '{}', not "
                                 "'{}'.",
                                 kTerminator, scope[4]));
  }
  std::vector<std::string_view> signed_names = Split(auth.signed_headers, ';');
  if (std::none_of(signed_names.begin(), signed_names.end(),
                   [](std::string_view n) { return EqualsIgnoreCase(n, "host"); })) {
    return MakeError(SigV4Error::kInvalidSignature,
                     "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  std::optional<std::string> secret = lookup_secret(identity.access_key_id);
  if (!secret) {
    return MakeError(SigV4Error::kUnrecognizedClient,
                     "The security token included in the request is invalid.");
  }
  if (std::optional<SigV4Error> late = CheckTime(auth, now)) return *std::move(late);

  // A payload hash the client states must be the body's (or say it is not signed): otherwise
  // the signature would cover the header but not the body.
  std::string body_hash = Hex(Sha256(request.body));
  std::string payload_hash = body_hash;
  if (std::optional<std::string_view> sent = FirstHeader(request.headers, "x-amz-content-sha256")) {
    if (*sent != kUnsignedPayload && Lower(*sent) != body_hash) {
      return MakeError(SigV4Error::kInvalidSignature,
                       "The provided 'x-amz-content-sha256' header does not match what was "
                       "computed.");
    }
    payload_hash = std::string(*sent);
  } else if (auth.presigned && identity.service == "s3") {
    payload_hash = std::string(kUnsignedPayload);  // S3 presigned URLs never sign the body
  }

  SigningInput in{.amz_date = auth.amz_date,
                  .region = identity.region,
                  .service = identity.service,
                  .signed_headers = auth.signed_headers,
                  .payload_hash = payload_hash,
                  .excluded_query_param = auth.presigned ? "X-Amz-Signature" : ""};
  std::string canonical_request = CanonicalRequest(request, in);
  std::string string_to_sign = StringToSign(in, canonical_request);
  std::string expected = Signature(*secret, in, string_to_sign);
  // Constant time, so response timing does not reveal how much of a guess was right.
  if (auth.signature.size() != expected.size() ||
      CRYPTO_memcmp(auth.signature.data(), expected.data(), expected.size()) != 0) {
    return MakeError(SigV4Error::kInvalidSignature,
                     "The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method. Consult the "
                     "service documentation for details.",
                     fmt::format("The canonical request:\n{}\nThe string to sign:\n{}",
                                 canonical_request, string_to_sign));
  }
  return identity;
}

}  // namespace

std::string FormatAmzDate(TimePoint t) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto day = std::chrono::floor<std::chrono::days>(seconds);
  std::chrono::year_month_day date(day);
  std::chrono::hh_mm_ss time(seconds - day);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

Status SignRequest(SigV4Request& request, const SigV4Credentials& credentials,
                   const SigV4SigningOptions& options, TimePoint now) {
  if (!FirstHeader(request.headers, "host")) {
    return InvalidArgumentError(
        "SigV4 signing needs the request's Host header (AWS requires it signed); set it before "
        "signing");
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidArgumentError("SigV4 signing needs an access key id and a secret access key");
  }
  std::string amz_date = FormatAmzDate(now);
  SetHeader(request.headers, "X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    SetHeader(request.headers, "X-Amz-Security-Token", credentials.session_token);
  }
  std::optional<std::string_view> sent = FirstHeader(request.headers, "x-amz-content-sha256");
  std::string payload_hash = sent ? std::string(*sent) : Hex(Sha256(request.body));
  if (!sent && options.payload_hash_header == PayloadHashHeader::kInclude) {
    SetHeader(request.headers, "X-Amz-Content-Sha256", payload_hash);
  }
  std::erase_if(request.headers,
                [](const Header& h) { return EqualsIgnoreCase(h.first, "authorization"); });

  std::vector<std::string> names;
  for (const auto& header : request.headers) {
    std::string name = Lower(Trim(header.first));
    if (!IsUnsignable(name)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string signed_headers = Join(names, ";");

  SigningInput in{.amz_date = amz_date,
                  .region = options.region,
                  .service = options.service,
                  .signed_headers = signed_headers,
                  .payload_hash = payload_hash};
  std::string signature =
      Signature(credentials.secret_access_key, in, StringToSign(in, CanonicalRequest(request, in)));
  request.headers.emplace_back(
      "Authorization",
      fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                  credentials.access_key_id, Scope(in), signed_headers, signature));
  return Status::Ok();
}

SigV4Verdict VerifyRequest(const SigV4Request& request, const SigV4SecretLookup& lookup_secret,
                           TimePoint now) {
  std::optional<std::string_view> authorization = FirstHeader(request.headers, "authorization");
  if (authorization && authorization->empty()) authorization.reset();
  std::vector<QueryParam> params = ParseQuery(request.query);
  bool query_auth = FindParam(params, "X-Amz-Algorithm") != nullptr ||
                    FindParam(params, "X-Amz-Credential") != nullptr ||
                    FindParam(params, "X-Amz-Signature") != nullptr;
  if (!authorization && !query_auth) {
    return MakeError(SigV4Error::kMissingAuthenticationToken, "Missing Authentication Token");
  }
  // When a request carries both, the header is the one checked.
  Parsed parsed =
      authorization ? FromAuthorizationHeader(request, *authorization) : FromQuery(params, request);
  if (auto* error = std::get_if<SigV4Error>(&parsed)) return std::move(*error);
  return Verify(request, std::get<Authentication>(parsed), lookup_secret, now);
}

}  // namespace zflow::cloud
