// Block-style YAML for JSON documents (templates): plain scalars where YAML reads them back as the
// same string, JSON-style double quotes otherwise (a JSON string is a valid YAML double-quoted
// scalar).
#include <string>

#include "zflow/cloud.h"

namespace zflow::cloud {
namespace {

bool PlainSafe(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  // Words YAML 1.1 or 1.2 would read as booleans or null, and anything that looks numeric.
  static constexpr std::string_view kReserved[] = {
      "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
      "True", "False", "Yes", "No", "On", "Off", "Y", "N", "Null", "NULL",
      "TRUE", "FALSE", "YES", "NO", "ON", "OFF"};
  for (auto r : kReserved) {
    if (s == r) return false;
  }
  char first = s.front();
  bool letter = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z');
  if (!letter && first != '/' && first != '_') return false;
  if (s.back() == ' ' || s.back() == ':') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == '_' || c == '-' || c == '.' || c == '/' || c == ':';
    if (!ok) return false;
    if (c == ':' && (i + 1 == s.size() || s[i + 1] == ' ')) return false;
  }
  return true;
}

std::string Scalar(std::string_view s) {
  if (PlainSafe(s)) return std::string(s);
  return ToJsonText(json::value(s));
}

void Indent(std::string& out, int n) { out.append(static_cast<std::size_t>(n), ' '); }

bool IsEmptyContainer(const json::value& v) {
  return (v.is_object() && v.as_object().empty()) || (v.is_array() && v.as_array().empty());
}

void Emit(std::string& out, const json::value& v, int indent);

// After "key:" or "-": a scalar or empty container on the same line, else a nested block.
void EmitAfterKey(std::string& out, const json::value& v, int indent) {
  if (v.is_object() && !v.as_object().empty()) {
    out.push_back('\n');
    Emit(out, v, indent + 2);
  } else if (v.is_array() && !v.as_array().empty()) {
    out.push_back('\n');
    Emit(out, v, indent);  // sequences under a key may sit at the key's indentation
  } else {
    out.push_back(' ');
    Emit(out, v, indent);
    out.push_back('\n');
  }
}

void Emit(std::string& out, const json::value& v, int indent) {
  switch (v.kind()) {
    case json::kind::object: {
      const json::object& o = v.as_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      for (const auto& [k, child] : o) {
        Indent(out, indent);
        out += Scalar(k);
        out.push_back(':');
        EmitAfterKey(out, child, indent);
      }
      return;
    }
    case json::kind::array: {
      const json::array& a = v.as_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      for (const auto& item : a) {
        Indent(out, indent);
        out.push_back('-');
        if (item.is_object() && !item.as_object().empty()) {
          // The first key on the dash's line, the rest aligned under it.
          std::string block;
          Emit(block, item, indent + 2);
          out.push_back(' ');
          out += std::string_view(block).substr(static_cast<std::size_t>(indent) + 2);
        } else if (item.is_array() && !item.as_array().empty()) {
          out.push_back('\n');
          Emit(out, item, indent + 2);
        } else {
          out.push_back(' ');
          Emit(out, item, indent);
          out.push_back('\n');
        }
      }
      return;
    }
    case json::kind::string:
      out += Scalar(v.as_string());
      return;
    default: {
      // Numbers, booleans, null in their JSON spelling; YAML 1.1 wants a sign in exponents.
      std::string text = ToJsonText(v);
      if (std::size_t e = text.find('E'); e != std::string::npos && e + 1 < text.size() &&
                                           text[e + 1] != '-' && text[e + 1] != '+') {
        out.append(text, 0, e + 1);
        out.push_back('+');
        out.append(text, e + 1);
      } else {
        out += text;
      }
      return;
    }
  }
}

}  // namespace

std::string ToYaml(const json::value& doc) {
  std::string out;
  if (IsEmptyContainer(doc) || !(doc.is_object() || doc.is_array())) {
    Emit(out, doc, 0);
    out.push_back('\n');
    return out;
  }
  Emit(out, doc, 0);
  return out;
}

}  // namespace zflow::cloud
