#include <utility>

#include "jsonata/error.h"
#include "jsonata/evaluator.h"
#include "jsonata/functions.h"
#include "jsonata/library.h"
#include "jsonata/parser.h"
#include "jsonata/program.h"
#include "zflow/jsonata.h"

namespace zflow::jsonata {
namespace {

// Positions are byte offsets inside the module and characters in errors users read.
Error ToUserError(const Failure& failure, std::string_view text) {
  Error error = failure.ToError();
  if (error.position) error.position = CodePointCount(text.substr(0, std::min(*error.position, text.size())));
  return error;
}

void AddOnce(std::vector<std::string>& list, const std::string& name) {
  for (const std::string& n : list) {
    if (n == name) return;
  }
  list.push_back(name);
}

// Walks the tree; `top` is true where the context is the evaluation's input.
void Collect(const Expr& e, bool top, ExpressionFacts& facts) {
  auto walk = [&](const ExprPtr& child, bool child_top) {
    if (child) Collect(*child, child_top, facts);
  };
  switch (e.type) {
    case ExprType::kVariable:
      if (e.value.empty()) {
        if (top) facts.reads_input = true;
      } else if (e.value == "$") {
        facts.reads_root = true;
      } else {
        AddOnce(facts.variables, e.value);
      }
      break;
    case ExprType::kName:
    case ExprType::kWildcard:
    case ExprType::kDescendant:
    case ExprType::kParent:
      if (top) facts.reads_input = true;
      break;
    case ExprType::kPath: {
      for (std::size_t i = 0; i < e.items.size(); ++i) Collect(*e.items[i], top && i == 0, facts);
      if (e.items.size() >= 2 && e.items[0]->type == ExprType::kVariable &&
          e.items[0]->value == "states" && e.items[1]->type == ExprType::kName) {
        AddOnce(facts.states_members, e.items[1]->value);
      }
      break;
    }
    default:
      walk(e.lhs, top);
      walk(e.rhs, top);
      walk(e.expression, top);
      for (const ExprPtr& item : e.items) walk(item, top);
      for (const auto& [k, v] : e.pairs) {
        walk(k, top);
        walk(v, top);
      }
      walk(e.procedure, top);
      walk(e.then_branch, top);
      walk(e.else_branch, top);
      walk(e.body, top);
      // A transform's clauses run against the object being transformed.
      walk(e.pattern, false);
      walk(e.update, false);
      walk(e.remove, false);
      break;
  }
  for (const Stage& stage : e.predicates) walk(stage.filter, false);
  for (const Stage& stage : e.stages) walk(stage.filter, false);
  if (e.group) {
    for (const auto& [k, v] : e.group->pairs) {
      walk(k, false);
      walk(v, false);
    }
  }
  for (const SortTerm& term : e.terms) walk(term.expression, false);
}

}  // namespace

ExpressionFacts Expression::Facts() const {
  ExpressionFacts facts;
  Collect(*program_->root, true, facts);
  return facts;
}

Outcome<Expression> Expression::Compile(std::string_view text) {
  auto program = std::make_shared<internal::Program>();
  program->text = std::string(text);
  try {
    program->root = ParseExpression(program->text);
  } catch (const Failure& failure) {
    return ToUserError(failure, text);
  }
  return Expression(std::move(program));
}

const std::string& Expression::text() const { return program_->text; }

Outcome<std::optional<json::value>> Expression::Evaluate(const json::value* input,
                                                         const EvaluateOptions& options) const {
  try {
    FrameList frames;
    Evaluator evaluator(options);
    // The input and bindings are read in place (they outlive the evaluation); the result is
    // copied out as JSON.
    Value in = input != nullptr ? WrapInput(Value::Borrow(*input)) : Value();
    FramePtr env(new Frame(nullptr, &frames));
    env->Bind("$", in);
    if (options.bindings != nullptr) {
      for (const auto& member : *options.bindings) {
        env->Bind(std::string_view(member.key()), Value::Borrow(member.value()));
      }
    }
    for (const BorrowedVariable& b : options.borrowed) {
      if (b.value != nullptr) {
        env->Bind(b.name, Value::Borrow(*b.value));
        continue;
      }
      Value object = Value::Object();
      for (const auto& [key, member] : b.members) {
        if (member != nullptr) object.mutable_object().AppendNew(key, Value::Borrow(*member));
      }
      env->Bind(b.name, std::move(object));
    }
    Value result = evaluator.Evaluate(*program_->root, in, env);
    return evaluator.ResultJson(result);
  } catch (const Failure& failure) {
    return ToUserError(failure, program_->text);
  }
}

Outcome<FunctionLibrary> FunctionLibrary::Create(std::vector<NativeFunction> functions,
                                                 std::vector<std::string> withheld_builtins) {
  auto library = std::make_shared<internal::Library>();
  for (NativeFunction& f : functions) {
    try {
      auto native = std::make_unique<internal::Library::Native>(
          internal::Library::Native{std::move(f), Signature()});
      native->signature = Signature::Parse(native->function.signature);
      std::string name = native->function.name;
      library->natives.insert_or_assign(std::move(name), std::move(native));
    } catch (const Failure& failure) {
      return failure.ToError();
    }
  }
  library->withheld = std::move(withheld_builtins);
  return FunctionLibrary(std::move(library));
}

}  // namespace zflow::jsonata
