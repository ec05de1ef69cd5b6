// Percent-encoding of URL parts (RFC 3986): query parameters, path segments.
//
//   PercentEncode("a b/c")       -> "a%20b%2Fc"
//   PercentEncode("arn:x", ":")  -> "arn:x"
//   PercentDecode("a%20b")       -> "a b"
#ifndef ZFLOW_COMMON_PERCENT_ENCODING_H_
#define ZFLOW_COMMON_PERCENT_ENCODING_H_

#include <string>
#include <string_view>

namespace zflow {

// Every byte but the unreserved ones (letters, digits, "-._~") and those in `keep` as %XX.
std::string PercentEncode(std::string_view text, std::string_view keep = "");

// %XX decoded; anything else (a lone '%', '+') stays as it is, as RFC 3986 says.
std::string PercentDecode(std::string_view text);

}  // namespace zflow

#endif  // ZFLOW_COMMON_PERCENT_ENCODING_H_
