#include "jsonata/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "jsonata/error.h"

namespace zflow::jsonata {

std::shared_ptr<const Regex> Regex::Compile(std::string_view pattern, std::string_view flags,
                                            std::size_t position) {
  std::uint32_t options = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY |
                          PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF;
  for (char f : flags) {
    if (f == 'i') options |= PCRE2_CASELESS;
    if (f == 'm') {
      options |= PCRE2_MULTILINE;
      options &= ~static_cast<std::uint32_t>(PCRE2_DOLLAR_ENDONLY);
    }
  }
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_compile_context* context = pcre2_compile_context_create(nullptr);
  // JavaScript's "." stops at \n, \r, U+2028 and U+2029; ANYCRLF covers the first two.
  pcre2_set_newline(context, PCRE2_NEWLINE_ANYCRLF);
  pcre2_set_compile_extra_options(context, PCRE2_EXTRA_ALT_BSUX);
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                    &error_code, &error_offset, context);
  pcre2_compile_context_free(context);
  if (code == nullptr) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(error_code, buffer, sizeof buffer);
    Fail("S0303", {.position = position, .raw = reinterpret_cast<const char*>(buffer)});
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  std::shared_ptr<Regex> regex(new Regex());
  regex->pattern_ = std::string(pattern);
  regex->code_ = code;
  return regex;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

std::optional<Regex::Match> Regex::Find(std::string_view subject, std::size_t from) const {
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), from,
                       0, data, nullptr);
  std::optional<Match> out;
  if (rc > 0) {
    PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    std::uint32_t pairs = pcre2_get_ovector_count(data);
    Match m;
    m.start = ovector[0];
    m.end = ovector[1];
    std::uint32_t groups = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    for (std::uint32_t g = 1; g <= groups; ++g) {
      if (g < pairs && static_cast<int>(g) < rc && ovector[2 * g] != PCRE2_UNSET) {
        m.groups.emplace_back(std::make_pair(ovector[2 * g], ovector[2 * g + 1]));
      } else {
        m.groups.emplace_back(std::nullopt);
      }
    }
    out = std::move(m);
  }
  pcre2_match_data_free(data);
  return out;
}

}  // namespace zflow::jsonata
