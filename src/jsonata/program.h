// A compiled expression: its text and syntax tree (what zflow::jsonata::Expression shares).
#ifndef ZFLOW_JSONATA_PROGRAM_H_
#define ZFLOW_JSONATA_PROGRAM_H_

#include <string>

#include "jsonata/ast.h"

namespace zflow::jsonata::internal {

struct Program {
  std::string text;
  ExprPtr root;
};

}  // namespace zflow::jsonata::internal

#endif  // ZFLOW_JSONATA_PROGRAM_H_
