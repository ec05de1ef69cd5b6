// $formatNumber (XPath fn:format-number as jsonata-js implements it) and the text helpers the
// picture functions share. The reference works on JavaScript strings with indexOf / substring /
// slice and on JavaScript numbers (toString, toFixed); this file reproduces those operations on
// code points so the output matches it character for character, including its quirks (a
// fractional part taken from the suffix when the picture has no decimal separator, grouping
// positions of the fractional part searched in the integer part, ...).
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jsonata/error.h"
#include "jsonata/picture.h"
#include "jsonata/value.h"

namespace zflow::jsonata {
namespace picture_internal {

std::u32string DecodeUtf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t len = lead < 0x80           ? 1
                      : (lead >> 5) == 0x6  ? 2
                      : (lead >> 4) == 0xE  ? 3
                      : (lead >> 3) == 0x1E ? 4
                                            : 0;
    char32_t cp = len == 1   ? lead
                  : len == 2 ? (lead & 0x1F)
                  : len == 3 ? (lead & 0x0F)
                             : (lead & 7);
    bool ok = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    // Overlong forms and surrogates are malformed too: JSON text never yields them.
    static constexpr std::array<char32_t, 5> kMin = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) AppendUtf8(out, static_cast<std::uint32_t>(cp));
  return out;
}

std::string JsNumberToString(double value) { return FormatNumberJs(value); }

}  // namespace picture_internal

namespace {

using picture_internal::DecodeUtf8;
using picture_internal::EncodeUtf8;
using picture_internal::JsNumberToString;
using Text = std::u32string;

constexpr std::ptrdiff_t kNotFound = -1;

// String.prototype.indexOf / lastIndexOf, with JavaScript's clamping of the start position.
std::ptrdiff_t IndexOf(const Text& s, const Text& what, std::ptrdiff_t from = 0) {
  const std::size_t start = static_cast<std::size_t>(
      std::clamp<std::ptrdiff_t>(from, 0, static_cast<std::ptrdiff_t>(s.size())));
  const std::size_t pos = s.find(what, start);
  return pos == Text::npos ? kNotFound : static_cast<std::ptrdiff_t>(pos);
}
std::ptrdiff_t LastIndexOf(const Text& s, const Text& what) {
  const std::size_t pos = s.rfind(what);
  return pos == Text::npos ? kNotFound : static_cast<std::ptrdiff_t>(pos);
}
bool Contains(const Text& s, const Text& what) { return IndexOf(s, what) != kNotFound; }

// String.prototype.substring: clamps both ends and swaps them when reversed.
Text Substring(const Text& s, std::ptrdiff_t a, std::ptrdiff_t b = PTRDIFF_MAX) {
  const auto len = static_cast<std::ptrdiff_t>(s.size());
  a = std::clamp<std::ptrdiff_t>(a, 0, len);
  b = std::clamp<std::ptrdiff_t>(b, 0, len);
  if (a > b) std::swap(a, b);
  return s.substr(a, b - a);
}
// String.prototype.slice: negative positions count from the end.
Text Slice(const Text& s, std::ptrdiff_t a, std::ptrdiff_t b = PTRDIFF_MAX) {
  const auto len = static_cast<std::ptrdiff_t>(s.size());
  const auto norm = [len](std::ptrdiff_t i) {
    return i < 0 ? std::max<std::ptrdiff_t>(len + i, 0) : std::min(i, len);
  };
  a = norm(a);
  b = norm(b);
  return a < b ? s.substr(a, b - a) : Text();
}
// charAt: one character, or "" outside the string.
Text CharAt(const Text& s, std::ptrdiff_t i) {
  return i >= 0 && i < static_cast<std::ptrdiff_t>(s.size()) ? Text(1, s[i]) : Text();
}
Text Repeat(const Text& s, double times) {
  Text out;
  for (double i = 0; i < times; ++i) out += s;
  return out;
}
// String.prototype.split with a string separator ("" splits into characters).
std::vector<Text> Split(const Text& s, const Text& separator) {
  std::vector<Text> parts;
  if (separator.empty()) {
    for (char32_t c : s) parts.emplace_back(1, c);
    return parts;
  }
  std::size_t start = 0;
  for (std::size_t pos; (pos = s.find(separator, start)) != Text::npos;
       start = pos + separator.size()) {
    parts.push_back(s.substr(start, pos - start));
  }
  parts.push_back(s.substr(start));
  return parts;
}
// String.prototype.replace(string, string): the first occurrence, with the replacement's $$, $&,
// $` and $' patterns.
Text ReplaceFirst(const Text& s, const Text& what, const Text& with) {
  const std::size_t pos = s.find(what);
  if (pos == Text::npos) return s;
  Text replacement;
  for (std::size_t i = 0; i < with.size(); ++i) {
    if (with[i] == U'$' && i + 1 < with.size()) {
      const char32_t next = with[i + 1];
      if (next == U'$') {
        replacement += U'$';
        ++i;
        continue;
      }
      if (next == U'&') {
        replacement += what;
        ++i;
        continue;
      }
      if (next == U'`') {
        replacement += s.substr(0, pos);
        ++i;
        continue;
      }
      if (next == U'\'') {
        replacement += s.substr(pos + what.size());
        ++i;
        continue;
      }
    }
    replacement += with[i];
  }
  return s.substr(0, pos) + replacement + s.substr(pos + what.size());
}

// The unary + of a string "<mantissa>e<exponent>" (always well formed here).
double ParseJsNumber(const std::string& text) {
  double value = std::numeric_limits<double>::quiet_NaN();
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    // Too large is infinite, too small is zero, as in JavaScript.
    const std::size_t e = text.find('e');
    const bool huge = e != std::string::npos && text[e + 1] != '-';
    value = huge ? std::numeric_limits<double>::infinity() : 0.0;
    if (text[0] == '-') value = -value;
  }
  return value;
}

// Math.round: the nearest integer, halves towards +infinity.
double JsMathRound(double x) {
  if (!std::isfinite(x)) return x;
  const double floor = std::floor(x);
  return x - floor >= 0.5 ? floor + 1 : floor;
}

// JSONata's $round(arg, precision), which formatNumber uses: round half to even, the decimal
// point shifted through the number's string form to avoid binary scaling errors.
double JsonataRound(double arg, double precision) {
  const auto shift = [](double value, double by) {
    const std::string text = JsNumberToString(value);
    const std::size_t e = text.find('e');
    // The exponent of toString() carries a "+" ("1e+21") that from_chars does not take.
    const std::size_t digits = e == std::string::npos ? e : text.find_first_not_of('+', e + 1);
    const double exponent = e == std::string::npos ? 0 : ParseJsNumber(text.substr(digits));
    return ParseJsNumber(text.substr(0, e) + "e" + JsNumberToString(exponent + by));
  };
  if (precision != 0) arg = shift(arg, precision);
  double result = JsMathRound(arg);
  if (std::fabs(result - arg) == 0.5 && std::fabs(std::fmod(result, 2)) == 1) result -= 1;
  if (precision != 0) result = shift(result, -precision);
  if (result == 0) result = 0;  // no -0 in JSON
  return result;
}

// Number.prototype.toFixed for x >= 0: the exact decimal value rounded half up (not the binary
// rounding printf applies), or toString() from 1e21 on.
std::string JsToFixed(double x, int digits) {
  if (digits > 100) {
    Fail("D1001", ErrorDetails{.value = "\"toFixed() digits argument must be between 0 and 100\""});
  }
  if (!(x < 1e21)) return JsNumberToString(x);
  // %.1100f prints the exact binary value (a double has at most 1074 fractional digits); the
  // digit after the last kept one decides the rounding.
  std::vector<char> buf(1500);
  const int len = std::snprintf(buf.data(), buf.size(), "%.1100f", x);
  std::string exact(buf.data(), len);
  const std::size_t point = exact.find('.');
  std::string kept = exact.substr(0, point) + exact.substr(point + 1, digits);
  if (exact[point + 1 + digits] >= '5') {
    int i = static_cast<int>(kept.size()) - 1;
    for (; i >= 0 && kept[i] == '9'; --i) kept[i] = '0';
    if (i < 0) {
      kept.insert(kept.begin(), '1');
    } else {
      ++kept[i];
    }
  }
  if (digits == 0) return kept;
  return kept.substr(0, kept.size() - digits) + "." + kept.substr(kept.size() - digits);
}

// The parts of a sub-picture (F&O 4.7.3) and what the analysis derives from them (4.7.4).
struct SubPicture {
  Text prefix, suffix, active, mantissa, integer, fractional, whole;
  std::optional<Text> exponent;
};
struct PictureAnalysis {
  std::vector<double> integer_grouping;
  double regular_grouping = 0;
  double min_integer = 0;
  double scaling_factor = 0;
  Text prefix;
  std::vector<double> fractional_grouping;
  double min_fractional = 0;
  double max_fractional = 0;
  double min_exponent = 0;
  Text suffix;
  Text picture;
};

class NumberFormatter {
 public:
  explicit NumberFormatter(const std::vector<std::pair<std::string, std::string>>& options) {
    static constexpr std::pair<std::string_view, std::string_view> kDefaults[] = {
        {"decimal-separator", "."},
        {"grouping-separator", ","},
        {"exponent-separator", "e"},
        {"infinity", "Infinity"},
        {"minus-sign", "-"},
        {"NaN", "NaN"},
        {"percent", "%"},
        {"per-mille", "\u2030"},
        {"zero-digit", "0"},
        {"digit", "#"},
        {"pattern-separator", ";"}};
    for (const auto& [name, value] : kDefaults) properties_[std::string(name)] = DecodeUtf8(value);
    for (const auto& [name, value] : options) properties_[name] = DecodeUtf8(value);
    decimal_ = properties_["decimal-separator"];
    grouping_ = properties_["grouping-separator"];
    exponent_ = properties_["exponent-separator"];
    minus_ = properties_["minus-sign"];
    percent_ = properties_["percent"];
    per_mille_ = properties_["per-mille"];
    zero_ = properties_["zero-digit"];
    digit_ = properties_["digit"];
    pattern_separator_ = properties_["pattern-separator"];
    // An empty zero-digit leaves the family empty, as charCodeAt(0) is NaN there.
    if (!zero_.empty()) {
      for (char32_t c = zero_[0]; c < zero_[0] + 10; ++c) family_.emplace_back(1, c);
    }
    active_ = family_;
    for (const Text* t : {&decimal_, &exponent_, &grouping_, &digit_, &pattern_separator_}) {
      active_.push_back(*t);
    }
  }

  std::string Format(double value, std::string_view picture_utf8) {
    const Text picture = DecodeUtf8(picture_utf8);
    const std::vector<Text> sub_pictures = Split(picture, pattern_separator_);
    if (sub_pictures.size() > 2) Fail("D3080");
    if (sub_pictures.empty()) {
      // "".split("") is []; the reference then reads a property of undefined.
      Fail("D1001", ErrorDetails{.value = "\"empty picture with an empty pattern-separator\""});
    }
    std::vector<SubPicture> parts;
    parts.reserve(sub_pictures.size());
    for (const Text& sub : sub_pictures) parts.push_back(SplitParts(sub));
    for (const SubPicture& part : parts) Validate(part);
    std::vector<PictureAnalysis> variables;
    variables.reserve(parts.size() + 1);
    for (const SubPicture& part : parts) variables.push_back(Analyse(part));
    if (variables.size() == 1) {
      variables.push_back(variables[0]);
      variables[1].prefix = minus_ + variables[1].prefix;
    }
    return EncodeUtf8(Apply(value, value >= 0 ? variables[0] : variables[1]));
  }

 private:
  bool IsFamily(const Text& ch) const {
    return std::find(family_.begin(), family_.end(), ch) != family_.end();
  }
  bool IsActive(const Text& ch) const {
    return std::find(active_.begin(), active_.end(), ch) != active_.end();
  }
  // How many characters of `s` are in the digit family (or are the optional digit too).
  double CountDigits(const Text& s, bool with_optional) const {
    double count = 0;
    for (char32_t c : s) {
      const Text ch(1, c);
      if (IsFamily(ch) || (with_optional && ch == digit_)) ++count;
    }
    return count;
  }

  SubPicture SplitParts(const Text& sub) const {
    SubPicture p;
    p.whole = sub;
    const auto len = static_cast<std::ptrdiff_t>(sub.size());
    const auto is_boundary = [&](std::ptrdiff_t i) {
      const Text ch(1, sub[i]);
      return IsActive(ch) && ch != exponent_;
    };
    for (std::ptrdiff_t i = 0; i < len; ++i) {
      if (is_boundary(i)) {
        p.prefix = Substring(sub, 0, i);
        break;
      }
    }
    for (std::ptrdiff_t i = len - 1; i >= 0; --i) {
      if (is_boundary(i)) {
        p.suffix = Substring(sub, i + 1);
        break;
      }
    }
    const auto prefix_len = static_cast<std::ptrdiff_t>(p.prefix.size());
    const auto suffix_len = static_cast<std::ptrdiff_t>(p.suffix.size());
    p.active = Substring(sub, prefix_len, len - suffix_len);
    const std::ptrdiff_t exponent_pos = IndexOf(sub, exponent_, prefix_len);
    if (exponent_pos == kNotFound || exponent_pos > len - suffix_len) {
      p.mantissa = p.active;
    } else {
      // The reference cuts the active part at the separator's position in the whole
      // sub-picture, which is off by the prefix length when there is a prefix.
      p.mantissa = Substring(p.active, 0, exponent_pos);
      p.exponent = Substring(p.active, exponent_pos + 1);
    }
    const std::ptrdiff_t decimal_pos = IndexOf(p.mantissa, decimal_);
    if (decimal_pos == kNotFound) {
      p.integer = p.mantissa;
      p.fractional = p.suffix;
    } else {
      p.integer = Substring(p.mantissa, 0, decimal_pos);
      p.fractional = Substring(p.mantissa, decimal_pos + 1);
    }
    return p;
  }

  // F&O 4.7.3; like the reference, the last rule broken decides the code.
  void Validate(const SubPicture& p) const {
    const char* error = nullptr;
    const Text& sub = p.whole;
    const std::ptrdiff_t decimal_pos = IndexOf(sub, decimal_);
    if (decimal_pos != LastIndexOf(sub, decimal_)) error = "D3081";
    if (IndexOf(sub, percent_) != LastIndexOf(sub, percent_)) error = "D3082";
    if (IndexOf(sub, per_mille_) != LastIndexOf(sub, per_mille_)) error = "D3083";
    if (Contains(sub, percent_) && Contains(sub, per_mille_)) error = "D3084";
    bool valid = false;
    for (char32_t c : p.mantissa) {
      const Text ch(1, c);
      if (IsFamily(ch) || ch == digit_) {
        valid = true;
        break;
      }
    }
    if (!valid) error = "D3085";
    for (char32_t c : p.active) {
      if (!IsActive(Text(1, c))) error = "D3086";
    }
    if (decimal_pos != kNotFound) {
      if (CharAt(sub, decimal_pos - 1) == grouping_ || CharAt(sub, decimal_pos + 1) == grouping_) {
        error = "D3087";
      }
    } else if (CharAt(p.integer, static_cast<std::ptrdiff_t>(p.integer.size()) - 1) == grouping_) {
      error = "D3088";
    }
    if (Contains(sub, grouping_ + grouping_)) error = "D3089";
    std::ptrdiff_t optional_pos = IndexOf(p.integer, digit_);
    if (optional_pos != kNotFound &&
        CountDigits(Substring(p.integer, 0, optional_pos), false) > 0) {
      error = "D3090";
    }
    optional_pos = LastIndexOf(p.fractional, digit_);
    if (optional_pos != kNotFound &&
        CountDigits(Substring(p.fractional, optional_pos), false) > 0) {
      error = "D3091";
    }
    if (p.exponent && !p.exponent->empty() &&
        (Contains(sub, percent_) || Contains(sub, per_mille_))) {
      error = "D3092";
    }
    if (p.exponent && (p.exponent->empty() ||
                       CountDigits(*p.exponent, false) < static_cast<double>(p.exponent->size()))) {
      error = "D3093";
    }
    if (error != nullptr) Fail(error);
  }

  std::vector<double> GroupingPositions(const SubPicture& p, const Text& part, bool to_left) const {
    std::vector<double> positions;
    std::ptrdiff_t pos = IndexOf(part, grouping_);
    while (pos != kNotFound) {
      positions.push_back(
          CountDigits(to_left ? Substring(part, 0, pos) : Substring(part, pos), true));
      // The reference searches the integer part for the next one, whichever part this is.
      const std::ptrdiff_t next = IndexOf(p.integer, grouping_, pos + 1);
      if (next != kNotFound && next <= pos) {
        // An empty grouping-separator: the reference loops forever here.
        Fail("D1001", ErrorDetails{.value = "\"empty grouping-separator\""});
      }
      pos = next;
    }
    return positions;
  }

  static double Regular(const std::vector<double>& indexes) {
    if (indexes.empty()) return 0;
    const auto gcd = [](double a, double b) {
      while (b != 0) {
        const double t = std::fmod(a, b);
        a = b;
        b = t;
      }
      return a;
    };
    double factor = indexes[0];
    for (std::size_t i = 1; i < indexes.size(); ++i) factor = gcd(factor, indexes[i]);
    for (std::size_t i = 1; i <= indexes.size(); ++i) {
      if (std::find(indexes.begin(), indexes.end(), static_cast<double>(i) * factor) ==
          indexes.end()) {
        return 0;
      }
    }
    return factor;
  }

  PictureAnalysis Analyse(const SubPicture& p) const {
    PictureAnalysis a;
    a.integer_grouping = GroupingPositions(p, p.integer, false);
    a.regular_grouping = Regular(a.integer_grouping);
    a.fractional_grouping = GroupingPositions(p, p.fractional, true);
    a.min_integer = CountDigits(p.integer, false);
    a.scaling_factor = a.min_integer;
    a.min_fractional = CountDigits(p.fractional, false);
    a.max_fractional = CountDigits(p.fractional, true);
    const bool exponent_present = p.exponent.has_value();
    if (a.min_integer == 0 && a.max_fractional == 0) {
      if (exponent_present) {
        a.min_fractional = 1;
        a.max_fractional = 1;
      } else {
        a.min_integer = 1;
      }
    }
    if (exponent_present && a.min_integer == 0 && Contains(p.integer, digit_)) a.min_integer = 1;
    if (a.min_integer == 0 && a.min_fractional == 0) a.min_fractional = 1;
    if (exponent_present) a.min_exponent = CountDigits(*p.exponent, false);
    a.prefix = p.prefix;
    a.suffix = p.suffix;
    a.picture = p.whole;
    return a;
  }

  // |value| fixed to `digits` places, in the zero-digit's family.
  Text MakeString(double value, double digits) const {
    Text s = DecodeUtf8(JsToFixed(std::fabs(value), static_cast<int>(digits)));
    if (zero_ != U"0") {
      Text mapped;
      for (char32_t c : s) {
        if (c >= U'0' && c <= U'9') {
          // The family is empty when zero-digit is "": the digit then disappears.
          if (!family_.empty()) mapped += family_[c - U'0'];
        } else {
          mapped += c;
        }
      }
      s = std::move(mapped);
    }
    return s;
  }

  // F&O 4.7.5, bullets 2 to 14.
  Text Apply(double value, const PictureAnalysis& pic) const {
    double adjusted = value;
    if (Contains(pic.picture, percent_)) {
      adjusted = value * 100;
    } else if (Contains(pic.picture, per_mille_)) {
      adjusted = value * 1000;
    }
    double mantissa = adjusted;
    std::optional<double> exponent;
    if (pic.min_exponent != 0) {
      const double max_mantissa = std::pow(10, pic.scaling_factor);
      const double min_mantissa = std::pow(10, pic.scaling_factor - 1);
      exponent = 0;
      // A zero mantissa keeps exponent 0; an infinite one would never get in range.
      if (mantissa != 0 && std::isfinite(mantissa)) {
        while (std::fabs(mantissa) < min_mantissa) {
          mantissa *= 10;
          *exponent -= 1;
        }
        while (std::fabs(mantissa) > max_mantissa) {
          mantissa /= 10;
          *exponent += 1;
        }
      }
    }
    const double rounded = JsonataRound(mantissa, pic.max_fractional);
    Text s = MakeString(rounded, pic.max_fractional);
    if (IndexOf(s, U".") == kNotFound) {
      s += decimal_;
    } else {
      s = ReplaceFirst(s, U".", decimal_);
    }
    while (!s.empty() && CharAt(s, 0) == zero_) s.erase(0, 1);
    while (!s.empty() && CharAt(s, static_cast<std::ptrdiff_t>(s.size()) - 1) == zero_) {
      s.pop_back();
    }
    std::ptrdiff_t decimal_pos = IndexOf(s, decimal_);
    const double pad_left = pic.min_integer - static_cast<double>(decimal_pos);
    const double pad_right =
        pic.min_fractional - (static_cast<double>(s.size()) - static_cast<double>(decimal_pos) - 1);
    s = Repeat(zero_, pad_left) + s + Repeat(zero_, pad_right);
    decimal_pos = IndexOf(s, decimal_);
    const auto insert_grouping = [&](std::ptrdiff_t at) {
      s = Slice(s, 0, at) + grouping_ + Slice(s, at);
    };
    if (pic.regular_grouping > 0) {
      const double groups = std::floor(static_cast<double>(decimal_pos - 1) / pic.regular_grouping);
      for (double group = 1; group <= groups; ++group) {
        insert_grouping(decimal_pos - static_cast<std::ptrdiff_t>(group * pic.regular_grouping));
      }
    } else {
      for (double pos : pic.integer_grouping) {
        insert_grouping(decimal_pos - static_cast<std::ptrdiff_t>(pos));
        ++decimal_pos;
      }
    }
    decimal_pos = IndexOf(s, decimal_);
    for (double pos : pic.fractional_grouping) {
      insert_grouping(static_cast<std::ptrdiff_t>(pos) + decimal_pos + 1);
    }
    decimal_pos = IndexOf(s, decimal_);
    if (!Contains(pic.picture, decimal_) ||
        decimal_pos == static_cast<std::ptrdiff_t>(s.size()) - 1) {
      s = Substring(s, 0, static_cast<std::ptrdiff_t>(s.size()) - 1);
    }
    if (exponent) {
      Text exponent_text = MakeString(*exponent, 0);
      const double pad = pic.min_exponent - static_cast<double>(exponent_text.size());
      if (pad > 0) exponent_text = Repeat(zero_, pad) + exponent_text;
      s += exponent_ + (*exponent < 0 ? minus_ : Text()) + exponent_text;
    }
    return pic.prefix + s + pic.suffix;
  }

  std::map<std::string, Text> properties_;
  Text decimal_, grouping_, exponent_, minus_, percent_, per_mille_, zero_, digit_,
      pattern_separator_;
  std::vector<Text> family_;
  std::vector<Text> active_;
};

}  // namespace

std::string FormatNumber(double value, std::string_view picture,
                         const std::vector<std::pair<std::string, std::string>>& options) {
  return NumberFormatter(options).Format(value, picture);
}

}  // namespace zflow::jsonata
