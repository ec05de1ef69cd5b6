#include <utility>

#include "jsonata/error.h"
#include "jsonata/evaluator.h"
#include "jsonata/functions.h"
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

}  // namespace

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
    Value result = evaluator.Evaluate(*program_->root, in, env);
    return ToJson(result);
  } catch (const Failure& failure) {
    return ToUserError(failure, program_->text);
  }
}

}  // namespace zflow::jsonata
