// Errors inside the JSONata module. Compiling and evaluating throw `Failure` (an evaluation that
// fails is abandoned as a whole, from any depth, and the success path pays nothing for it);
// Expression::Compile and Expression::Evaluate catch it, so no exception leaves the module.
#ifndef ZFLOW_JSONATA_ERROR_H_
#define ZFLOW_JSONATA_ERROR_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "zflow/jsonata.h"

namespace zflow::jsonata {

// Details that fill the placeholders of a code's message ({{token}}, {{value}}, {{value2}}).
// {{value}} placeholders show JSON text, {{{message}}} ones raw text.
struct ErrorDetails {
  std::optional<std::size_t> position;
  std::string token;
  std::string value;   // the offending value as JSON text (strings quoted)
  std::string value2;  // a second value, as JSON text
  int index = 0;       // the argument number (signature errors)
  std::string type;    // the expected array item type (T0412)
  std::string raw;     // the {{{message}}} / {{{functionName}}} text
};

// What is thrown. Function calls fill in the position and the function's name on the way out
// when the error has none, so the message is written only when the error leaves the module.
struct Failure {
  std::string code;
  ErrorDetails details;
  Error ToError() const;
};

// The reference implementation's message for `code`, with the details filled in.
std::string ErrorMessage(std::string_view code, const ErrorDetails& details);

[[noreturn]] void Fail(std::string_view code, ErrorDetails details = {});

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_ERROR_H_
