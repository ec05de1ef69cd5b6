// Strings, numbers, regular expressions, encodings and dates of the JSONata library.
#include "jsonata/functions.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string_view>

#include <boost/unordered/unordered_flat_map.hpp>

#include "jsonata/error.h"
#include "jsonata/picture.h"
#include "jsonata/regex.h"

namespace zflow::jsonata {
namespace {

std::string JsonText(const Value& v) { return DescribeValue(v); }

// ---- UTF-8 helpers ----

std::vector<std::uint32_t> ToCodePoints(std::string_view s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    std::size_t len = 1;
    if (c >= 0xF0 && i + 3 < s.size() + 0) {
      cp = c & 0x07;
      len = 4;
    } else if (c >= 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if (c >= 0xC0) {
      cp = c & 0x1F;
      len = 2;
    }
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string FromCodePoints(const std::vector<std::uint32_t>& cps, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to && i < cps.size(); ++i) AppendUtf8(out, cps[i]);
  return out;
}

// Byte offset -> character count.
std::size_t CharIndex(std::string_view s, std::size_t byte) {
  return CodePointCount(s.substr(0, std::min(byte, s.size())));
}

Value Str(std::string s) { return Value::String(std::move(s)); }
Value Str(std::string_view s) { return Value::String(std::string(s)); }
Value Str(const char* s) { return Value::String(std::string(s)); }

// ---- strings ----

Value FnString(CallContext& c) {
  const Value& v = c.arg(0);
  if (v.undefined()) return Value();
  if (v.is_number() && !std::isfinite(v.number())) Fail("D3001", {.value = JsonText(v)});
  bool pretty = Truthy(c.arg(1));
  if (v.is_string()) return v;
  if (v.is_function()) return Str("");
  return Str(Stringify(v, pretty ? 2 : 0));
}

Value FnSubstring(CallContext& c) {
  const Value& s = c.arg(0);
  if (s.undefined()) return Value();
  std::vector<std::uint32_t> cps = ToCodePoints(s.string());
  double length = static_cast<double>(cps.size());
  double start = c.arg(1).number();
  if (length + start < 0) start = 0;
  auto clamp = [&](double x) {
    if (x < 0) x = std::max(0.0, length + x);
    if (std::isnan(x)) x = 0;
    return static_cast<std::size_t>(std::min(std::trunc(x), length));
  };
  if (c.arg(2).defined()) {
    double len = c.arg(2).number();
    if (len <= 0) return Str("");
    double end = start >= 0 ? start + len : length + start + len;
    std::size_t from = clamp(start);
    std::size_t to = clamp(end);
    if (to <= from) return Str("");
    return Str(FromCodePoints(cps, from, to));
  }
  return Str(FromCodePoints(cps, clamp(start), cps.size()));
}

Value FnSubstringBefore(CallContext& c) {
  const Value& s = c.arg(0);
  if (s.undefined()) return Value();
  // An undefined search string is "undefined", as JavaScript's indexOf reads it.
  std::string_view chars = c.arg(1).is_string() ? c.arg(1).string() : "undefined";
  std::size_t pos = s.string().find(chars);
  if (pos == std::string::npos) return s;
  return Str(s.string().substr(0, pos));
}

Value FnSubstringAfter(CallContext& c) {
  const Value& s = c.arg(0);
  if (s.undefined()) return Value();
  std::string_view chars = c.arg(1).is_string() ? c.arg(1).string() : "undefined";
  std::size_t pos = s.string().find(chars);
  if (pos == std::string::npos) return s;
  return Str(s.string().substr(pos + chars.size()));
}

locale_t Utf8Locale() {
  static locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return locale;
}

Value ChangeCase(const Value& s, bool upper) {
  if (s.undefined()) return Value();
  std::string out;
  out.reserve(s.string().size());
  bool ascii = true;
  for (unsigned char ch : s.string()) {
    if (ch >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    for (char ch : s.string()) {
      out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch)))
                          : static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
    return Str(std::move(out));
  }
  locale_t locale = Utf8Locale();
  for (std::uint32_t cp : ToCodePoints(s.string())) {
    if (locale != nullptr) {
      cp = static_cast<std::uint32_t>(upper ? towupper_l(static_cast<wint_t>(cp), locale)
                                            : towlower_l(static_cast<wint_t>(cp), locale));
    }
    AppendUtf8(out, cp);
  }
  return Str(std::move(out));
}

Value FnLowercase(CallContext& c) { return ChangeCase(c.arg(0), false); }
Value FnUppercase(CallContext& c) { return ChangeCase(c.arg(0), true); }

Value FnLength(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  return Value::Number(static_cast<double>(CodePointCount(c.arg(0).string())));
}

Value FnTrim(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  std::string out;
  bool in_space = false;
  for (char ch : c.arg(0).string()) {
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(ch);
      in_space = false;
    }
  }
  if (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return Str(std::move(out));
}

Value FnPad(CallContext& c) {
  const Value& s = c.arg(0);
  if (s.undefined()) return Value();
  std::string pad_char =
      c.arg(2).defined() && !c.arg(2).string().empty() ? std::string(c.arg(2).string()) : " ";
  double width = std::trunc(c.arg(1).number());
  double pad_length = std::fabs(width) - static_cast<double>(CodePointCount(s.string()));
  if (!(pad_length > 0)) return s;
  std::size_t n = static_cast<std::size_t>(pad_length);
  std::vector<std::uint32_t> pad_cps = ToCodePoints(pad_char);
  std::string padding;
  for (std::size_t i = 0; i < n; ++i) AppendUtf8(padding, pad_cps[i % pad_cps.size()]);
  return Str(width > 0 ? std::string(s.string()) + padding : padding + std::string(s.string()));
}

Value FnContains(CallContext& c) {
  const Value& s = c.arg(0);
  const Value& token = c.arg(1);
  if (s.undefined() || token.undefined()) return Value();
  if (token.is_string()) return Value::Bool(s.string().find(token.string()) != std::string::npos);
  Matcher m(c.evaluator, token, s.string(), c.env);
  return Value::Bool(m.Next().has_value());
}

Value MatchToObject(const MatchResult& m) {
  Value obj = Value::Object();
  ObjectNode& o = obj.mutable_object();
  o.Set("match", Str(m.match));
  o.Set("index", Value::Number(static_cast<double>(m.index)));
  o.Set("groups", Value::Array(m.groups));
  return obj;
}

Value FnMatch(CallContext& c) {
  const Value& s = c.arg(0);
  if (s.undefined()) return Value();
  const Value& limit = c.arg(2);
  if (limit.defined() && limit.number() < 0) Fail("D3040", {.value = JsonText(limit), .index = 3});
  std::vector<Value> out;
  if (limit.undefined() || limit.number() > 0) {
    Matcher m(c.evaluator, c.arg(1), s.string(), c.env);
    while (limit.undefined() || static_cast<double>(out.size()) < limit.number()) {
      std::optional<MatchResult> r = m.Next();
      if (!r) break;
      out.push_back(MatchToObject(*r));
    }
  }
  return Value::Sequence(std::move(out));
}

std::string SubstituteGroups(std::string_view replacement, const MatchResult& m) {
  std::string out;
  std::size_t position = 0;
  std::size_t index = replacement.find('$', position);
  while (index != std::string::npos && position < replacement.size()) {
    out += replacement.substr(position, index - position);
    position = index + 1;
    char next = position < replacement.size() ? replacement[position] : '\0';
    if (next == '$') {
      out.push_back('$');
      ++position;
    } else if (next == '0') {
      out += m.match;
      ++position;
    } else {
      std::size_t groups = m.groups.size();
      std::size_t max_digits =
          groups == 0 ? 1 : static_cast<std::size_t>(std::floor(std::log10(double(groups)))) + 1;
      auto parse = [&](std::size_t digits) -> std::optional<std::size_t> {
        std::size_t k = position;
        std::size_t value = 0;
        bool any = false;
        while (k < replacement.size() && k < position + digits && replacement[k] >= '0' &&
               replacement[k] <= '9') {
          value = value * 10 + static_cast<std::size_t>(replacement[k] - '0');
          any = true;
          ++k;
        }
        if (!any) return std::nullopt;
        return value;
      };
      std::optional<std::size_t> group = parse(max_digits);
      if (max_digits > 1 && group && *group > groups) group = parse(max_digits - 1);
      if (group) {
        if (groups > 0) {
          if (*group >= 1 && *group <= groups && m.groups[*group - 1].is_string()) {
            out += m.groups[*group - 1].string();
          }
        }
        position += std::to_string(*group).size();
      } else {
        out.push_back('$');
      }
    }
    index = replacement.find('$', position);
  }
  if (position < replacement.size()) out += replacement.substr(position);
  return out;
}

Value MatchToFullObject(const MatchResult& m) {
  Value obj = Value::Object();
  ObjectNode& o = obj.mutable_object();
  o.Set("match", Str(m.match));
  o.Set("start", Value::Number(static_cast<double>(m.index)));
  o.Set("end", Value::Number(static_cast<double>(m.index + CodePointCount(m.match))));
  o.Set("groups", Value::Array(m.groups));
  return obj;
}

Value FnReplace(CallContext& c) {
  const Value& s = c.arg(0);
  if (s.undefined()) return Value();
  const Value& pattern = c.arg(1);
  const Value& replacement = c.arg(2);
  const Value& limit = c.arg(3);
  if (pattern.undefined()) Fail("T0410", {.index = 2});
  if (pattern.is_string() && pattern.string().empty()) {
    Fail("D3010", {.value = "\"\"", .index = 2});
  }
  if (limit.defined() && limit.number() < 0) Fail("D3011", {.value = JsonText(limit), .index = 4});
  if (limit.defined() && limit.number() == 0) return s;
  std::string_view str = s.string();
  std::string out;
  std::size_t position = 0;
  double count = 0;
  auto under_limit = [&] { return limit.undefined() || count < limit.number(); };
  if (pattern.is_string()) {
    std::string_view p = pattern.string();
    std::string with = replacement.is_string() ? std::string(replacement.string()) : "";
    std::size_t index = str.find(p, position);
    while (index != std::string::npos && under_limit()) {
      out += str.substr(position, index - position);
      out += with;
      position = index + p.size();
      ++count;
      index = str.find(p, position);
    }
    out += str.substr(position);
    return Str(std::move(out));
  }
  Matcher m(c.evaluator, pattern, str, c.env);
  std::optional<MatchResult> r = m.Next();
  if (!r) return s;
  while (r && under_limit()) {
    out += str.substr(position, r->start - position);
    if (replacement.is_string()) {
      out += SubstituteGroups(replacement.string(), *r);
    } else {
      Value with = c.evaluator.Apply(replacement, {MatchToFullObject(*r)}, Value(), c.env);
      if (!with.is_string()) Fail("D3012", {.value = JsonText(with)});
      out += with.string();
    }
    position = r->start + r->match.size();
    ++count;
    if (!under_limit()) break;
    r = m.Next();
  }
  out += str.substr(std::min(position, str.size()));
  return Str(std::move(out));
}

Value FnSplit(CallContext& c) {
  const Value& s = c.arg(0);
  if (s.undefined()) return Value();
  const Value& sep = c.arg(1);
  const Value& limit = c.arg(2);
  if (limit.defined() && limit.number() < 0) Fail("D3020", {.value = JsonText(limit), .index = 3});
  if (sep.undefined()) Fail("T0410", {.index = 2});
  std::vector<Value> out;
  if (limit.defined() && limit.number() == 0) return Value::Array(std::move(out));
  std::string_view str = s.string();
  if (sep.is_string()) {
    std::string_view p = sep.string();
    // String.prototype.split's limit is a whole number.
    Value whole = limit.defined() ? Value::Number(std::floor(limit.number())) : limit;
    auto under_whole = [&] { return whole.undefined() || double(out.size()) < whole.number(); };
    if (p.empty()) {
      for (std::uint32_t cp : ToCodePoints(str)) {
        if (!under_whole()) break;
        std::string one;
        AppendUtf8(one, cp);
        out.push_back(Str(std::move(one)));
      }
      return Value::Array(std::move(out));
    }
    std::size_t start = 0;
    for (;;) {
      if (!under_whole()) break;
      std::size_t index = str.find(p, start);
      if (index == std::string::npos) {
        out.push_back(Str(str.substr(start)));
        break;
      }
      out.push_back(Str(str.substr(start, index - start)));
      start = index + p.size();
    }
    return Value::Array(std::move(out));
  }
  Matcher m(c.evaluator, sep, str, c.env);
  std::size_t start = 0;
  double count = 0;
  std::optional<MatchResult> r = m.Next();
  if (!r) {
    out.push_back(s);
    return Value::Array(std::move(out));
  }
  while (r && (limit.undefined() || count < limit.number())) {
    out.push_back(Str(str.substr(start, r->start - start)));
    start = r->end;
    ++count;
    if (!(limit.undefined() || count < limit.number())) break;
    r = m.Next();
  }
  if (limit.undefined() || count < limit.number()) out.push_back(Str(str.substr(start)));
  return Value::Array(std::move(out));
}

Value FnJoin(CallContext& c) {
  const Value& strs = c.arg(0);
  if (strs.undefined()) return Value();
  std::string sep = c.arg(1).defined() ? std::string(c.arg(1).string()) : "";
  std::string out;
  bool first = true;
  for (const Value& v : strs.array().items) {
    if (!first) out += sep;
    first = false;
    out += v.string();
  }
  return Str(std::move(out));
}

// ---- encodings ----

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Value FnBase64Encode(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  // Characters are taken as Latin-1 bytes, as the reference's btoa does.
  std::string bytes;
  for (std::uint32_t cp : ToCodePoints(c.arg(0).string())) bytes.push_back(static_cast<char>(cp));
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                      (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) | std::uint8_t(bytes[i + 2]);
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(kBase64[(n >> 6) & 63]);
    out.push_back(kBase64[n & 63]);
  }
  if (i < bytes.size()) {
    std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kBase64[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return Str(std::move(out));
}

Value FnBase64Decode(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  std::uint32_t buffer = 0;
  int bits = 0;
  std::string out;
  for (char ch : c.arg(0).string()) {
    const char* p = std::strchr(kBase64, ch);
    if (ch == '=' || ch == '\0' || p == nullptr) continue;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      AppendUtf8(out, (buffer >> bits) & 0xFF);
    }
  }
  return Str(std::move(out));
}

bool Unreserved(unsigned char ch, bool component) {
  if (std::isalnum(ch)) return true;
  if (std::strchr("-_.!~*'()", ch) != nullptr) return true;
  return !component && std::strchr(";,/?:@&=+$#", ch) != nullptr;
}

Value Encode(CallContext& c, bool component) {
  if (c.arg(0).undefined()) return Value();
  std::string out;
  for (unsigned char ch : c.arg(0).string()) {
    if (ch != 0 && Unreserved(ch, component)) {
      out.push_back(static_cast<char>(ch));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      out += buf;
    }
  }
  return Str(std::move(out));
}

Value Decode(CallContext& c, bool component, const char* name) {
  if (c.arg(0).undefined()) return Value();
  std::string_view s = c.arg(0).string();
  auto malformed = [&] { Fail("D3140", {.value = JsonText(c.arg(0)), .raw = name}); };
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '%') {
      out.push_back(s[i++]);
      continue;
    }
    if (i + 2 >= s.size() + 0 && i + 2 > s.size() - 1 + 0) {
      if (i + 2 >= s.size()) malformed();
    }
    int hi = hex(s[i + 1]);
    int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) malformed();
    unsigned char byte = static_cast<unsigned char>(hi * 16 + lo);
    if (byte < 0x80) {
      if (!component && std::strchr(";/?:@&=+$,#", byte) != nullptr) {
        out.append(s, i, 3);  // decodeURI keeps reserved characters escaped
      } else {
        out.push_back(static_cast<char>(byte));
      }
      i += 3;
      continue;
    }
    // A multi-byte sequence: every byte escaped, and valid UTF-8 together.
    int len = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 0;
    if (len == 0 || byte >= 0xF8) malformed();
    std::string seq(1, static_cast<char>(byte));
    std::size_t j = i + 3;
    for (int k = 1; k < len; ++k) {
      if (j + 2 >= s.size() + 0 && j + 2 > s.size() - 1) malformed();
      if (s[j] != '%') malformed();
      int h = hex(s[j + 1]);
      int l = hex(s[j + 2]);
      if (h < 0 || l < 0) malformed();
      unsigned char b = static_cast<unsigned char>(h * 16 + l);
      if ((b & 0xC0) != 0x80) malformed();
      seq.push_back(static_cast<char>(b));
      j += 3;
    }
    out += seq;
    i = j;
  }
  return Str(std::move(out));
}

Value FnEncodeUrlComponent(CallContext& c) { return Encode(c, true); }
Value FnEncodeUrl(CallContext& c) { return Encode(c, false); }
Value FnDecodeUrlComponent(CallContext& c) { return Decode(c, true, "decodeUrlComponent"); }
Value FnDecodeUrl(CallContext& c) { return Decode(c, false, "decodeUrl"); }

// ---- numbers ----

Value FnNumber(CallContext& c) {
  const Value& v = c.arg(0);
  if (v.undefined()) return Value();
  if (v.is_number()) return v;
  if (v.is_bool()) return Value::Number(v.boolean() ? 1 : 0);
  if (v.is_string()) {
    std::string s(v.string());
    // -?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?
    std::size_t i = 0;
    auto digits = [&] {
      std::size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      return i > start;
    };
    bool ok = true;
    if (i < s.size() && s[i] == '-') ++i;
    ok = digits();
    if (ok && i < s.size() && s[i] == '.') {
      ++i;
      ok = digits();
    }
    if (ok && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      ok = digits();
    }
    if (ok && i == s.size()) {
      double d = std::strtod(s.c_str(), nullptr);
      if (std::isfinite(d)) return Value::Number(d);
    }
    if (s.size() > 2 && s[0] == '0') {
      int base = 0;
      char p = s[1];
      if (p == 'x' || p == 'X') base = 16;
      if (p == 'o' || p == 'O') base = 8;
      if (p == 'b' || p == 'B') base = 2;
      if (base != 0) {
        char* end = nullptr;
        double d = static_cast<double>(std::strtoull(s.c_str() + 2, &end, base));
        if (end != nullptr && *end == '\0') return Value::Number(d);
      }
    }
  }
  Fail("D3030", {.value = JsonText(v), .index = 1});
}

Value FnAbs(CallContext& c) {
  return c.arg(0).undefined() ? Value() : Value::Number(std::fabs(c.arg(0).number()));
}
Value FnFloor(CallContext& c) {
  return c.arg(0).undefined() ? Value() : Value::Number(std::floor(c.arg(0).number()));
}
Value FnCeil(CallContext& c) {
  return c.arg(0).undefined() ? Value() : Value::Number(std::ceil(c.arg(0).number()));
}

// Shifts the decimal exponent through the number's text, as the reference does, so that
// 1.005 at precision 2 is 100.5 exactly and rounds half to even.
double ShiftDecimal(double x, double places) {
  std::string text = FormatNumberJs(x);
  std::size_t e = text.find('e');
  std::string mantissa = e == std::string::npos ? text : text.substr(0, e);
  double exponent = e == std::string::npos ? 0 : std::strtod(text.c_str() + e + 1, nullptr);
  std::string shifted = mantissa + "e" + FormatNumberJs(exponent + places);
  return std::strtod(shifted.c_str(), nullptr);
}

double Round(double x, double precision) {
  if (precision != 0 && !std::isnan(precision)) x = ShiftDecimal(x, precision);
  double result = std::floor(x + 0.5);
  double diff = result - x;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(result, 2)) == 1) result -= 1;
  if (precision != 0 && !std::isnan(precision)) result = ShiftDecimal(result, -precision);
  if (result == 0) result = 0;  // no negative zero
  return result;
}

Value FnRound(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  double precision = c.arg(1).defined() ? c.arg(1).number() : 0;
  return Value::Number(Round(c.arg(0).number(), precision));
}

Value FnSqrt(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  double x = c.arg(0).number();
  if (x < 0) Fail("D3060", {.value = JsonText(c.arg(0)), .index = 1});
  return Value::Number(std::sqrt(x));
}

Value FnPower(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  double r = std::pow(c.arg(0).number(), c.arg(1).number());
  if (!std::isfinite(r)) {
    Fail("D3061", {.value = JsonText(c.arg(0)), .value2 = JsonText(c.arg(1)), .index = 1});
  }
  return Value::Number(r);
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

Value FnRandom(CallContext&) {
  return Value::Number(std::uniform_real_distribution<double>(0.0, 1.0)(Rng()));
}

Value FnFormatBase(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  double value = Round(c.arg(0).number(), 0);
  double radix = 10;
  if (c.arg(1).defined()) {
    radix = Round(c.arg(1).number(), 0);
    if (radix < 2 || radix > 36) Fail("D3100", {.value = FormatNumberJs(radix)});
  }
  bool negative = value < 0;
  double v = std::fabs(value);
  std::string digits;
  int base = static_cast<int>(radix);
  if (v == 0) digits = "0";
  while (v >= 1) {
    double q = std::floor(v / base);
    int d = static_cast<int>(v - q * base);
    digits.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[d]);
    v = q;
  }
  std::reverse(digits.begin(), digits.end());
  return Str((negative ? "-" : "") + digits);
}

Value FnFormatNumber(CallContext& c) {
  if (c.arg(0).undefined() || c.arg(1).undefined()) return Value();
  std::vector<std::pair<std::string, std::string>> options;
  if (c.arg(2).is_object()) {
    for (const auto& [k, v] : c.arg(2).object().members()) {
      if (v.is_string()) options.emplace_back(k, v.string());
    }
  }
  return Str(FormatNumber(c.arg(0).number(), c.arg(1).string(), options));
}

Value FnFormatInteger(CallContext& c) {
  if (c.arg(0).undefined() || c.arg(1).undefined()) return Value();
  return Str(FormatInteger(c.arg(0).number(), c.arg(1).string()));
}

Value FnParseInteger(CallContext& c) {
  if (c.arg(0).undefined() || c.arg(1).undefined()) return Value();
  std::optional<double> n = ParseInteger(c.arg(0).string(), c.arg(1).string());
  return n ? Value::Number(*n) : Value();
}

std::optional<std::string_view> OptionalString(const Value& v) {
  if (v.is_string()) return std::string_view(v.string());
  return std::nullopt;
}

Value FnFromMillis(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  return Str(FormatDateTime(c.arg(0).number(), OptionalString(c.arg(1)), OptionalString(c.arg(2))));
}

Value FnToMillis(CallContext& c) {
  if (c.arg(0).undefined()) return Value();
  std::optional<double> n =
      ParseDateTime(c.arg(0).string(), OptionalString(c.arg(1)), EvaluationNow(c.evaluator));
  return n ? Value::Number(*n) : Value();
}

Value FnNow(CallContext& c) {
  return Str(FormatDateTime(EvaluationNow(c.evaluator), OptionalString(c.arg(0)),
                            OptionalString(c.arg(1))));
}

Value FnMillis(CallContext& c) { return Value::Number(EvaluationNow(c.evaluator)); }

Builtin kBuiltins[] = {
    {"string", "<x-b?:s>", 1, FnString, {}},
    {"substring", "<s-nn?:s>", 3, FnSubstring, {}},
    {"substringBefore", "<s-s:s>", 2, FnSubstringBefore, {}},
    {"substringAfter", "<s-s:s>", 2, FnSubstringAfter, {}},
    {"lowercase", "<s-:s>", 1, FnLowercase, {}},
    {"uppercase", "<s-:s>", 1, FnUppercase, {}},
    {"length", "<s-:n>", 1, FnLength, {}},
    {"trim", "<s-:s>", 1, FnTrim, {}},
    {"pad", "<s-ns?:s>", 3, FnPad, {}},
    {"match", "<s-f<s:o>n?:a<o>>", 3, FnMatch, {}},
    {"contains", "<s-(sf):b>", 2, FnContains, {}},
    {"replace", "<s-(sf)(sf)n?:s>", 4, FnReplace, {}},
    {"split", "<s-(sf)n?:a<s>>", 3, FnSplit, {}},
    {"join", "<a<s>s?:s>", 2, FnJoin, {}},
    {"formatNumber", "<n-so?:s>", 3, FnFormatNumber, {}},
    {"formatBase", "<n-n?:s>", 2, FnFormatBase, {}},
    {"formatInteger", "<n-s:s>", 2, FnFormatInteger, {}},
    {"parseInteger", "<s-s:n>", 2, FnParseInteger, {}},
    {"number", "<(nsb)-:n>", 1, FnNumber, {}},
    {"floor", "<n-:n>", 1, FnFloor, {}},
    {"ceil", "<n-:n>", 1, FnCeil, {}},
    {"round", "<n-n?:n>", 2, FnRound, {}},
    {"abs", "<n-:n>", 1, FnAbs, {}},
    {"sqrt", "<n-:n>", 1, FnSqrt, {}},
    {"power", "<n-n:n>", 2, FnPower, {}},
    {"random", "<:n>", 0, FnRandom, {}},
    {"base64encode", "<s-:s>", 1, FnBase64Encode, {}},
    {"base64decode", "<s-:s>", 1, FnBase64Decode, {}},
    {"encodeUrlComponent", "<s-:s>", 1, FnEncodeUrlComponent, {}},
    {"encodeUrl", "<s-:s>", 1, FnEncodeUrl, {}},
    {"decodeUrlComponent", "<s-:s>", 1, FnDecodeUrlComponent, {}},
    {"decodeUrl", "<s-:s>", 1, FnDecodeUrl, {}},
    {"toMillis", "<s-s?:n>", 2, FnToMillis, {}},
    {"fromMillis", "<n-s?s?:s>", 3, FnFromMillis, {}},
    {"now", "<s?s?:s>", 2, FnNow, {}},
    {"millis", "<:n>", 0, FnMillis, {}},
};

}  // namespace

std::string CastString(const Value& v) {
  if (v.is_string()) return std::string(v.string());
  if (v.is_function()) return "";
  if (v.is_number() && !std::isfinite(v.number())) Fail("D3001", {.value = JsonText(v)});
  return Stringify(v);
}

Matcher::Matcher(Evaluator& evaluator, const Value& matcher, std::string_view subject,
                 const FramePtr& env)
    : evaluator_(evaluator), matcher_(matcher), subject_(subject), env_(env) {}

std::optional<MatchResult> Matcher::Next() {
  if (done_) return std::nullopt;
  const FunctionNode& f = matcher_.function();
  if (f.type == FunctionNode::Type::kRegex && f.first.undefined()) {
    if (started_ && last_index_ >= subject_.size()) {
      done_ = true;
      return std::nullopt;
    }
    std::optional<Regex::Match> m = f.regex->Find(subject_, last_index_);
    if (!m) {
      done_ = true;
      return std::nullopt;
    }
    if (started_ && m->start == m->end) Fail("D1004", {.value = "\"" + f.regex->pattern() + "\""});
    started_ = true;
    MatchResult r;
    r.start = m->start;
    r.end = m->end;
    r.match = subject_.substr(m->start, m->end - m->start);
    r.index = CharIndex(subject_, m->start);
    for (const auto& g : m->groups) {
      r.groups.push_back(g ? Value::String(subject_.substr(g->first, g->second - g->first))
                           : Value::String(""));
    }
    last_index_ = m->end;
    return r;
  }
  // A user-defined matcher: call it, then follow each result's `next`.
  Value result = started_ ? (next_fn_.is_function()
                                 ? evaluator_.Apply(next_fn_, {}, Value(), env_)
                                 : Value())
                          : evaluator_.Apply(matcher_, {Value::String(subject_)}, Value(), env_);
  started_ = true;
  if (result.undefined()) {
    done_ = true;
    return std::nullopt;
  }
  if (!result.is_object()) Fail("T1010", {});
  ObjectView o = result.object();
  Value start = o.Get("start");
  Value end = o.Get("end");
  Value groups = o.Get("groups");
  Value next = o.Get("next");
  Value match = o.Get("match");
  if (!start.is_number() && !end.is_number() && !groups.is_array() && !next.is_function()) {
    Fail("T1010", {});
  }
  MatchResult r;
  r.match = match.is_string() ? std::string(match.string()) : "";
  std::size_t char_start = start.is_number() ? static_cast<std::size_t>(start.number()) : 0;
  // Character positions to byte offsets.
  std::vector<std::uint32_t> cps = ToCodePoints(subject_);
  r.index = char_start;
  r.start = FromCodePoints(cps, 0, char_start).size();
  r.end = r.start + r.match.size();
  if (groups.is_array()) r.groups = groups.array().items;
  next_fn_ = next;
  return r;
}

Value RegexMatchObject(Evaluator& evaluator, const Value& matcher, const Value& subject,
                       double from) {
  const FunctionNode& f = matcher.function();
  // A `next` function carries its subject and position.
  Value text = f.first.defined() ? f.first : subject;
  if (!text.is_string()) return Value();
  std::size_t start = f.first.defined() ? static_cast<std::size_t>(f.second.number())
                                        : static_cast<std::size_t>(std::max(from, 0.0));
  std::string_view s = text.string();
  if (f.first.defined() && start >= s.size()) return Value();
  std::optional<Regex::Match> m = f.regex->Find(s, std::min(start, s.size()));
  if (!m) return Value();
  if (f.first.defined() && m->start == m->end) {
    Fail("D1004", {.value = "\"" + f.regex->pattern() + "\""});
  }
  (void)evaluator;
  Value obj = Value::Object();
  ObjectNode& o = obj.mutable_object();
  o.Set("match", Value::String(s.substr(m->start, m->end - m->start)));
  std::size_t index = CharIndex(s, m->start);
  o.Set("start", Value::Number(static_cast<double>(index)));
  o.Set("end", Value::Number(static_cast<double>(index + CharIndex(s.substr(m->start), m->end - m->start))));
  std::vector<Value> groups;
  for (const auto& g : m->groups) {
    groups.push_back(g ? Value::String(s.substr(g->first, g->second - g->first)) : Value::String(""));
  }
  o.Set("groups", Value::Array(std::move(groups)));
  boost::intrusive_ptr<FunctionNode> next(new FunctionNode());
  next->type = FunctionNode::Type::kRegex;
  next->regex = f.regex;
  next->first = text;
  next->second = Value::Number(static_cast<double>(m->end));
  o.Set("next", Value::Function(std::move(next)));
  return obj;
}

std::span<Builtin> StringAndNumberBuiltins() { return kBuiltins; }

}  // namespace zflow::jsonata
