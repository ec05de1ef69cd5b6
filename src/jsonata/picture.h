// The picture-string functions of JSONata: $fromMillis / $toMillis (XPath fn:format-dateTime
// pictures), $formatInteger / $parseInteger and $formatNumber (fn:format-number), with the
// behaviour of the reference implementation (jsonata-js 2.0.6) down to its quirks, so that an
// expression gives the same string here as in AWS Step Functions.
//
//   FormatDateTime(1521801216617, "[FNn], [D1o] [MNn] [Y]", std::nullopt)
//       -> "Friday, 23rd March 2018"
//   FormatInteger(1234, "#,##0") -> "1,234"
//   FormatNumber(0.256, "#0.0%", {}) -> "25.6%"
//
// Strings are UTF-8; where the reference counts UTF-16 characters these functions count code
// points. Numbers are doubles. Errors (bad pictures, unparsable timestamps) throw `Failure`
// through Fail() with the reference's code (D3080-D3093, D3110, D3130-D3136). Where the reference
// dies of a plain JavaScript error instead (a recursion that overflows the stack, toFixed() with
// more than 100 digits, an invalid code point), these functions fail with D1001. Thread-safe:
// no mutable shared state.
#ifndef ZFLOW_JSONATA_PICTURE_H_
#define ZFLOW_JSONATA_PICTURE_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zflow::jsonata {

// $fromMillis(millis, picture?, timezone?): ISO 8601 by default ("2017-11-07T15:07:54.972Z"),
// or an XPath fn:format-dateTime picture ("[Y0001]-[M01]-[D01]", "[FNn], [D1o] [MNn] [Y]",
// "[h]:[m01][P]", ...). `timezone` is an offset read as the reference reads it ("+0100",
// "-0500"). Millis outside JavaScript's Date range give "NaN" components, as in the reference.
std::string FormatDateTime(double millis, std::optional<std::string_view> picture,
                           std::optional<std::string_view> timezone);

// $toMillis(timestamp, picture?): without a picture, an ISO 8601 timestamp as JavaScript's
// Date.parse reads it (D3110 when it does not look like one); with a picture, the reference's
// picture-driven parser. Components the picture leaves out before the first one it gives are
// taken from `now_millis` (JSONata's evaluation timestamp, the value $now() reports; the system
// clock when unset). nullopt is JSONata's undefined (the timestamp does not match the picture, or
// the picture has no component); NaN is returned where the reference returns NaN (an impossible
// date such as "2018-13-01").
std::optional<double> ParseDateTime(std::string_view timestamp,
                                    std::optional<std::string_view> picture,
                                    std::optional<double> now_millis = std::nullopt);

// $formatInteger(number, picture): decimal digit patterns ("000", "#,##0", any Unicode decimal
// digit family), "w" / "W" / "Ww" words, "i" / "I" roman numerals, "a" / "A" letters, and the
// ordinal modifier ";o". The number is floored first.
std::string FormatInteger(double value, std::string_view picture);

// $parseInteger(string, picture): the inverse of FormatInteger, as lenient as the reference (the
// text is not checked against the picture). Never nullopt for a string argument; NaN where the
// reference returns NaN.
std::optional<double> ParseInteger(std::string_view text, std::string_view picture);

// $formatNumber(number, picture, options?): XPath fn:format-number. `options` holds the members
// of the options object in order ("decimal-separator", "grouping-separator",
// "exponent-separator", "infinity", "minus-sign", "NaN", "percent", "per-mille", "zero-digit",
// "digit", "pattern-separator"); a later member overrides an earlier one.
std::string FormatNumber(double value, std::string_view picture,
                         const std::vector<std::pair<std::string, std::string>>& options);

// Text helpers shared by datetime.cc and number_format.cc; not for other modules.
namespace picture_internal {

// Decodes UTF-8 to code points; a malformed byte becomes U+FFFD.
std::u32string DecodeUtf8(std::string_view text);
std::string EncodeUtf8(std::u32string_view text);
// JavaScript's Number.prototype.toString(): "1e+21", "0.000001", "1.5e-7", "NaN", ...
std::string JsNumberToString(double value);

}  // namespace picture_internal

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_PICTURE_H_
