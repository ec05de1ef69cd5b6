#include "runtime/payload_size.h"

namespace zflow::runtime {
namespace {

std::size_t StringSize(std::string_view s) {
  std::size_t n = 2;  // quotes
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
      n += 2;
    } else if (u < 0x20) {
      n += 6;
    } else {
      n += 1;
    }
  }
  return n;
}

}  // namespace

std::size_t PayloadSize(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return 4;
    case json::kind::bool_: return v.get_bool() ? 4 : 5;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return ToJsonText(v).size();
    case json::kind::string: return StringSize(v.get_string());
    case json::kind::array: {
      const json::array& a = v.get_array();
      std::size_t n = 2 + (a.empty() ? 0 : a.size() - 1);
      for (const auto& e : a) n += PayloadSize(e);
      return n;
    }
    case json::kind::object: {
      const json::object& o = v.get_object();
      std::size_t n = 2 + (o.empty() ? 0 : o.size() - 1);
      for (const auto& kv : o) n += StringSize(kv.key()) + 1 + PayloadSize(kv.value());
      return n;
    }
  }
  return 0;
}

}  // namespace zflow::runtime
