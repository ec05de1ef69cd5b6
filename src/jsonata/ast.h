// The syntax tree of a compiled JSONata expression, after the parser's second pass has turned
// "." chains into paths of steps, predicates into step stages, and "@"/"#"/"%" into tuple
// bindings. One node type serves every kind of expression; the fields used depend on `type`.
#ifndef ZFLOW_JSONATA_AST_H_
#define ZFLOW_JSONATA_AST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jsonata/signature.h"
#include "jsonata/value.h"

namespace zflow::jsonata {

class Regex;

enum class ExprType : std::uint8_t {
  kPath,
  kName,        // a field name step
  kString,      // literal
  kNumber,      // literal
  kValue,       // true, false, null
  kRegex,       // /pattern/flags
  kWildcard,    // *
  kDescendant,  // **
  kParent,      // %
  kVariable,    // $name, $ (value ""), $$ (value "$")
  kBinary,      // arithmetic, comparison, boolean, "&", "..", "in", "?:", "??"
  kNegate,      // unary -
  kArray,       // [a, b] constructor
  kObject,      // {k: v} constructor (also a group-by on a step)
  kFunction,    // call
  kPartial,     // call with ? placeholders
  kPlaceholder, // the ? of a partial application
  kLambda,
  kCondition,   // c ? a : b
  kTransform,   // | pattern | update, delete |
  kBlock,       // (a; b)
  kBind,        // $x := value
  kApply,       // a ~> f
  kSort,        // the order-by step of a path
  kOperator,    // a raw operator token (parser only)
};

// Binary operators, decided once by the parser.
enum class BinaryOp : std::uint8_t {
  kOther, kAnd, kOr, kElvis, kCoalesce, kAdd, kSubtract, kMultiply, kDivide, kModulo, kConcat,
  kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual, kRange, kIn,
};
BinaryOp BinaryOpFor(std::string_view op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// A parent (%) reference's slot: the tuple binding that carries the ancestor.
struct AncestorSlot {
  std::string label;
  int level = 1;
  int index = 0;
};

struct Stage {
  bool is_index = false;  // "#$i" binding after predicates; otherwise a filter
  ExprPtr filter;
  std::string index_name;
  std::size_t position = 0;
};

struct SortTerm {
  bool descending = false;
  ExprPtr expression;
};

struct GroupBy {
  std::vector<std::pair<ExprPtr, ExprPtr>> pairs;
  std::size_t position = 0;
};

struct Expr {
  ExprType type = ExprType::kPath;
  std::size_t position = 0;
  std::string value;  // operator, name, string literal, variable name
  BinaryOp op = BinaryOp::kOther;
  std::uint32_t depth = 1;  // of the subtree, as parsed (the parser bounds it)
  // A path of plain steps ($var or names, no predicates, bindings, groups or sorts): read
  // without building sequences unless an array is met.
  bool simple_path = false;
  // Reads neither the context nor anything but literals and variables (a predicate like
  // [0..9] or [$i]): a filter evaluates it once instead of once per item.
  bool context_free = false;
  Value literal;      // string/number/value literals
  std::shared_ptr<const Regex> regex;

  ExprPtr lhs, rhs;                 // binary, bind, apply; condition: lhs=condition
  ExprPtr expression;               // negate
  std::vector<ExprPtr> items;       // path steps, array items, block, call arguments
  std::vector<std::pair<ExprPtr, ExprPtr>> pairs;  // object constructor
  ExprPtr procedure;                // call
  ExprPtr then_branch, else_branch; // condition
  ExprPtr pattern, update, remove;  // transform

  // Lambda.
  std::vector<std::string> params;
  std::shared_ptr<const Signature> signature;
  ExprPtr body;
  bool thunk = false;  // a tail call: returned unevaluated to the trampoline

  // Step annotations.
  std::vector<Stage> predicates;  // on a non-path expression
  std::vector<Stage> stages;      // on a path step
  std::unique_ptr<GroupBy> group;
  std::vector<SortTerm> terms;
  std::string focus;  // "@$v": the step binds $v instead of moving the context
  std::string index;  // "#$i": the step binds its position
  bool has_focus = false;
  bool has_index = false;
  bool tuple = false;
  bool keep_array = false;
  bool cons_array = false;
  bool keep_singleton_array = false;
  std::shared_ptr<AncestorSlot> slot;      // parent
  std::shared_ptr<AncestorSlot> ancestor;  // a step that binds an ancestor for a later %
  std::vector<std::shared_ptr<AncestorSlot>> seeking_parent;
};

}  // namespace zflow::jsonata

#endif  // ZFLOW_JSONATA_AST_H_
