// zflow eval: try a JSONata expression (as JSONata states run it) or a JSONPath / intrinsic
// function (as JSONPath states do) against an input, from the terminal.
#include <chrono>
#include <iostream>
#include <iterator>
#include <string>

#include "asl/evaluation.h"
#include "asl/intrinsics.h"
#include "asl/json_path.h"
#include "asl/jsonata_functions.h"
#include "asl/jsonata_template.h"
#include "cli/commands.h"
#include "common/file.h"
#include "zflow/json.h"
#include "zflow/jsonata.h"

namespace zflow::cli {
namespace {

constexpr std::size_t kMaxInputBytes = std::size_t{256} << 20;

}  // namespace

void PrintWithCaret(std::ostream& out, std::string_view text, std::size_t position) {
  out << "  " << text << "\n  ";
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size() && chars < position; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;
    out << (text[i] == '\t' ? '\t' : ' ');
    ++chars;
  }
  out << "^\n";
}

int RunEval(const EvalOptions& options) {
  json::value input;
  bool has_input = false;
  if (!options.input_file.empty()) {
    std::string text;
    if (options.input_file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto read = ReadFileCapped(options.input_file, kMaxInputBytes);
      if (!read.ok()) {
        std::cerr << "zflow eval: " << read.status().message() << "\n";
        return kExitUsage;
      }
      if (read->truncated) {
        std::cerr << "zflow eval: " << options.input_file << " is larger than "
                  << kMaxInputBytes / (1 << 20) << " MiB\n";
        return kExitUsage;
      }
      text = std::move(read->data);
    }
    auto parsed = ParseJson(text);
    if (!parsed.ok()) {
      std::cerr << "zflow eval: " << options.input_file << ": " << parsed.status().message()
                << "\n";
      return kExitInvalid;
    }
    input = std::move(parsed->value);
    has_input = true;
  } else if (!options.input.empty()) {
    auto parsed = ParseJson(options.input);
    if (!parsed.ok()) {
      std::cerr << "zflow eval: --input: " << parsed.status().message() << "\n";
      return kExitInvalid;
    }
    input = std::move(parsed->value);
    has_input = true;
  }

  if (options.jsonpath) {
    asl::EvaluationContext ctx;
    ctx.input = &input;
    asl::Outcome<json::value> result = json::value();
    if (asl::LooksLikeIntrinsic(options.expression)) {
      auto call = asl::IntrinsicCall::Parse(options.expression);
      if (!call.ok()) {
        std::cerr << "zflow eval: " << call.status().message() << "\n";
        return kExitInvalid;
      }
      result = call->Evaluate(ctx);
    } else {
      auto path = asl::JsonPath::Compile(options.expression);
      if (!path.ok()) {
        std::cerr << "zflow eval: " << path.status().message() << "\n";
        return kExitInvalid;
      }
      result = path->Evaluate(ctx);
    }
    if (!result.ok()) {
      std::cerr << "zflow eval: " << result.error().error << ": " << result.error().cause << "\n";
      return kExitInvalid;
    }
    std::cout << ToPrettyJsonText(*result) << "\n";
    return kExitOk;
  }

  // JSONata, as a JSONata state's field: {% %} may be left out; the input is both the
  // context ("$") and $states.input.
  std::string text = options.expression;
  if (asl::IsJsonataString(text)) text = std::string(asl::JsonataBody(text));
  auto expression = jsonata::Expression::Compile(text);
  if (!expression.ok()) {
    const jsonata::Error& e = expression.error();
    std::cerr << "zflow eval: " << e.code << ": " << e.message << "\n";
    if (e.position) PrintWithCaret(std::cerr, text, *e.position > 0 ? *e.position - 1 : 0);
    return kExitInvalid;
  }
  asl::JsonataScope scope;
  scope.input = has_input ? &input : nullptr;
  const std::pair<std::string_view, const json::value*> members[] = {{"input", scope.input}};
  const jsonata::BorrowedVariable states[] = {{.name = "states", .members = members}};
  jsonata::EvaluateOptions evaluate;
  evaluate.borrowed = states;
  evaluate.functions = options.plain ? nullptr : &asl::StepFunctionsJsonata();
  // A state's expression gets one second on AWS; at a terminal, a runaway loop gets ten.
  evaluate.time_limit = std::chrono::seconds(10);
  auto result = expression->Evaluate(has_input ? &input : nullptr, evaluate);
  if (!result.ok()) {
    const jsonata::Error& e = result.error();
    std::cerr << "zflow eval: " << e.code << ": " << e.message << "\n";
    if (e.position) PrintWithCaret(std::cerr, text, *e.position > 0 ? *e.position - 1 : 0);
    return kExitInvalid;
  }
  if (!result->has_value()) {
    std::cerr << "zflow eval: the expression returned nothing (undefined)\n";
    return kExitInvalid;
  }
  std::cout << ToPrettyJsonText(**result) << "\n";
  return kExitOk;
}

}  // namespace zflow::cli
