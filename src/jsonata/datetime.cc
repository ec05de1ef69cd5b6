// $fromMillis / $toMillis and $formatInteger / $parseInteger: XPath fn:format-dateTime and
// fn:format-integer pictures as jsonata-js reads and writes them. The reference keeps dates in
// JavaScript Date objects and parses with a generated regular expression; this file reproduces the
// same arithmetic (Date.UTC with its two-digit years, ISO weeks from the first Thursday) and the
// same backtracking match, so that results, quirks included, agree with the reference.
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jsonata/error.h"
#include "jsonata/picture.h"

namespace zflow::jsonata {
namespace {

using picture_internal::DecodeUtf8;
using picture_internal::EncodeUtf8;
using picture_internal::JsNumberToString;
using Text = std::u32string;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMsPerDay = 86400000;
// JavaScript gives up on strings longer than about 2^29 characters; long before that a server
// should not build them, so a component asking for more padding than this fails instead.
constexpr double kMaxPadding = 1 << 20;

// JSON.stringify of a string, which is how the reference shows {{value}} in its messages.
std::string JsonQuote(const Text& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char32_t c : text) {
    static constexpr std::u32string_view kEscaped = U"\"\\\b\f\n\r\t";
    static constexpr std::string_view kEscapes = "\"\\bfnrt";
    if (const std::size_t e = kEscaped.find(c); e != std::u32string_view::npos) {
      out += '\\';
      out += kEscapes[e];
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += EncodeUtf8(Text(1, c));
    }
  }
  return out + "\"";
}

// Where the reference dies of a plain JavaScript error (stack overflow, RangeError, TypeError).
[[noreturn]] void FailJavaScriptError(std::string_view what) {
  Fail("D1001", ErrorDetails{.value = JsonQuote(Text(what.begin(), what.end()))});
}

// JavaScript's WhiteSpace and LineTerminator, i.e. what \s and parseInt skip.
bool IsJsSpace(char32_t c) {
  return c == 9 || c == 10 || c == 11 || c == 12 || c == 13 || c == 32 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

// parseInt(text) without a radix: optional sign, "0x" for hexadecimal, digits up to the first
// other character; NaN when there are none.
double JsParseInt(const Text& text) {
  std::size_t i = 0;
  while (i < text.size() && IsJsSpace(text[i])) ++i;
  double sign = 1;
  if (i < text.size() && (text[i] == U'-' || text[i] == U'+')) {
    if (text[i] == U'-') sign = -1;
    ++i;
  }
  bool hex = false;
  if (i + 1 < text.size() && text[i] == U'0' && (text[i + 1] == U'x' || text[i + 1] == U'X')) {
    hex = true;
    i += 2;
  }
  std::string digits;
  for (; i < text.size(); ++i) {
    const char32_t c = text[i];
    const bool ok =
        (c >= U'0' && c <= U'9') || (hex && ((c >= U'a' && c <= U'f') || (c >= U'A' && c <= U'F')));
    if (!ok) break;
    digits.push_back(static_cast<char>(c));
  }
  if (digits.empty()) return kNaN;
  double value = 0;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value,
                                      hex ? std::chars_format::hex : std::chars_format::general);
  // Digits alone can only overflow.
  if (result.ec == std::errc::result_out_of_range) value = std::numeric_limits<double>::infinity();
  return sign * value;
}

// The simple case mapping of a regular expression with the "i" flag (no "u"): ASCII, Latin-1,
// Greek and Cyrillic letters fold to upper case; nothing outside ASCII folds into ASCII.
char32_t FoldCase(char32_t c) {
  if (c >= U'a' && c <= U'z') return c - 32;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7) || (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) ||
      (c >= 0x430 && c <= 0x44F)) {
    return c - 32;
  }
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  if (c == 0xFF) return 0x178;
  if (c == 0xB5) return 0x39C;
  return c;
}

// toUpperCase / toLowerCase as far as they matter here (ASCII; dotless i becomes I).
Text ToUpper(Text s) {
  for (char32_t& c : s) {
    if (c >= U'a' && c <= U'z') c -= 32;
    if (c == 0x131) c = U'I';
  }
  return s;
}
Text ToLower(Text s) {
  for (char32_t& c : s) {
    if (c >= U'A' && c <= U'Z') c += 32;
  }
  return s;
}

Text Ascii(std::string_view s) { return Text(s.begin(), s.end()); }

// String.prototype.substring: both ends clamped, swapped when reversed.
Text Substring(const Text& s, double a, double b = std::numeric_limits<double>::infinity()) {
  const auto len = static_cast<double>(s.size());
  a = std::isnan(a) ? 0 : std::clamp(a, 0.0, len);
  b = std::isnan(b) ? 0 : std::clamp(b, 0.0, len);
  if (a > b) std::swap(a, b);
  return s.substr(static_cast<std::size_t>(a), static_cast<std::size_t>(b - a));
}

// String.prototype.substr(start, length).
Text Substr(const Text& s, double start, double length = std::numeric_limits<double>::infinity()) {
  const auto len = static_cast<double>(s.size());
  if (start < 0) start = std::max(len + start, 0.0);
  start = std::min(start, len);
  length = std::clamp(length, 0.0, len - start);
  return s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(length));
}

// ---------------------------------------------------------------------------------------------
// Integer pictures (fn:format-integer)

enum class Primary { kDecimal, kLetters, kRoman, kWords, kSequence };
enum class LetterCase { kUpper, kLower, kTitle };

struct GroupingSeparator {
  double position;
  char32_t character;
};

struct IntegerFormat {
  Primary primary = Primary::kDecimal;
  LetterCase letter_case = LetterCase::kLower;
  bool ordinal = false;
  // The rest describes decimal digit patterns; NaN stands for the reference's undefined.
  char32_t zero_code = U'0';
  double mandatory_digits = kNaN;
  double optional_digits = kNaN;
  bool regular = false;
  std::vector<GroupingSeparator> separators;  // when regular, the one that repeats
  double parse_width = kNaN;  // digits a date component must have when parsed, if set
  Text token;                 // the picture of an unsupported numbering sequence
};

// The zero of each Unicode decimal digit block the reference recognises.
constexpr std::array<char32_t, 37> kDecimalGroups = {
    0x30,   0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
    0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

double Gcd(double a, double b) { return b == 0 ? a : Gcd(b, std::fmod(a, b)); }

// The repeat interval when every separator is the same character at multiples of one interval,
// else 0.
double RegularRepeat(const std::vector<GroupingSeparator>& separators) {
  if (separators.empty()) return 0;
  for (const GroupingSeparator& s : separators) {
    if (s.character != separators[0].character) return 0;
  }
  double factor = separators[0].position;
  for (std::size_t i = 1; i < separators.size(); ++i) factor = Gcd(factor, separators[i].position);
  for (std::size_t i = 1; i <= separators.size(); ++i) {
    const bool found = std::any_of(separators.begin(), separators.end(), [&](const auto& s) {
      return s.position == static_cast<double>(i) * factor;
    });
    if (!found) return 0;
  }
  return factor;
}

IntegerFormat AnalyseIntegerPicture(const Text& picture) {
  IntegerFormat format;
  Text primary = picture;
  const std::size_t semicolon = picture.rfind(U';');
  if (semicolon != Text::npos) {
    primary = picture.substr(0, semicolon);
    const Text modifier = picture.substr(semicolon + 1);
    format.ordinal = !modifier.empty() && modifier[0] == U'o';
  }
  if (primary == U"A" || primary == U"a") {
    format.primary = Primary::kLetters;
    if (primary == U"A") format.letter_case = LetterCase::kUpper;
  } else if (primary == U"I" || primary == U"i") {
    format.primary = Primary::kRoman;
    if (primary == U"I") format.letter_case = LetterCase::kUpper;
  } else if (primary == U"W" || primary == U"Ww" || primary == U"w") {
    format.primary = Primary::kWords;
    if (primary == U"W") format.letter_case = LetterCase::kUpper;
    if (primary == U"Ww") format.letter_case = LetterCase::kTitle;
  } else {
    // A decimal digit pattern if it has a digit. Scanning from the right gives each grouping
    // separator its position counted from the right.
    std::optional<char32_t> zero;
    double mandatory = 0, optional = 0, position = 0;
    std::vector<GroupingSeparator> separators;
    for (auto it = primary.rbegin(); it != primary.rend(); ++it) {
      const char32_t c = *it;
      const auto group = std::find_if(kDecimalGroups.begin(), kDecimalGroups.end(),
                                      [c](char32_t g) { return c >= g && c <= g + 9; });
      if (group != kDecimalGroups.end()) {
        ++mandatory;
        ++position;
        if (!zero) {
          zero = *group;
        } else if (*zero != *group) {
          Fail("D3131");
        }
      } else if (c == U'#') {
        ++position;
        ++optional;
      } else {
        separators.push_back({position, c});
      }
    }
    if (mandatory > 0) {
      format.zero_code = *zero;
      format.mandatory_digits = mandatory;
      format.optional_digits = optional;
      const double regular = RegularRepeat(separators);
      format.regular = regular > 0;
      if (format.regular) {
        format.separators = {{regular, separators[0].character}};
      } else {
        format.separators = std::move(separators);
      }
    } else {
      format.primary = Primary::kSequence;
      format.token = primary;
    }
  }
  return format;
}

constexpr std::array<std::string_view, 20> kFew = {
    "Zero",     "One",     "Two",     "Three",     "Four",     "Five",    "Six",
    "Seven",    "Eight",   "Nine",    "Ten",       "Eleven",   "Twelve",  "Thirteen",
    "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
constexpr std::array<std::string_view, 20> kOrdinals = {
    "Zeroth",     "First",     "Second",    "Third",       "Fourth",     "Fifth",     "Sixth",
    "Seventh",    "Eighth",    "Ninth",     "Tenth",       "Eleventh",   "Twelfth",   "Thirteenth",
    "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
constexpr std::array<std::string_view, 9> kDecades = {
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"};
constexpr std::array<std::string_view, 4> kMagnitudes = {"Thousand", "Million", "Billion",
                                                         "Trillion"};

// An array element the way JavaScript reads it: "undefined" outside the array.
template <std::size_t N>
std::string Element(const std::array<std::string_view, N>& array, double index) {
  if (index >= 0 && index < N && index == std::floor(index)) {
    return std::string(array[static_cast<std::size_t>(index)]);
  }
  return "undefined";
}

std::string NumberToWords(double num, bool prev, bool ordinal) {
  std::string words;
  if (num <= 19) {
    words = (prev ? " and " : "") + Element(ordinal ? kOrdinals : kFew, num);
  } else if (num < 100) {
    const double tens = std::floor(num / 10);
    const double remainder = std::fmod(num, 10);
    words = (prev ? " and " : "") + Element(kDecades, tens - 2);
    if (remainder > 0) {
      words += "-" + NumberToWords(remainder, false, ordinal);
    } else if (ordinal) {
      words = words.substr(0, words.size() - 1) + "ieth";
    }
  } else if (num < 1000) {
    const double remainder = std::fmod(num, 100);
    words = (prev ? ", " : "") + Element(kFew, std::floor(num / 100)) + " Hundred";
    if (remainder > 0) {
      words += NumberToWords(remainder, true, ordinal);
    } else if (ordinal) {
      words += "th";
    }
  } else {
    const double mag = std::min(std::floor(std::log10(num) / 3), 4.0);
    const double factor = std::pow(10, mag * 3);
    const double mantissa = std::floor(num / factor);
    const double remainder = num - mantissa * factor;
    words = (prev ? ", " : "") + NumberToWords(mantissa, false, false) + " " +
            Element(kMagnitudes, mag - 1);
    if (remainder > 0) {
      words += NumberToWords(remainder, true, ordinal);
    } else if (ordinal) {
      words += "th";
    }
  }
  return words;
}

constexpr std::array<std::pair<int, std::string_view>, 13> kRomanNumerals = {{{1000, "m"},
                                                                              {900, "cm"},
                                                                              {500, "d"},
                                                                              {400, "cd"},
                                                                              {100, "c"},
                                                                              {90, "xc"},
                                                                              {50, "l"},
                                                                              {40, "xl"},
                                                                              {10, "x"},
                                                                              {9, "ix"},
                                                                              {5, "v"},
                                                                              {4, "iv"},
                                                                              {1, "i"}}};

// The reference's fn:format-integer on an already floored value.
Text FormatIntegerWith(double value, const IntegerFormat& format) {
  const bool negative = value < 0;
  value = std::fabs(value);
  Text out;
  switch (format.primary) {
    case Primary::kLetters: {
      if (std::isinf(value)) FailJavaScriptError("letters of an infinite number");
      const char32_t a = format.letter_case == LetterCase::kUpper ? U'A' : U'a';
      while (value > 0) {
        out.insert(out.begin(), static_cast<char32_t>(std::fmod(value - 1, 26)) + a);
        value = std::floor((value - 1) / 26);
      }
      break;
    }
    case Primary::kRoman: {
      // The reference recurses once per numeral and overflows JavaScript's stack somewhere
      // around 9.5 million (it depends on the stack left); this fails from 10 million on.
      if (value >= 1e7) FailJavaScriptError("roman numeral too long");
      std::string roman;
      for (const auto& [amount, numeral] : kRomanNumerals) {
        while (value >= amount) {
          roman += numeral;
          value -= amount;
        }
      }
      out = Ascii(roman);
      if (format.letter_case == LetterCase::kUpper) out = ToUpper(out);
      break;
    }
    case Primary::kWords: {
      // The reference recurses without end on these.
      if (!std::isfinite(value)) FailJavaScriptError("words for " + JsNumberToString(value));
      out = Ascii(NumberToWords(value, false, format.ordinal));
      if (format.letter_case == LetterCase::kUpper) {
        out = ToUpper(out);
      } else if (format.letter_case == LetterCase::kLower) {
        out = ToLower(out);
      }
      break;
    }
    case Primary::kDecimal: {
      out = DecodeUtf8(JsNumberToString(value));
      const double padding = format.mandatory_digits - static_cast<double>(out.size());
      if (padding > kMaxPadding) FailJavaScriptError("integer padding too long");
      if (padding > 0) out.insert(0, static_cast<std::size_t>(padding), U'0');
      if (format.zero_code != U'0') {
        for (char32_t& c : out) c += format.zero_code - U'0';
      }
      if (format.regular) {
        const double every = format.separators[0].position;
        const double n = std::floor((static_cast<double>(out.size()) - 1) / every);
        for (double i = n; i > 0; --i) {
          const double pos = static_cast<double>(out.size()) - i * every;
          out = Substr(out, 0, pos) + format.separators[0].character + Substr(out, pos);
        }
      } else {
        // Leftmost first: positions count from the right, so the later ones stay valid.
        for (auto it = format.separators.rbegin(); it != format.separators.rend(); ++it) {
          const double pos = static_cast<double>(out.size()) - it->position;
          out = Substr(out, 0, pos) + it->character + Substr(out, pos);
        }
      }
      if (format.ordinal) {
        const char32_t last = out.empty() ? 0 : out.back();
        const char* suffix = last == U'1' ? "st" : last == U'2' ? "nd" : last == U'3' ? "rd" : "th";
        if (out.size() > 1 && out[out.size() - 2] == U'1') suffix = "th";
        out += Ascii(suffix);
      }
      break;
    }
    case Primary::kSequence:
      Fail("D3130", ErrorDetails{.value = JsonQuote(format.token)});
  }
  if (negative) out.insert(out.begin(), U'-');
  return out;
}

Text FormatIntegerText(double value, const Text& picture) {
  return FormatIntegerWith(std::floor(value), AnalyseIntegerPicture(picture));
}

// --- the inverse, as lenient as the reference: unexpected characters make NaN or are ignored.

double LettersToDecimal(const Text& letters, char32_t a) {
  double decimal = 0;
  for (std::size_t i = 0; i < letters.size(); ++i) {
    decimal += (static_cast<double>(letters[letters.size() - i - 1]) - a + 1) *
               std::pow(26, static_cast<double>(i));
  }
  return decimal;
}

double RomanToDecimal(const Text& roman) {
  // A character that is no numeral reads as undefined, which makes the sum NaN.
  const auto numeral = [](char32_t c) -> double {
    switch (c) {
      case U'M':
        return 1000;
      case U'D':
        return 500;
      case U'C':
        return 100;
      case U'L':
        return 50;
      case U'X':
        return 10;
      case U'V':
        return 5;
      case U'I':
        return 1;
      default:
        return kNaN;
    }
  };
  double decimal = 0, max = 1;
  for (auto it = roman.rbegin(); it != roman.rend(); ++it) {
    const double value = numeral(*it);
    if (value < max) {
      decimal -= value;
    } else {
      max = value;
      decimal += value;
    }
  }
  return decimal;
}

// Every word the reference knows, in the order its object holds them (the order matters to the
// regular expression built from them).
const std::vector<std::pair<std::string, double>>& WordValues() {
  static const auto* const kValues = [] {
    auto* values = new std::vector<std::pair<std::string, double>>;
    const auto lower = [](std::string_view s) { return EncodeUtf8(ToLower(Ascii(s))); };
    for (std::size_t i = 0; i < kFew.size(); ++i) values->emplace_back(lower(kFew[i]), i);
    for (std::size_t i = 0; i < kOrdinals.size(); ++i) values->emplace_back(lower(kOrdinals[i]), i);
    for (std::size_t i = 0; i < kDecades.size(); ++i) {
      const std::string word = lower(kDecades[i]);
      const double value = static_cast<double>(i + 2) * 10;
      values->emplace_back(word, value);
      values->emplace_back(word.substr(0, word.size() - 1) + "ieth", value);
    }
    values->emplace_back("hundredth", 100);
    for (std::size_t i = 0; i < kMagnitudes.size(); ++i) {
      const std::string word = lower(kMagnitudes[i]);
      const double value = std::pow(10, static_cast<double>(i + 1) * 3);
      values->emplace_back(word, value);
      values->emplace_back(word + "th", value);
    }
    return values;
  }();
  return *kValues;
}

double WordValue(const Text& word) {
  const std::string utf8 = EncodeUtf8(word);
  for (const auto& [name, value] : WordValues()) {
    if (name == utf8) return value;
  }
  return kNaN;  // undefined in the reference, which poisons the sum the same way
}

double WordsToNumber(const Text& text) {
  // text.split(/,\s|\sand\s|[\s\\-]/)
  std::vector<Text> parts;
  std::size_t start = 0;
  for (std::size_t q = 0; q < text.size();) {
    std::size_t len = 0;
    if (text[q] == U',' && q + 1 < text.size() && IsJsSpace(text[q + 1])) {
      len = 2;
    } else if (IsJsSpace(text[q]) && q + 4 < text.size() && text.compare(q + 1, 3, U"and") == 0 &&
               IsJsSpace(text[q + 4])) {
      len = 5;
    } else if (IsJsSpace(text[q]) || text[q] == U'\\' || text[q] == U'-') {
      len = 1;
    }
    if (len == 0) {
      ++q;
      continue;
    }
    parts.push_back(text.substr(start, q - start));
    q += len;
    start = q;
  }
  parts.push_back(text.substr(start));
  std::vector<double> segs = {0};
  for (const Text& part : parts) {
    const double value = WordValue(part);
    if (value < 100) {
      double top = segs.back();
      segs.pop_back();
      if (top >= 1000) {
        segs.push_back(top);
        top = 0;
      }
      segs.push_back(top + value);
    } else {
      segs.back() *= value;
    }
  }
  double result = 0;
  for (double seg : segs) result += seg;
  return result;
}

double ParseDecimal(const Text& value, const IntegerFormat& format) {
  Text digits = value;
  if (format.ordinal) digits = Substring(digits, 0, static_cast<double>(digits.size()) - 2);
  const auto remove_all = [&digits](char32_t c) { std::erase(digits, c); };
  // A regular pattern strips commas, whatever its separator is.
  if (format.regular) {
    remove_all(U',');
  } else {
    for (const GroupingSeparator& s : format.separators) remove_all(s.character);
  }
  if (format.zero_code != U'0') {
    for (char32_t& c : digits) {
      const auto mapped = static_cast<std::int64_t>(c) - format.zero_code + U'0';
      if (mapped < 0 || mapped > 0x10FFFF) {
        FailJavaScriptError("Invalid code point " + std::to_string(mapped));
      }
      c = static_cast<char32_t>(mapped);
    }
  }
  return JsParseInt(digits);
}

double ParseIntegerWith(const Text& value, const IntegerFormat& format) {
  const bool upper = format.letter_case == LetterCase::kUpper;
  switch (format.primary) {
    case Primary::kLetters:
      return LettersToDecimal(value, upper ? U'A' : U'a');
    case Primary::kRoman:
      return RomanToDecimal(upper ? value : ToUpper(value));
    case Primary::kWords:
      return WordsToNumber(ToLower(value));
    case Primary::kDecimal:
      return ParseDecimal(value, format);
    case Primary::kSequence:
      break;
  }
  Fail("D3130", ErrorDetails{.value = JsonQuote(format.token)});
}

// ---------------------------------------------------------------------------------------------
// Date arithmetic of JavaScript's Date (V8's MakeDay / MakeTime / TimeClip), on doubles so that
// NaN flows through as it does there.

double MakeDay(double year, double month, double date) {
  if (!(year >= -1000000 && year <= 1000000 && month >= -10000000 && month <= 10000000 &&
        std::isfinite(date))) {
    return kNaN;
  }
  auto y = static_cast<std::int64_t>(year);
  auto m = static_cast<std::int64_t>(month);
  y += m / 12;
  m %= 12;
  if (m < 0) {
    m += 12;
    y -= 1;
  }
  // Days from 1970-01-01 to the first of month m of year y (H. Hinnant's days_from_civil).
  const std::int64_t yy = m < 2 ? y - 1 : y;
  const std::int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const std::int64_t yoe = yy - era * 400;
  const std::int64_t mp = (m + 10) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + doe - 719468;
  return static_cast<double>(days - 1) + std::trunc(date);
}

double MakeTime(double h, double m, double s, double ms) {
  if (!std::isfinite(h) || !std::isfinite(m) || !std::isfinite(s) || !std::isfinite(ms)) {
    return kNaN;
  }
  return std::trunc(h) * 3600000 + std::trunc(m) * 60000 + std::trunc(s) * 1000 + std::trunc(ms);
}

double MakeDate(double day, double time) {
  if (!std::isfinite(day) || !std::isfinite(time)) return kNaN;
  return time + day * kMsPerDay;
}

double TimeClip(double t) {
  if (!(std::fabs(t) <= 8.64e15)) return kNaN;
  return std::trunc(t) + 0.0;  // + 0.0 turns -0 into +0
}

// Date.UTC, including its reading of years 0 to 99 as 1900 to 1999.
double DateUtc(double year, double month, double date = 1, double h = 0, double m = 0, double s = 0,
               double ms = 0) {
  if (!std::isnan(year)) {
    const double y = std::trunc(year);
    if (y >= 0 && y <= 99) year = 1900 + y;
  }
  return TimeClip(MakeDate(MakeDay(year, month, date), MakeTime(h, m, s, ms)));
}

double PositiveMod(double a, double b) {
  const double r = std::fmod(a, b);
  return r < 0 ? r + b : r;
}

struct Civil {
  double year = kNaN, month = kNaN, day = kNaN;  // month 0-11
};

Civil CivilFromTime(double t) {
  if (std::isnan(t)) return {};
  const auto z = static_cast<std::int64_t>(std::floor(t / kMsPerDay)) + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return {static_cast<double>(y), static_cast<double>(m - 1), static_cast<double>(d)};
}

double WeekDay(double t) { return PositiveMod(std::floor(t / kMsPerDay) + 4, 7); }
double Hours(double t) { return PositiveMod(std::floor(t / 3600000), 24); }

struct YearMonth {
  double year, month;
  YearMonth Next() const {
    return month == 11 ? YearMonth{year + 1, 0} : YearMonth{year, month + 1};
  }
  YearMonth Previous() const {
    return month == 0 ? YearMonth{year - 1, 11} : YearMonth{year, month - 1};
  }
};

// ISO 8601 weeks start on Monday and week 1 holds the first Thursday; XPath uses the same rule
// for the weeks of a month.
double StartOfFirstWeek(YearMonth ym) {
  const double first = DateUtc(ym.year, ym.month);
  double day = WeekDay(first);
  if (day == 0) day = 7;
  return day > 4 ? first + (8 - day) * kMsPerDay : first - (day - 1) * kMsPerDay;
}

double DeltaWeeks(double start, double end) { return (end - start) / (kMsPerDay * 7) + 1; }

// A component of a date: a number, a string ("am", "ISO"), or undefined.
struct Fragment {
  enum class Kind { kNumber, kText, kUndefined } kind = Kind::kUndefined;
  double number = kNaN;
  std::string text;
};

Fragment NumberFragment(double n) { return {Fragment::Kind::kNumber, n, {}}; }

Fragment GetFragment(double t, char32_t component) {
  const Civil c = CivilFromTime(t);
  switch (component) {
    case U'Y':
      return NumberFragment(c.year);
    case U'M':
      return NumberFragment(c.month + 1);
    case U'D':
      return NumberFragment(c.day);
    case U'd': {
      const double today = DateUtc(c.year, c.month, c.day);
      return NumberFragment((today - DateUtc(c.year, 0)) / kMsPerDay + 1);
    }
    case U'F': {
      const double day = WeekDay(t);
      return NumberFragment(day == 0 ? 7 : day);
    }
    case U'W': {
      const YearMonth this_year{c.year, 0};
      const double start = StartOfFirstWeek(this_year);
      const double today = DateUtc(c.year, c.month, c.day);
      double week = DeltaWeeks(start, today);
      if (week > 52) {
        if (today >= StartOfFirstWeek({c.year + 1, 0})) week = 1;
      } else if (week < 1) {
        week = DeltaWeeks(StartOfFirstWeek({c.year - 1, 0}), today);
      }
      return NumberFragment(std::floor(week));
    }
    case U'w': {
      const YearMonth this_month{c.year, c.month};
      const double start = StartOfFirstWeek(this_month);
      const double today = DateUtc(c.year, c.month, c.day);
      double week = DeltaWeeks(start, today);
      if (week > 4) {
        if (today >= StartOfFirstWeek(this_month.Next())) week = 1;
      } else if (week < 1) {
        week = DeltaWeeks(StartOfFirstWeek(this_month.Previous()), today);
      }
      return NumberFragment(std::floor(week));
    }
    case U'X': {
      // The reference's extension: the year the ISO week belongs to.
      if (t < StartOfFirstWeek({c.year, 0})) return NumberFragment(c.year - 1);
      if (t >= StartOfFirstWeek({c.year + 1, 0})) return NumberFragment(c.year + 1);
      return NumberFragment(c.year);
    }
    case U'x': {
      // And the month the week-of-month belongs to.
      const YearMonth this_month{c.year, c.month};
      const YearMonth next = this_month.Next();
      if (t < StartOfFirstWeek(this_month)) return NumberFragment(this_month.Previous().month + 1);
      if (t >= StartOfFirstWeek(next)) return NumberFragment(next.month + 1);
      return NumberFragment(c.month + 1);
    }
    case U'H':
      return NumberFragment(Hours(t));
    case U'h': {
      const double h = std::fmod(Hours(t), 12);
      return NumberFragment(h == 0 ? 12 : h);
    }
    case U'P':
      return {Fragment::Kind::kText, kNaN, Hours(t) >= 12 ? "pm" : "am"};
    case U'm':
      return NumberFragment(PositiveMod(std::floor(t / 60000), 60));
    case U's':
      return NumberFragment(PositiveMod(std::floor(t / 1000), 60));
    case U'f':
      return NumberFragment(PositiveMod(t, 1000));
    case U'C':
    case U'E':
      return {Fragment::Kind::kText, kNaN, "ISO"};
    default:
      return {};
  }
}

// ---------------------------------------------------------------------------------------------
// Date/time pictures (fn:format-dateTime 9.8.4)

struct Width {
  std::optional<double> min, max;  // unset for "*" or absent; NaN when not a number
};

struct PicturePart {
  bool literal = false;
  Text value;  // the text of a literal
  char32_t component = 0;
  std::optional<Width> width;
  Text presentation1;
  std::optional<char32_t> presentation2;
  std::optional<LetterCase> names;
  std::optional<IntegerFormat> integer_format;
  double year_digits = -1;  // the year is shown modulo 10^year_digits unless -1
};

constexpr std::u32string_view kIntegerComponents = U"YMDdFWwXxHhmsf";
constexpr std::u32string_view kIso8601Picture =
    U"[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

bool IsIn(std::u32string_view set, char32_t c) { return set.find(c) != std::u32string_view::npos; }

std::optional<Text> DefaultPresentation(char32_t component) {
  switch (component) {
    case U'Y':
    case U'M':
    case U'D':
    case U'd':
    case U'W':
    case U'w':
    case U'X':
    case U'x':
    case U'H':
    case U'h':
    case U'f':
      return U"1";
    case U'F':
    case U'P':
    case U'C':
    case U'E':
      return U"n";
    case U'm':
    case U's':
      return U"01";
    case U'Z':
    case U'z':
      return U"01:01";
    default:
      return std::nullopt;
  }
}

void AnalyseMarker(const Text& picture, std::size_t open, std::size_t close,
                   std::vector<PicturePart>& spec) {
  Text marker;
  for (std::size_t i = open + 1; i < close; ++i) {
    if (!IsJsSpace(picture[i])) marker.push_back(picture[i]);
  }
  PicturePart def;
  def.component = marker.empty() ? 0 : marker[0];
  const std::size_t comma = marker.rfind(U',');
  Text presentation;
  if (comma != Text::npos) {
    const Text width = marker.substr(comma + 1);
    const std::size_t dash = width.find(U'-');
    const auto parse_width = [](std::optional<Text> w) -> std::optional<double> {
      if (!w || *w == U"*") return std::nullopt;
      return JsParseInt(*w);
    };
    def.width =
        Width{parse_width(dash == Text::npos ? width : width.substr(0, dash)),
              parse_width(dash == Text::npos ? std::optional<Text>() : width.substr(dash + 1))};
    // substring(1, comma) swaps its bounds when the comma comes first.
    presentation = Substring(marker, 1, static_cast<double>(comma));
  } else {
    presentation = Substring(marker, 1);
  }
  if (presentation.size() == 1) {
    def.presentation1 = presentation;
  } else if (presentation.size() > 1) {
    const char32_t last = presentation.back();
    if (IsIn(U"atco", last)) {
      def.presentation2 = last;
      def.presentation1 = presentation.substr(0, presentation.size() - 1);
    } else {
      def.presentation1 = presentation;
    }
  } else {
    std::optional<Text> fallback = DefaultPresentation(def.component);
    if (!fallback) {
      Fail("D3132", ErrorDetails{.value = JsonQuote(marker.empty() ? Text() : Text(1, marker[0]))});
    }
    def.presentation1 = *fallback;
  }
  if (def.presentation1[0] == U'n') {
    def.names = LetterCase::kLower;
  } else if (def.presentation1[0] == U'N') {
    def.names = def.presentation1.size() > 1 && def.presentation1[1] == U'n' ? LetterCase::kTitle
                                                                             : LetterCase::kUpper;
  } else if (IsIn(kIntegerComponents, def.component)) {
    Text pattern = def.presentation1;
    if (def.presentation2) pattern += Text(U";") + *def.presentation2;
    IntegerFormat format = AnalyseIntegerPicture(pattern);
    if (def.width && def.width->min && format.mandatory_digits < *def.width->min) {
      format.mandatory_digits = *def.width->min;
    }
    if (def.component == U'Y') {
      // 9.8.4.4: the width, or a pattern of two digits or more, truncates the year.
      if (def.width && def.width->max) {
        def.year_digits = *def.width->max;
        format.mandatory_digits = def.year_digits;
      } else {
        const double w = format.mandatory_digits + format.optional_digits;
        if (w >= 2) def.year_digits = w;
      }
    }
    def.integer_format = std::move(format);
    // Two integers with nothing between them can only be told apart by a fixed width.
    if (!spec.empty() && spec.back().integer_format) {
      spec.back().integer_format->parse_width = spec.back().integer_format->mandatory_digits;
    }
  }
  if (def.component == U'Z' || def.component == U'z') {
    def.integer_format = AnalyseIntegerPicture(def.presentation1);
  }
  spec.push_back(std::move(def));
}

std::vector<PicturePart> AnalyseDateTimePicture(const Text& picture) {
  std::vector<PicturePart> spec;
  const auto add_literal = [&](std::size_t start, std::size_t end) {
    if (end <= start) return;
    Text literal;
    const Text raw = picture.substr(start, end - start);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      literal.push_back(raw[i]);
      if (raw[i] == U']' && i + 1 < raw.size() && raw[i + 1] == U']') ++i;  // "]]" is "]"
    }
    spec.push_back(PicturePart{.literal = true, .value = std::move(literal)});
  };
  std::size_t start = 0, pos = 0;
  while (pos < picture.size()) {
    if (picture[pos] == U'[') {
      if (pos + 1 < picture.size() && picture[pos + 1] == U'[') {
        add_literal(start, pos);
        spec.push_back(PicturePart{.literal = true, .value = U"["});
        pos += 2;
        start = pos;
        continue;
      }
      add_literal(start, pos);
      const std::size_t close = picture.find(U']', pos);
      if (close == Text::npos) Fail("D3135");
      AnalyseMarker(picture, pos, close, spec);
      pos = close;
      start = pos + 1;
    }
    ++pos;
  }
  add_literal(start, pos);
  return spec;
}

constexpr std::array<std::string_view, 8> kDays = {"",         "Monday", "Tuesday",  "Wednesday",
                                                   "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

struct Offset {
  double hours = 0, minutes = 0;
};

Text FormatTimezone(const PicturePart& part, Offset offset) {
  const IntegerFormat& format = *part.integer_format;
  const double total = offset.hours * 100 + offset.minutes;
  Text out;
  if (format.regular) {
    out = FormatIntegerWith(total, format);
  } else {
    const double digits = format.mandatory_digits;
    if (digits == 1 || digits == 2) {
      out = FormatIntegerWith(offset.hours, format);
      if (offset.minutes != 0) out += U":" + FormatIntegerText(offset.minutes, U"00");
    } else if (digits == 3 || digits == 4) {
      out = FormatIntegerWith(total, format);
    } else {
      Fail("D3134",
           ErrorDetails{.value = std::isnan(digits) ? "undefined" : JsNumberToString(digits)});
    }
  }
  if (total >= 0) out.insert(out.begin(), U'+');
  if (part.component == U'z') out = U"GMT" + out;
  if (total == 0 && part.presentation2 == U't') out = U"Z";
  return out;
}

Text FormatComponent(double t, const PicturePart& part, Offset offset) {
  const Fragment fragment = GetFragment(t, part.component);
  const char32_t component = part.component;
  if (IsIn(U"YMDdFWwXxHhms", component)) {
    double value = fragment.number;
    if (component == U'Y' && part.year_digits != -1) {
      value = std::fmod(value, std::pow(10, part.year_digits));
    }
    if (!part.names) return FormatIntegerWith(value, *part.integer_format);
    std::optional<std::string_view> name;
    if (component == U'M' || component == U'x') {
      if (value >= 1 && value <= 12) name = kMonths[static_cast<std::size_t>(value) - 1];
    } else if (component == U'F') {
      if (value >= 0 && value <= 7) name = kDays[static_cast<std::size_t>(value)];
    } else {
      Fail("D3133", ErrorDetails{.value = JsonQuote(Text(1, component))});
    }
    if (!name) {
      // An invalid date has no month name: the reference shows "undefined", or dies reading a
      // property of it.
      if (*part.names != LetterCase::kTitle || part.width) {
        FailJavaScriptError("no name for a date out of range");
      }
      return U"undefined";
    }
    Text text = Ascii(*name);
    if (*part.names == LetterCase::kUpper) text = ToUpper(text);
    if (*part.names == LetterCase::kLower) text = ToLower(text);
    if (part.width && part.width->max && static_cast<double>(text.size()) > *part.width->max) {
      text = Substring(text, 0, *part.width->max);
    }
    return text;
  }
  if (component == U'f') {
    // The reference formats fractional seconds as an integer (so [f01] shows 5 ms as "05").
    if (!part.integer_format) {
      // It dies on a name modifier here (no integer format to read).
      Fail("D3133", ErrorDetails{.value = JsonQuote(U"f")});
    }
    return FormatIntegerWith(fragment.number, *part.integer_format);
  }
  if (component == U'Z' || component == U'z') return FormatTimezone(part, offset);
  if (fragment.kind == Fragment::Kind::kText) {
    Text text = Ascii(fragment.text);
    if (component == U'P' && part.names == LetterCase::kUpper) text = ToUpper(text);
    return text;
  }
  return U"undefined";  // an unknown component with an explicit presentation
}

// ---------------------------------------------------------------------------------------------
// Picture-driven parsing: the reference builds "^(part)(part)...$" and matches it with the "i"
// flag; MatchParts below is a backtracking matcher over the same parts, trying alternatives in
// the same order, so that each component captures the same text.

struct MatchPart {
  enum class Kind { kLiteral, kDigits, kLetters, kRoman, kWords, kNames, kTimezone, kFraction };
  Kind kind = Kind::kLiteral;
  Text literal;                       // kLiteral
  double exact_width = kNaN;          // kDigits: [0-9]{n} when set, else [0-9]+
  bool ordinal = false;               // kDigits: (?:th|st|nd|rd) follows
  bool gmt = false;                   // kTimezone: "GMT" first
  std::optional<char32_t> separator;  // kTimezone: between hours and minutes
  const PicturePart* part = nullptr;  // null for literals
};

bool SameIgnoringCase(char32_t a, char32_t b) { return a == b || FoldCase(a) == FoldCase(b); }

bool MatchesAt(const Text& s, std::size_t pos, std::u32string_view what) {
  if (pos + what.size() > s.size()) return false;
  for (std::size_t i = 0; i < what.size(); ++i) {
    if (!SameIgnoringCase(s[pos + i], what[i])) return false;
  }
  return true;
}

bool IsAsciiDigit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool IsAsciiLetter(char32_t c) { return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }
bool IsRomanLetter(char32_t c) { return IsIn(U"MDCLXVImdclxvi", c); }

template <typename Pred>
std::size_t Run(const Text& s, std::size_t pos, Pred pred) {
  std::size_t end = pos;
  while (end < s.size() && pred(s[end])) ++end;
  return end - pos;
}

// The words alternation "(?:zero|one|...|and|[\-, ])+": the ends a greedy, backtracking match
// tries, in order. Every iteration consumes text, so a depth-first walk over positions (each
// expanded once; a position seen again can only repeat failures) gives that order.
void WordEnds(const Text& s, std::size_t start, std::vector<std::size_t>& ends) {
  static const auto* const kAlternatives = [] {
    auto* alternatives = new std::vector<Text>;
    for (const auto& [word, value] : WordValues()) alternatives->push_back(Ascii(word));
    alternatives->push_back(U"and");
    return alternatives;
  }();
  const std::vector<Text>& alternatives = *kAlternatives;
  const auto next_end = [&](std::size_t pos, std::size_t& alt) -> std::optional<std::size_t> {
    for (; alt <= alternatives.size(); ++alt) {
      if (alt == alternatives.size()) {
        if (pos < s.size() && IsIn(U"-, ", s[pos])) return pos + 1;
      } else if (MatchesAt(s, pos, alternatives[alt])) {
        return pos + alternatives[alt].size();
      }
    }
    return std::nullopt;
  };
  std::set<std::size_t> visited;
  struct Frame {
    std::size_t pos, alt;
  };
  std::vector<Frame> stack = {{start, 0}};
  while (!stack.empty()) {
    Frame& top = stack.back();
    std::optional<std::size_t> end = next_end(top.pos, top.alt);
    if (end) {
      ++top.alt;
      if (visited.insert(*end).second) stack.push_back({*end, 0});
      continue;
    }
    if (stack.size() > 1) ends.push_back(top.pos);
    stack.pop_back();
  }
}

// The ends a part can match to from `pos`, most preferred first.
std::vector<std::size_t> CandidateEnds(const MatchPart& m, const Text& s, std::size_t pos) {
  std::vector<std::size_t> ends;
  const auto greedy = [&](std::size_t run) {
    for (std::size_t k = run; k >= 1; --k) ends.push_back(pos + k);
  };
  switch (m.kind) {
    case MatchPart::Kind::kLiteral:
      if (MatchesAt(s, pos, m.literal)) ends.push_back(pos + m.literal.size());
      break;
    case MatchPart::Kind::kDigits: {
      const std::size_t run = Run(s, pos, IsAsciiDigit);
      std::vector<std::size_t> lengths;
      if (!std::isnan(m.exact_width)) {
        if (static_cast<double>(run) >= m.exact_width) {
          lengths.push_back(static_cast<std::size_t>(m.exact_width));
        }
      } else {
        for (std::size_t k = run; k >= 1; --k) lengths.push_back(k);
      }
      for (std::size_t k : lengths) {
        if (!m.ordinal) {
          ends.push_back(pos + k);
          continue;
        }
        for (std::u32string_view suffix : {U"th", U"st", U"nd", U"rd"}) {
          if (MatchesAt(s, pos + k, suffix)) ends.push_back(pos + k + 2);
        }
      }
      break;
    }
    case MatchPart::Kind::kLetters:
    case MatchPart::Kind::kNames:
      greedy(Run(s, pos, IsAsciiLetter));
      break;
    case MatchPart::Kind::kRoman:
      greedy(Run(s, pos, IsRomanLetter));
      break;
    case MatchPart::Kind::kFraction:
      greedy(Run(s, pos, IsAsciiDigit));
      break;
    case MatchPart::Kind::kWords:
      WordEnds(s, pos, ends);
      break;
    case MatchPart::Kind::kTimezone: {
      std::size_t p = pos;
      if (m.gmt) {
        if (!MatchesAt(s, p, U"GMT")) break;
        p += 3;
      }
      if (p >= s.size() || (s[p] != U'-' && s[p] != U'+')) break;
      ++p;
      for (std::size_t k1 = Run(s, p, IsAsciiDigit); k1 >= 1; --k1) {
        if (!m.separator) {
          ends.push_back(p + k1);
          continue;
        }
        const std::size_t q = p + k1;
        if (q >= s.size()) continue;
        // The separator goes into the reference's expression unescaped: "." matches anything
        // but a line break, "^" and "$" (anchors) nothing here.
        bool separator_matches = SameIgnoringCase(s[q], *m.separator);
        if (*m.separator == U'.') separator_matches = !IsIn(U"\n\r\u2028\u2029", s[q]);
        if (*m.separator == U'^' || *m.separator == U'$') separator_matches = false;
        if (!separator_matches) continue;
        for (std::size_t k2 = Run(s, q + 1, IsAsciiDigit); k2 >= 1; --k2) {
          ends.push_back(q + 1 + k2);
        }
      }
      break;
    }
  }
  return ends;
}

// Fills `spans` with each part's match; false when the whole text does not match. A depth-first
// search with an explicit stack (a picture can have any number of parts), remembering the
// (part, position) pairs that cannot lead to a match.
bool MatchParts(const std::vector<MatchPart>& parts, const Text& s,
                std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  if (parts.empty()) return s.empty();
  spans.assign(parts.size(), {0, 0});
  std::set<std::pair<std::size_t, std::size_t>> failed;
  struct Frame {
    std::size_t pos;
    std::vector<std::size_t> ends;
    std::size_t next = 0;
  };
  std::vector<Frame> stack;
  stack.push_back({0, CandidateEnds(parts[0], s, 0)});
  while (!stack.empty()) {
    const std::size_t i = stack.size() - 1;
    Frame& frame = stack.back();
    if (frame.next == frame.ends.size()) {
      failed.insert({i, frame.pos});
      stack.pop_back();
      continue;
    }
    const std::size_t end = frame.ends[frame.next++];
    spans[i] = {frame.pos, end};
    if (i + 1 == parts.size()) {
      if (end == s.size()) return true;
      continue;
    }
    if (failed.contains({i + 1, end})) continue;
    stack.push_back({end, CandidateEnds(parts[i + 1], s, end)});
  }
  return false;
}

MatchPart MakeMatchPart(const PicturePart& part) {
  MatchPart m;
  m.part = &part;
  if (part.literal) {
    m.kind = MatchPart::Kind::kLiteral;
    m.literal = part.value;
    m.part = nullptr;
  } else if (part.component == U'Z' || part.component == U'z') {
    m.kind = MatchPart::Kind::kTimezone;
    m.gmt = part.component == U'z';
    const IntegerFormat& format = *part.integer_format;
    if (format.primary == Primary::kDecimal && format.regular) {
      m.separator = format.separators[0].character;
      // It goes into the reference's expression unescaped, where these make it invalid.
      if (IsIn(U"*+?()[", *m.separator)) {
        FailJavaScriptError("Invalid regular expression: timezone separator " +
                            EncodeUtf8(Text(1, *m.separator)));
      }
    }
  } else if (part.component == U'f') {
    m.kind = MatchPart::Kind::kFraction;
  } else if (part.integer_format) {
    const IntegerFormat& format = *part.integer_format;
    switch (format.primary) {
      case Primary::kLetters:
        m.kind = MatchPart::Kind::kLetters;
        break;
      case Primary::kRoman:
        m.kind = MatchPart::Kind::kRoman;
        break;
      case Primary::kWords:
        m.kind = MatchPart::Kind::kWords;
        break;
      case Primary::kDecimal:
        m.kind = MatchPart::Kind::kDigits;
        // The width is used when it is truthy (not 0, not NaN).
        if (format.parse_width != 0 && !std::isnan(format.parse_width)) {
          m.exact_width = format.parse_width;
        }
        m.ordinal = format.ordinal;
        break;
      case Primary::kSequence:
        Fail("D3130", ErrorDetails{.value = JsonQuote(format.token)});
    }
  } else {
    if (!IsIn(U"MxFP", part.component)) {
      Fail("D3133", ErrorDetails{.value = JsonQuote(Text(1, part.component))});
    }
    m.kind = MatchPart::Kind::kNames;
  }
  return m;
}

// A parsed component: absent, present but undefined (a name that is not in the table), or a
// value (NaN included).
struct Component {
  bool defined = false;
  double value = kNaN;
};

Component ParseName(const PicturePart& part, const Text& value) {
  const std::string text = EncodeUtf8(value);
  const bool truncate =
      part.width && part.width->max && *part.width->max != 0 && !std::isnan(*part.width->max);
  const auto key = [&](std::string_view name) {
    return truncate ? EncodeUtf8(Substring(Ascii(name), 0, *part.width->max)) : std::string(name);
  };
  Component found;
  if (part.component == U'M' || part.component == U'x') {
    // Later names overwrite earlier ones under the same key, as in the reference's table.
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
      if (key(kMonths[i]) == text) found = {true, static_cast<double>(i + 1)};
    }
  } else if (part.component == U'F') {
    for (std::size_t i = 1; i < kDays.size(); ++i) {
      if (key(kDays[i]) == text) found = {true, static_cast<double>(i)};
    }
  } else {
    // P's table is a plain JavaScript object, so the names it inherits are found in it too
    // (truthy, and not 1).
    if (text == "am" || text == "AM") return {true, 0};
    if (text == "pm" || text == "PM") return {true, 1};
    for (std::string_view inherited :
         {"constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable",
          "toLocaleString", "toString", "valueOf"}) {
      if (text == inherited) return {true, 2};
    }
  }
  return found;
}

double ParseTimezone(const MatchPart& m, Text value) {
  if (m.gmt) value = Substring(value, 3);
  double hours = 0, minutes = 0;
  if (m.separator) {
    const std::size_t at = value.find(*m.separator);
    const double index = at == Text::npos ? -1 : static_cast<double>(at);
    hours = JsParseInt(Substring(value, 0, index));
    minutes = JsParseInt(Substring(value, index + 1));
  } else if (static_cast<double>(value.size()) - 1 <= 2) {
    hours = JsParseInt(value);
  } else {
    hours = JsParseInt(Substring(value, 0, 3));
    minutes = JsParseInt(Substring(value, 3));
  }
  return hours * 60 + minutes;
}

Component ParseMatched(const MatchPart& m, const Text& value) {
  switch (m.kind) {
    case MatchPart::Kind::kTimezone:
      return {true, ParseTimezone(m, value)};
    case MatchPart::Kind::kFraction: {
      const std::string digits = "0." + EncodeUtf8(Substring(value, 0, 3));
      double fraction = 0;
      std::from_chars(digits.data(), digits.data() + digits.size(), fraction);
      return {true, fraction * 1000};
    }
    case MatchPart::Kind::kNames:
      return ParseName(*m.part, value);
    default:
      return {true, ParseIntegerWith(value, *m.part->integer_format)};
  }
}

double NowMillis() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
}

std::optional<double> ParseWithPicture(const Text& timestamp, const Text& picture, double now) {
  const std::vector<PicturePart> spec = AnalyseDateTimePicture(picture);
  std::vector<MatchPart> parts;
  parts.reserve(spec.size());
  for (const PicturePart& part : spec) parts.push_back(MakeMatchPart(part));
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  if (!MatchParts(parts, timestamp, spans)) return std::nullopt;

  std::map<char32_t, Component> components;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].kind == MatchPart::Kind::kLiteral) continue;
    const auto [begin, end] = spans[i];
    components[parts[i].part->component] =
        ParseMatched(parts[i], timestamp.substr(begin, end - begin));
  }
  if (components.empty()) return std::nullopt;

  // Which combination of components the timestamp gives: a date from {Y M D}, {Y d}, {X x w F}
  // or {X W F}, a time from {H m s f} or {P h m s f}. A component counts when it is truthy.
  const auto mask_of = [&](std::u32string_view letters) {
    int mask = 0;
    for (char32_t c : letters) {
      const auto it = components.find(c);
      const bool truthy = it != components.end() && it->second.defined && it->second.value != 0 &&
                          !std::isnan(it->second.value);
      mask = (mask << 1) | (truthy ? 1 : 0);
    }
    return mask;
  };
  const auto is_type = [](int type, int mask) { return (~type & mask) == 0 && (type & mask) != 0; };
  int mask = mask_of(U"YXMxWwdD");
  const bool date_a = is_type(0b10100001, mask);
  const bool date_b = !date_a && is_type(0b10000010, mask);
  const bool date_c = is_type(0b01010100, mask);
  const bool date_d = !date_c && is_type(0b01001000, mask);
  mask = mask_of(U"PHhmsf");
  const bool time_a = is_type(0b010111, mask);
  const bool time_b = !time_a && is_type(0b101111, mask);

  // Left of the first given component, default to now; right of the last, to the start; a gap
  // in between is an error. ("YD" for {Y d} is the reference's.)
  Text order = date_b ? U"YD" : date_c ? U"XxwF" : date_d ? U"XWF" : U"YMD";
  order += time_b ? U"Phmsf" : U"Hmsf";
  bool start_specified = false, end_specified = false;
  for (char32_t c : order) {
    Component& component = components[c];
    if (!component.defined) {
      if (start_specified) {
        component = {true, IsIn(U"MDd", c) ? 1.0 : 0.0};
        end_specified = true;
      } else {
        // "am"/"pm" from now only needs to differ from 1.
        component = {true, GetFragment(now, c).number};
      }
    } else {
      start_specified = true;
      if (end_specified) Fail("D3136");
    }
  }
  const auto value = [&](char32_t c) {
    const auto it = components.find(c);
    return it == components.end() || !it->second.defined ? kNaN : it->second.value;
  };
  double month = value(U'M') > 0 ? value(U'M') - 1 : 0;  // Date.UTC counts months from 0
  double day = value(U'D');
  if (date_b) {
    const double first_jan = DateUtc(value(U'Y'), 0);
    const Civil derived = CivilFromTime(TimeClip(first_jan + (value(U'd') - 1) * kMsPerDay));
    month = derived.month;
    day = derived.day;
  }
  if (date_c || date_d) Fail("D3136");  // week dates: not supported by the reference either
  double hour = value(U'H');
  if (time_b) {
    hour = value(U'h') == 12 ? 0 : value(U'h');
    if (value(U'P') == 1) hour += 12;
  }
  double millis = DateUtc(value(U'Y'), month, day, hour, value(U'm'), value(U's'), value(U'f'));
  const auto truthy = [&](char32_t c) {
    const double v = value(c);
    return v != 0 && !std::isnan(v);
  };
  if (truthy(U'Z')) {
    millis -= value(U'Z') * 60 * 1000;
  } else if (truthy(U'z')) {
    millis -= value(U'z') * 60 * 1000;
  }
  return millis;
}

// ---------------------------------------------------------------------------------------------
// $toMillis without a picture: the reference checks the text against an ISO 8601 pattern, then
// hands it to Date.parse. V8's Date.parse reads the ES5 format, and falls back to its legacy
// parser for what remains (so "2017.5" is 1 May 2017 and "2017-13-01" is NaN). Only the tokens
// that can pass the pattern (numbers, ":" "-" "+" ".", "T", "Z") are handled.

// ^\d{4}(-[01]\d)?(-[0-3]\d)?(T[0-2]\d:[0-5]\d:[0-5]\d)?(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$
bool LooksLikeIso8601(const Text& s) {
  const auto digit_in = [&](std::size_t i, char32_t lo, char32_t hi) {
    return i < s.size() && s[i] >= lo && s[i] <= hi;
  };
  const auto digit = [&](std::size_t i) { return digit_in(i, U'0', U'9'); };
  const auto at = [&](std::size_t i, char32_t c) { return i < s.size() && s[i] == c; };
  for (std::size_t i = 0; i < 4; ++i) {
    if (!digit(i)) return false;
  }
  // Each optional group either matches at a position or not; try taking it, then skipping it.
  const auto group = [&](int index, std::size_t p) -> std::optional<std::size_t> {
    switch (index) {
      case 0:
        if (at(p, U'-') && digit_in(p + 1, U'0', U'1') && digit(p + 2)) return p + 3;
        return std::nullopt;
      case 1:
        if (at(p, U'-') && digit_in(p + 1, U'0', U'3') && digit(p + 2)) return p + 3;
        return std::nullopt;
      case 2:
        if (at(p, U'T') && digit_in(p + 1, U'0', U'2') && digit(p + 2) && at(p + 3, U':') &&
            digit_in(p + 4, U'0', U'5') && digit(p + 5) && at(p + 6, U':') &&
            digit_in(p + 7, U'0', U'5') && digit(p + 8)) {
          return p + 9;
        }
        return std::nullopt;
      case 3: {
        if (!at(p, U'.') || !digit(p + 1)) return std::nullopt;
        std::size_t q = p + 1;
        while (digit(q)) ++q;
        return q;
      }
      default:
        if (at(p, U'Z')) return p + 1;
        if ((at(p, U'+') || at(p, U'-')) && digit_in(p + 1, U'0', U'2') && digit(p + 2)) {
          const std::size_t q = at(p + 3, U':') ? p + 4 : p + 3;
          if (digit_in(q, U'0', U'5') && digit(q + 1)) return q + 2;
        }
        return std::nullopt;
    }
  };
  const auto match = [&](const auto& self, int index, std::size_t p) -> bool {
    if (index == 5) return p == s.size();
    if (const auto next = group(index, p); next && self(self, index + 1, *next)) return true;
    return self(self, index + 1, p);
  };
  return match(match, 0, 4);
}

struct DateToken {
  enum class Kind { kNumber, kSymbol, kTimeSeparator, kZ, kOther, kEnd } kind = Kind::kEnd;
  int number = 0;          // value of up to 9 significant digits, as V8 reads it
  std::size_t length = 0;  // characters, leading zeros included
  char32_t symbol = 0;
  bool IsNumber() const { return kind == Kind::kNumber; }
  bool IsSymbol(char32_t c) const { return kind == Kind::kSymbol && symbol == c; }
  bool IsSign() const { return IsSymbol(U'+') || IsSymbol(U'-'); }
};

class DateTokenizer {
 public:
  explicit DateTokenizer(const Text& s) : s_(s) { next_ = Scan(); }
  DateToken Next() {
    DateToken t = next_;
    next_ = Scan();
    return t;
  }
  const DateToken& Peek() const { return next_; }
  bool SkipSymbol(char32_t c) {
    if (!next_.IsSymbol(c)) return false;
    Next();
    return true;
  }

 private:
  DateToken Scan() {
    DateToken t;
    if (pos_ >= s_.size()) return t;
    const std::size_t start = pos_;
    const char32_t c = s_[pos_];
    if (IsAsciiDigit(c)) {
      t.kind = DateToken::Kind::kNumber;
      while (pos_ < s_.size() && s_[pos_] == U'0') ++pos_;
      int significant = 0;
      for (; pos_ < s_.size() && IsAsciiDigit(s_[pos_]); ++pos_, ++significant) {
        if (significant < 9) t.number = t.number * 10 + static_cast<int>(s_[pos_] - U'0');
      }
      t.length = pos_ - start;
      return t;
    }
    ++pos_;
    if (IsIn(U":-+.", c)) {
      t.kind = DateToken::Kind::kSymbol;
      t.symbol = c;
    } else if (c == U'T') {
      t.kind = DateToken::Kind::kTimeSeparator;
    } else if (c == U'Z') {
      t.kind = DateToken::Kind::kZ;
    } else {
      t.kind = DateToken::Kind::kOther;
    }
    return t;
  }

  const Text& s_;
  std::size_t pos_ = 0;
  DateToken next_;
};

// V8 reads fractions from the first three significant digits it kept.
int ReadMilliseconds(const DateToken& token) {
  int number = token.number;
  std::size_t length = token.length;
  if (length == 1) {
    number *= 100;
  } else if (length == 2) {
    number *= 10;
  } else if (length > 3) {
    length = std::min<std::size_t>(length, 9);
    int factor = 1;
    for (; length > 3; --length) factor *= 10;
    number /= factor;
  }
  return number;
}

constexpr int kNone = std::numeric_limits<int>::min();

double V8DateParse(const Text& s) {
  DateTokenizer scanner(s);
  std::vector<int> day;   // up to 3 numbers
  std::vector<int> time;  // up to 4 numbers
  int tz_sign = kNone, tz_hour = kNone, tz_minute = kNone;
  bool iso_date = false;
  const auto set_utc = [&] {
    tz_sign = 1;
    tz_hour = 0;
    tz_minute = 0;
  };
  const auto is_month = [](int n) { return n >= 1 && n <= 12; };
  const auto is_day = [](int n) { return n >= 1 && n <= 31; };
  const auto is_hour = [](int n) { return n >= 0 && n <= 23; };
  const auto is_minute = [](int n) { return n >= 0 && n <= 59; };
  const auto fixed_number = [](const DateToken& t, std::size_t length) {
    return t.IsNumber() && t.length == length;
  };

  // The ES5 format: yyyy[-MM[-DD]][THH:mm[:ss[.sss]][Z|(+|-)hh:mm|(+|-)hhmm]].
  enum class Es5 { kDone, kInvalid, kLegacy };
  DateToken unhandled;  // where the legacy parser starts, for kLegacy
  const auto read_es5 = [&]() -> Es5 {
    day.push_back(scanner.Next().number);  // four digits, as the pattern checked
    if (scanner.SkipSymbol(U'-')) {
      if (!fixed_number(scanner.Peek(), 2) || !is_month(scanner.Peek().number)) {
        unhandled = scanner.Next();
        return Es5::kLegacy;
      }
      day.push_back(scanner.Next().number);
      if (scanner.SkipSymbol(U'-')) {
        if (!fixed_number(scanner.Peek(), 2) || !is_day(scanner.Peek().number)) {
          unhandled = scanner.Next();
          return Es5::kLegacy;
        }
        day.push_back(scanner.Next().number);
      }
    }
    if (scanner.Peek().kind != DateToken::Kind::kTimeSeparator) {
      if (scanner.Peek().kind != DateToken::Kind::kEnd) {
        unhandled = scanner.Next();
        return Es5::kLegacy;
      }
    } else {
      scanner.Next();
      if (!fixed_number(scanner.Peek(), 2) || scanner.Peek().number > 24) return Es5::kInvalid;
      // 24:00:00.000 is allowed, no other time in hour 24.
      const bool hour_is_24 = scanner.Peek().number == 24;
      time.push_back(scanner.Next().number);
      if (!scanner.SkipSymbol(U':')) return Es5::kInvalid;
      if (!fixed_number(scanner.Peek(), 2) || !is_minute(scanner.Peek().number) ||
          (hour_is_24 && scanner.Peek().number > 0)) {
        return Es5::kInvalid;
      }
      time.push_back(scanner.Next().number);
      if (scanner.SkipSymbol(U':')) {
        if (!fixed_number(scanner.Peek(), 2) || !is_minute(scanner.Peek().number) ||
            (hour_is_24 && scanner.Peek().number > 0)) {
          return Es5::kInvalid;
        }
        time.push_back(scanner.Next().number);
        if (scanner.SkipSymbol(U'.')) {
          if (!scanner.Peek().IsNumber() || (hour_is_24 && scanner.Peek().number > 0)) {
            return Es5::kInvalid;
          }
          time.push_back(ReadMilliseconds(scanner.Next()));
        }
      }
      if (scanner.Peek().kind == DateToken::Kind::kZ) {
        scanner.Next();
        set_utc();
      } else if (scanner.Peek().IsSign()) {
        tz_sign = scanner.Next().symbol == U'+' ? 1 : -1;
        if (fixed_number(scanner.Peek(), 4)) {
          const int hourmin = scanner.Next().number;
          if (!is_hour(hourmin / 100) || !is_minute(hourmin % 100)) return Es5::kInvalid;
          tz_hour = hourmin / 100;
          tz_minute = hourmin % 100;
        } else {
          if (!fixed_number(scanner.Peek(), 2) || !is_hour(scanner.Peek().number)) {
            return Es5::kInvalid;
          }
          tz_hour = scanner.Next().number;
          if (!scanner.SkipSymbol(U':')) return Es5::kInvalid;
          if (!fixed_number(scanner.Peek(), 2) || !is_minute(scanner.Peek().number)) {
            return Es5::kInvalid;
          }
          tz_minute = scanner.Next().number;
        }
      }
      if (scanner.Peek().kind != DateToken::Kind::kEnd) return Es5::kInvalid;
    }
    // Date-only forms are UTC; date-time forms are local time, which is UTC here too.
    if (tz_sign == kNone && time.empty()) set_utc();
    iso_date = true;
    return Es5::kDone;
  };
  const Es5 es5 = read_es5();
  if (es5 == Es5::kInvalid) return kNaN;

  // The legacy parser takes over from the first token the ES5 reading could not use.
  for (DateToken token = es5 == Es5::kLegacy ? unhandled : DateToken();
       token.kind != DateToken::Kind::kEnd; token = scanner.Next()) {
    if (token.IsNumber()) {
      const int n = token.number;
      const bool time_expecting = (time.size() == 1 && is_minute(n)) ||
                                  (time.size() == 2 && is_minute(n)) ||
                                  (time.size() == 3 && n >= 0 && n <= 999);
      if (scanner.SkipSymbol(U':')) {
        if (scanner.SkipSymbol(U':')) {
          if (!time.empty()) return kNaN;
          time = {n, 0};
        } else {
          if (time.size() >= 4) return kNaN;
          time.push_back(n);
          if (scanner.Peek().IsSymbol(U'.')) scanner.Next();
        }
      } else if (scanner.SkipSymbol(U'.') && time_expecting) {
        time.push_back(n);
        if (!scanner.Peek().IsNumber()) return kNaN;
        time.push_back(ReadMilliseconds(scanner.Next()));
        time.resize(4, 0);
      } else if (tz_hour != kNone && tz_minute == kNone && is_minute(n)) {
        tz_minute = n;
      } else if (time_expecting) {
        time.push_back(n);
        time.resize(4, 0);
        const DateToken& peek = scanner.Peek();
        if (peek.kind != DateToken::Kind::kEnd && peek.kind != DateToken::Kind::kZ &&
            !peek.IsSign()) {
          return kNaN;
        }
      } else {
        if (day.size() >= 3) return kNaN;
        day.push_back(n);
        scanner.SkipSymbol(U'-');
      }
    } else if (token.kind == DateToken::Kind::kZ) {
      set_utc();  // a number has always been read by now
    } else if (token.IsSign() && ((tz_hour == 0 && tz_minute == 0) || !time.empty())) {
      tz_sign = token.symbol == U'+' ? 1 : -1;
      int n = 0;
      std::size_t length = 0;
      if (scanner.Peek().IsNumber()) {
        const DateToken number = scanner.Next();
        n = number.number;
        length = number.length;
      }
      if (scanner.Peek().IsSymbol(U':')) {
        tz_hour = n;
        tz_minute = kNone;
      } else if (length == 1 || length == 2) {
        tz_hour = n;
        tz_minute = 0;
      } else if (length == 3 || length == 4) {
        tz_hour = n / 100;
        tz_minute = n % 100;
      } else {
        return kNaN;
      }
    } else if (token.IsSign() || token.kind == DateToken::Kind::kTimeSeparator) {
      return kNaN;  // a sign, or a word, after a number
    }
  }

  // Day: missing parts are 1; the legacy reading takes a first number that is no day as the year
  // and maps two-digit years.
  day.resize(3, 1);
  int year = 0, month = 0, date = 0;
  if (iso_date || !is_day(day[0])) {
    year = day[0];
    month = day[1];
    date = day[2];
  } else {
    month = day[0];
    date = day[1];
    year = day[2];
  }
  if (!iso_date) {
    if (year >= 0 && year <= 49) {
      year += 2000;
    } else if (year >= 50 && year <= 99) {
      year += 1900;
    }
  }
  if (!is_month(month) || !is_day(date)) return kNaN;
  time.resize(4, 0);
  if (!is_hour(time[0]) || !is_minute(time[1]) || !is_minute(time[2]) || time[3] < 0 ||
      time[3] > 999) {
    if (time[0] != 24 || time[1] != 0 || time[2] != 0 || time[3] != 0) return kNaN;
  }
  double offset_seconds = 0;  // local time is UTC
  if (tz_sign != kNone) {
    const int hour = tz_hour == kNone ? 0 : tz_hour;
    const int minute = tz_minute == kNone ? 0 : tz_minute;
    offset_seconds = tz_sign * (hour * 3600.0 + minute * 60.0);
  }
  const double t =
      MakeDate(MakeDay(year, month - 1, date), MakeTime(time[0], time[1], time[2], time[3]));
  return TimeClip(t - offset_seconds * 1000);
}

}  // namespace

std::string FormatDateTime(double millis, std::optional<std::string_view> picture,
                           std::optional<std::string_view> timezone) {
  Offset offset;
  if (timezone) {
    // The reference reads the offset with parseInt, so "-0530" is floor(-5.3) = -6 hours and
    // -30 minutes.
    const double value = JsParseInt(DecodeUtf8(*timezone));
    offset.hours = std::floor(value / 100);
    offset.minutes = std::fmod(value, 100);
  }
  const std::vector<PicturePart> spec =
      AnalyseDateTimePicture(picture ? DecodeUtf8(*picture) : Text(kIso8601Picture));
  const double t = TimeClip(millis + (60 * offset.hours + offset.minutes) * 60 * 1000);
  Text out;
  for (const PicturePart& part : spec) {
    out += part.literal ? part.value : FormatComponent(t, part, offset);
  }
  return EncodeUtf8(out);
}

std::optional<double> ParseDateTime(std::string_view timestamp,
                                    std::optional<std::string_view> picture,
                                    std::optional<double> now_millis) {
  const Text text = DecodeUtf8(timestamp);
  if (picture) {
    return ParseWithPicture(text, DecodeUtf8(*picture),
                            TimeClip(now_millis ? *now_millis : NowMillis()));
  }
  if (!LooksLikeIso8601(text)) Fail("D3110", ErrorDetails{.value = JsonQuote(text)});
  return V8DateParse(text);
}

std::string FormatInteger(double value, std::string_view picture) {
  return EncodeUtf8(FormatIntegerText(value, DecodeUtf8(picture)));
}

std::optional<double> ParseInteger(std::string_view text, std::string_view picture) {
  const IntegerFormat format = AnalyseIntegerPicture(DecodeUtf8(picture));
  return ParseIntegerWith(DecodeUtf8(text), format);
}

}  // namespace zflow::jsonata
