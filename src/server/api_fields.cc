#include "server/api_fields.h"

#include <charconv>

#include <fmt/format.h>

namespace zflow::server {

ApiError Validation(std::string message) {
  return ApiError{"ValidationException", std::move(message), 400};
}

ApiError Error(std::string type, std::string message) {
  return ApiError{std::move(type), std::move(message), 400};
}

const json::value* Fields::Find(std::string_view key) {
  const json::value* v = in_.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  return v;
}

std::string Fields::Required(std::string_view key, std::size_t max_length) {
  std::optional<std::string> v = Optional(key, max_length);
  if (!v && ok()) {
    Fail(Validation(fmt::format("1 validation error detected: Value null at '{}' failed to "
                                "satisfy constraint: Member must not be null",
                                key)));
  }
  return v.value_or("");
}

std::optional<std::string> Fields::Optional(std::string_view key, std::size_t max_length) {
  const json::value* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    Fail(Error("SerializationException",
               fmt::format("Expected a string for '{}', found {}", key,
                           v->is_object()  ? "an object"
                           : v->is_array() ? "an array"
                                           : "a number or boolean")));
    return std::nullopt;
  }
  std::string_view s = v->as_string();
  if (s.size() > max_length) {
    Fail(Validation(fmt::format("1 validation error detected: Value at '{}' failed to satisfy "
                                "constraint: Member must have length less than or equal to {}",
                                key, max_length)));
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<bool> Fields::Bool(std::string_view key) {
  const json::value* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) {
    Fail(Error("SerializationException", fmt::format("Expected a boolean for '{}'", key)));
    return std::nullopt;
  }
  return v->as_bool();
}

std::optional<std::int64_t> Fields::Int(std::string_view key, std::int64_t min, std::int64_t max) {
  const json::value* v = Find(key);
  if (v == nullptr) return std::nullopt;
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(max)) {
    n = static_cast<std::int64_t>(v->as_uint64());
  } else if (v->is_uint64()) {
    n = max + 1;
  } else {
    Fail(Error("SerializationException", fmt::format("Expected an integer for '{}'", key)));
    return std::nullopt;
  }
  if (n < min || n > max) {
    Fail(Validation(fmt::format("1 validation error detected: Value '{}' at '{}' failed to "
                                "satisfy constraint: Member must have value {} {}",
                                n, key, n < min ? "greater than or equal to" : "less than or equal to",
                                n < min ? min : max)));
    return std::nullopt;
  }
  return n;
}

const json::object* Fields::Object(std::string_view key) {
  const json::value* v = Find(key);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Fail(Error("SerializationException", fmt::format("Expected an object for '{}'", key)));
    return nullptr;
  }
  return &v->as_object();
}

const json::array* Fields::Array(std::string_view key) {
  const json::value* v = Find(key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    Fail(Error("SerializationException", fmt::format("Expected a list for '{}'", key)));
    return nullptr;
  }
  return &v->as_array();
}

std::optional<std::string> Fields::Enum(std::string_view key,
                                        std::initializer_list<std::string_view> allowed) {
  std::optional<std::string> v = Optional(key, 64);
  if (!v) return v;
  for (std::string_view a : allowed) {
    if (*v == a) return v;
  }
  Fail(Validation(fmt::format("1 validation error detected: Value '{}' at '{}' failed to "
                              "satisfy constraint: Member must satisfy enum value set: [{}]",
                              *v, key, fmt::join(allowed, ", "))));
  return std::nullopt;
}

std::string StatesArn::machine_arn() const {
  return fmt::format("arn:aws:states:{}:{}:stateMachine:{}", region, account, name);
}

std::optional<StatesArn> ParseStatesArn(std::string_view arn) {
  constexpr std::string_view kPrefix = "arn:aws:states:";
  if (!arn.starts_with(kPrefix) || arn.size() > 2048) return std::nullopt;
  std::string_view rest = arn.substr(kPrefix.size());
  std::string_view parts[6];
  int n = 0;
  while (n < 5) {
    std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) break;
    parts[n++] = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  parts[n++] = rest;
  if (n < 4) return std::nullopt;
  StatesArn out{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                std::string(parts[3]), n > 4 ? std::string(parts[4]) : std::string()};
  if (n > 5 || out.region.empty() || out.account.empty() || out.name.empty()) return std::nullopt;
  if (n > 4 && out.qualifier.empty()) return std::nullopt;
  return out;
}

ApiError InvalidArn(std::string_view arn, std::string_view why) {
  return Error("InvalidArn", fmt::format("Invalid Arn: '{}'", why.empty() ? arn : why));
}

std::optional<ApiError> CheckName(std::string_view name, std::size_t max_length) {
  bool bad = name.empty() || name.size() > max_length;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7f || std::string_view("<>{}[]?*\"#%\\^|~`$&,;:/").find(static_cast<char>(c)) !=
                                      std::string_view::npos) {
      bad = true;
    }
  }
  if (!bad) return std::nullopt;
  return Error("InvalidName", fmt::format("Invalid Name: '{}'", name));
}

namespace {
constexpr std::string_view kTokenPrefix = "zflow-page-";
}  // namespace

std::string PageToken(std::string_view cursor) {
  std::string out(kTokenPrefix);
  for (unsigned char c : cursor) out += fmt::format("{:02x}", c);
  return out;
}

std::optional<std::string> PageCursor(std::string_view token) {
  if (!token.starts_with(kTokenPrefix)) return std::nullopt;
  token.remove_prefix(kTokenPrefix.size());
  if (token.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < token.size(); i += 2) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(token.data() + i, token.data() + i + 2, value, 16);
    if (ec != std::errc() || p != token.data() + i + 2) return std::nullopt;
    out += static_cast<char>(value);
  }
  return out;
}

std::optional<std::string> ReadPageToken(Fields& fields) {
  std::optional<std::string> token = fields.Optional("nextToken", 1024);
  if (!token || !fields.ok()) return std::nullopt;
  std::optional<std::string> cursor = PageCursor(*token);
  if (!cursor) fields.error = Error("InvalidToken", "Invalid Token: 'Invalid token'");
  return cursor;
}

int ReadMaxResults(Fields& fields, int fallback) {
  std::optional<std::int64_t> n = fields.Int("maxResults", 0, 1000);
  if (!n || *n == 0) return fallback;
  return static_cast<int>(*n);
}

// A store failure the client cannot fix.
ApiError Internal(const Status& st) {
  if (st.code() == StatusCode::kResourceExhausted || st.code() == StatusCode::kPermissionDenied ||
      st.code() == StatusCode::kUnavailable) {
    return ApiError{"ServiceUnavailable", std::string(st.message()), 503};
  }
  return ApiError{"InternalServerError", std::string(st.message()), 500};
}

ApiError MachineMissing(std::string_view arn) {
  return Error("StateMachineDoesNotExist", fmt::format("State Machine Does Not Exist: '{}'", arn));
}

// Reads the "tags" list ([{key, value}]).
std::optional<std::map<std::string, std::string>> ReadTags(Fields& f, std::string_view key) {
  const json::array* tags = f.Array(key);
  if (tags == nullptr) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const json::value& t : *tags) {
    const json::object* o = t.if_object();
    const json::value* k = o != nullptr ? o->if_contains("key") : nullptr;
    const json::value* v = o != nullptr ? o->if_contains("value") : nullptr;
    if (k == nullptr || !k->is_string() || (v != nullptr && !v->is_string())) {
      f.error = Validation("Tags must be objects with a string \"key\" and \"value\"");
      return std::nullopt;
    }
    out[std::string(k->as_string())] = v != nullptr ? std::string(v->as_string()) : "";
  }
  if (out.size() > 50) {
    f.error = Error("TooManyTags", "Too many tags: a resource has at most 50");
  }
  return out;
}

json::value Date(std::int64_t ms) { return json::value(static_cast<double>(ms) / 1000.0); }

}  // namespace zflow::server
