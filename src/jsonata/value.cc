#include "jsonata/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <boost/json.hpp>

#include "jsonata/error.h"
#include "jsonata/function.h"

namespace zflow::jsonata {

namespace {
const void* Adopt(Node* node) {
  intrusive_ptr_add_ref(node);
  return node;
}
}  // namespace

Value Value::String(std::string s) {
  Value v(Kind::kString);
  v.ptr_ = Adopt(new StringNode(std::move(s)));
  return v;
}

Value Value::Array(std::vector<Value> items) {
  Value v(Kind::kArray);
  auto* node = new ArrayNode();
  node->items = std::move(items);
  v.ptr_ = Adopt(node);
  return v;
}

Value Value::Sequence(std::vector<Value> items) {
  Value v = Array(std::move(items));
  v.mutable_array().sequence = true;
  return v;
}

Value Value::Sequence1(Value item) {
  Value v = Sequence();
  v.mutable_array().items.push_back(std::move(item));
  return v;
}

Value Value::Object() {
  Value v(Kind::kObject);
  v.ptr_ = Adopt(new ObjectNode());
  return v;
}

Value Value::Function(boost::intrusive_ptr<FunctionNode> f) {
  Value v(Kind::kFunction);
  v.ptr_ = static_cast<Node*>(f.detach());
  return v;
}

const FunctionNode& Value::function() const {
  return *static_cast<const FunctionNode*>(static_cast<const Node*>(ptr_));
}

std::string_view Value::string() const {
  if (kind_ != Kind::kString) return {};  // a caller that skipped its type check reads ""
  if (borrowed_) {
    const auto* s = static_cast<const json::string*>(ptr_);
    return std::string_view(s->data(), s->size());
  }
  return static_cast<const StringNode*>(static_cast<const Node*>(ptr_))->text;
}

ObjectView Value::object() const {
  ObjectView view;
  if (borrowed_) {
    view.json_ = static_cast<const json::object*>(ptr_);
  } else {
    view.owned_ = static_cast<const ObjectNode*>(static_cast<const Node*>(ptr_));
  }
  return view;
}

Value Value::Borrow(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return Value::Null();
    case json::kind::bool_:
      return Value::Bool(v.get_bool());
    case json::kind::int64:
      return Value::Number(static_cast<double>(v.get_int64()));
    case json::kind::uint64:
      return Value::Number(static_cast<double>(v.get_uint64()));
    case json::kind::double_:
      return Value::Number(v.get_double());
    case json::kind::string: {
      Value out(Kind::kString);
      out.borrowed_ = true;
      out.ptr_ = &v.get_string();
      return out;
    }
    case json::kind::object: {
      Value out(Kind::kObject);
      out.borrowed_ = true;
      out.ptr_ = &v.get_object();
      return out;
    }
    case json::kind::array: {
      std::vector<Value> items;
      items.reserve(v.get_array().size());
      for (const json::value& item : v.get_array()) items.push_back(Borrow(item));
      return Value::Array(std::move(items));
    }
  }
  return Value();
}

Value ObjectView::Get(std::string_view key) const {
  if (json_ != nullptr) {
    auto it = json_->find(key);
    return it == json_->end() ? Value() : Value::Borrow(it->value());
  }
  const Value* v = owned_->Find(key);
  return v != nullptr ? *v : Value();
}

std::size_t ObjectView::size() const { return json_ != nullptr ? json_->size() : owned_->size(); }

std::pair<std::string_view, Value> ObjectView::Iterator::operator*() const {
  if (json_ != nullptr) {
    const auto& member = json_->begin()[index_];
    return {std::string_view(member.key()), Value::Borrow(member.value())};
  }
  const auto& member = owned_->members()[index_];
  return {std::string_view(member.first), member.second};
}

ObjectView::Range ObjectView::members() const {
  Range r;
  r.first.owned_ = r.last.owned_ = owned_;
  r.first.json_ = r.last.json_ = json_;
  r.last.index_ = size();
  return r;
}

const Value* ObjectNode::Find(std::string_view key) const {
  if (!index_.empty()) {
    auto it = index_.find(std::string(key));
    return it == index_.end() ? nullptr : &members_[it->second].second;
  }
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ObjectNode::BuildIndex() {
  index_.reserve(members_.size() * 2);
  for (std::uint32_t i = 0; i < members_.size(); ++i) index_.emplace(members_[i].first, i);
}

void ObjectNode::Set(std::string_view key, Value value) {
  if (!index_.empty()) {
    auto [it, inserted] =
        index_.emplace(std::string(key), static_cast<std::uint32_t>(members_.size()));
    if (!inserted) {
      members_[it->second].second = std::move(value);
      return;
    }
    members_.emplace_back(std::string(key), std::move(value));
    return;
  }
  for (auto& [k, v] : members_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  members_.emplace_back(std::string(key), std::move(value));
  if (members_.size() >= kIndexFrom) BuildIndex();
}

void ObjectNode::AppendNew(std::string_view key, Value value) {
  if (!index_.empty()) {
    index_.emplace(std::string(key), static_cast<std::uint32_t>(members_.size()));
  }
  members_.emplace_back(std::string(key), std::move(value));
  if (index_.empty() && members_.size() >= kIndexFrom) BuildIndex();
}

bool ObjectNode::Erase(std::string_view key) {
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      if (!index_.empty()) {
        index_.clear();
        if (members_.size() >= kIndexFrom) BuildIndex();
      }
      return true;
    }
  }
  return false;
}

Value FromJson(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return Value::Null();
    case json::kind::bool_:
      return Value::Bool(v.get_bool());
    case json::kind::int64:
      return Value::Number(static_cast<double>(v.get_int64()));
    case json::kind::uint64:
      return Value::Number(static_cast<double>(v.get_uint64()));
    case json::kind::double_:
      return Value::Number(v.get_double());
    case json::kind::string:
      return Value::String(std::string(v.get_string()));
    case json::kind::array: {
      std::vector<Value> items;
      items.reserve(v.get_array().size());
      for (const json::value& item : v.get_array()) items.push_back(FromJson(item));
      return Value::Array(std::move(items));
    }
    case json::kind::object: {
      Value out = Value::Object();
      ObjectNode& obj = out.mutable_object();
      obj.Reserve(v.get_object().size());
      for (const auto& member : v.get_object()) {
        obj.Set(std::string_view(member.key()), FromJson(member.value()));
      }
      return out;
    }
  }
  return Value();
}

namespace {

json::value NumberToJson(double n) {
  // Integral values print without a fraction, as JavaScript writes them.
  if (std::isfinite(n) && std::trunc(n) == n && std::fabs(n) < 9007199254740992.0) {
    return json::value(static_cast<std::int64_t>(n));
  }
  if (!std::isfinite(n)) return json::value(nullptr);  // JSON.stringify writes null
  return json::value(n);
}

}  // namespace

std::optional<json::value> ToJson(const Value& v, const json::storage_ptr& sp) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kFunction:
      return std::nullopt;
    case Kind::kNull:
      return json::value(nullptr, sp);
    case Kind::kBool:
      return json::value(v.boolean(), sp);
    case Kind::kNumber:
      return json::value(NumberToJson(v.number()), sp);
    case Kind::kString:
      return json::value(v.string(), sp);
    case Kind::kArray: {
      const ArrayNode& arr = v.array();
      // An array given as the whole input comes back as itself.
      if (arr.outer_wrapper && arr.items.size() == 1) return ToJson(arr.items[0], sp);
      json::array out(sp);
      out.reserve(arr.items.size());
      for (const Value& item : arr.items) {
        std::optional<json::value> j = ToJson(item, sp);
        out.push_back(j ? std::move(*j) : json::value(nullptr));
      }
      return json::value(std::move(out));
    }
    case Kind::kObject: {
      if (v.borrowed()) return json::value(*static_cast<const json::object*>(v.identity()), sp);
      json::object out(sp);
      out.reserve(v.object().size());
      for (const auto& [key, member] : v.object().members()) {
        if (std::optional<json::value> j = ToJson(member, sp)) out.emplace(key, std::move(*j));
      }
      return json::value(std::move(out));
    }
  }
  return std::nullopt;
}

std::string FormatNumberJs(double n) {
  if (std::isnan(n)) return "NaN";
  if (std::isinf(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (n == 0) return "0";
  char buf[64];
  // Shortest round-trip digits in scientific form: d[.ddd]e[+-]x.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n, std::chars_format::scientific);
  std::string sci(buf, end);
  std::string out;
  std::size_t pos = 0;
  if (sci[0] == '-') {
    out.push_back('-');
    pos = 1;
  }
  std::size_t e = sci.find('e');
  std::string digits;
  for (std::size_t i = pos; i < e; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  int exponent = std::atoi(sci.c_str() + e + 1);
  int k = static_cast<int>(digits.size());
  int point = exponent + 1;  // the decimal point sits after this many digits
  if (k <= point && point <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(point - k), '0');
  } else if (0 < point && point <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(point));
    out.push_back('.');
    out += digits.substr(static_cast<std::size_t>(point));
  } else if (-6 < point && point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out += digits.substr(1);
    }
    out.push_back('e');
    out.push_back(point - 1 >= 0 ? '+' : '-');
    out += std::to_string(std::abs(point - 1));
  }
  return out;
}

namespace {

void AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

std::string Precision15(double n) {
  if (std::trunc(n) == n) return FormatNumberJs(n);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", n);
  return FormatNumberJs(std::strtod(buf, nullptr));
}

void Newline(std::string& out, int indent, int level) {
  out.push_back('\n');
  out.append(static_cast<std::size_t>(indent * level), ' ');
}

void StringifyInto(std::string& out, const Value& v, int indent, int level) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
      out += v.boolean() ? "true" : "false";
      return;
    case Kind::kNumber:
      if (std::isnan(v.number())) {
        out += "null";
      } else {
        IsNumeric(v);  // infinities fail
        out += Precision15(v.number());
      }
      return;
    case Kind::kString:
      AppendQuoted(out, v.string());
      return;
    case Kind::kFunction:
      out += "\"\"";
      return;
    case Kind::kArray: {
      const auto& items = v.array().items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out.push_back(',');
        if (indent > 0) Newline(out, indent, level + 1);
        StringifyInto(out, items[i], indent, level + 1);
      }
      if (indent > 0) Newline(out, indent, level);
      out.push_back(']');
      return;
    }
    case Kind::kObject: {
      bool first = true;
      out.push_back('{');
      for (const auto& [key, member] : v.object().members()) {
        if (member.undefined()) continue;
        if (!first) out.push_back(',');
        first = false;
        if (indent > 0) Newline(out, indent, level + 1);
        AppendQuoted(out, key);
        out.push_back(':');
        if (indent > 0) out.push_back(' ');
        StringifyInto(out, member, indent, level + 1);
      }
      if (!first && indent > 0) Newline(out, indent, level);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string Stringify(const Value& v, int indent) {
  std::string out;
  if (v.is_array() && v.array().outer_wrapper && v.size() == 1) {
    StringifyInto(out, v[0], indent, 0);
  } else {
    StringifyInto(out, v, indent, 0);
  }
  return out;
}

std::string DescribeValue(const Value& v) {
  if (v.undefined()) return "";
  if (v.is_number() && !std::isfinite(v.number())) return FormatNumberJs(v.number());
  try {
    return Stringify(v);
  } catch (const Failure&) {
    return "{}";  // holds an infinity somewhere
  }
}

bool DeepEqual(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNull:
      return true;
    case Kind::kBool:
    case Kind::kNumber:
      return a.number() == b.number();
    case Kind::kString:
      return a.string() == b.string();
    case Kind::kFunction:
      return a.identity() == b.identity();
    case Kind::kArray: {
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!DeepEqual(a[i], b[i])) return false;
      }
      return true;
    }
    case Kind::kObject: {
      ObjectView x = a.object();
      ObjectView y = b.object();
      if (x.size() != y.size()) return false;
      for (const auto& [key, member] : x.members()) {
        Value other = y.Get(key);
        if (other.undefined() || !DeepEqual(member, other)) return false;
      }
      return true;
    }
  }
  return false;
}

bool IsNumeric(const Value& v) {
  if (!v.is_number()) return false;
  double n = v.number();
  if (std::isnan(n)) return false;
  if (std::isinf(n)) Fail("D1001", {.value = n > 0 ? "Infinity" : "-Infinity"});
  return true;
}

bool IsArrayOfNumbers(const Value& v) {
  if (!v.is_array()) return false;
  for (const Value& item : v.array().items) {
    if (!IsNumeric(item)) return false;
  }
  return true;
}

bool IsArrayOfStrings(const Value& v) {
  if (!v.is_array()) return false;
  for (const Value& item : v.array().items) {
    if (!item.is_string()) return false;
  }
  return true;
}

std::size_t CodePointCount(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace zflow::jsonata
