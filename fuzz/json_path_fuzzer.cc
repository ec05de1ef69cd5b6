// Fuzzes the JSONPath compiler and evaluator: the input is a path, evaluated against a fixed
// document, context object and variable; a reference path must also be assignable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "asl/json_path.h"

namespace {
const zflow::json::value& Document() {
  static const zflow::json::value doc = std::move(zflow::ParseJson(R"({
    "a": {"b": [1, 2.5, "x", null, true, {"c": [[]]}], "d": {"e": "f"}},
    "list": [{"n": 1, "s": "a"}, {"n": 2, "s": "b"}, {"n": -3}], "": {"": 0}})")->value);
  return doc;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto path = zflow::asl::JsonPath::Compile(text);
  if (!path.ok()) return 0;
  const zflow::json::value& doc = Document();
  zflow::asl::EvaluationContext ctx;
  ctx.input = &doc;
  ctx.context = &doc;
  ctx.variables = [&doc](std::string_view) { return &doc; };
  auto result = path->Evaluate(ctx);
  if (path->is_reference_path()) {
    const zflow::json::value* found = path->Find(ctx);
    if (result.ok() != (found != nullptr)) std::abort();
    if (path->root() == zflow::asl::JsonPath::Root::kInput) {
      (void)path->Assign(doc, zflow::json::value(1));
    }
  } else if (!result.ok() || !result->is_array()) {
    std::abort();
  }
  return 0;
}
