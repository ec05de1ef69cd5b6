// Reading fields of service requests (JSON objects that may lack what is looked for).
#ifndef ZFLOW_INTEGRATIONS_REQUEST_FIELDS_H_
#define ZFLOW_INTEGRATIONS_REQUEST_FIELDS_H_

#include <optional>
#include <string>
#include <string_view>

#include "zflow/json.h"

namespace zflow::integrations {

// The string at `key` of `o`, or nullopt (null `o`, missing key, not a string).
inline std::optional<std::string> StringField(const json::object* o, std::string_view key) {
  if (o == nullptr) return std::nullopt;
  const json::value* v = o->if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// The object at `key` of `o`, or null.
inline const json::object* ObjectField(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* v = o->if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

}  // namespace zflow::integrations

#endif  // ZFLOW_INTEGRATIONS_REQUEST_FIELDS_H_
