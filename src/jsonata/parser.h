// The JSONata parser: a lexer and a top-down operator-precedence (Pratt) parser with the
// reference's binding powers, followed by a pass that builds paths, stages and tuple bindings.
#ifndef ZFLOW_JSONATA_PARSER_H_
#define ZFLOW_JSONATA_PARSER_H_

#include <string_view>

#include "jsonata/ast.h"

namespace zflow::jsonata {

// Throws Failure with an S0xxx code (position: byte offset just after the offending token).
ExprPtr ParseExpression(std::string_view text);

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_PARSER_H_
