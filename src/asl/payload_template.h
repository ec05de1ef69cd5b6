// Payload templates: Parameters, ResultSelector, ItemSelector, Credentials and JSONPath-mode
// Assign. Keys ending in ".$" take their value from a path or an intrinsic function call; the
// ".$" is dropped from the key. Compiled once per state, evaluated per execution.
//
//   auto t = PayloadTemplate::Compile(state.parameters.value());
//   Outcome<json::value> effective = t->Evaluate(ctx, errors::kRuntime);
#ifndef ZFLOW_ASL_PAYLOAD_TEMPLATE_H_
#define ZFLOW_ASL_PAYLOAD_TEMPLATE_H_

#include <memory>
#include <string_view>

#include "asl/evaluation.h"
#include "zflow/json.h"
#include "zflow/status.h"

namespace zflow::asl {

class JsonPathCache;

class PayloadTemplate {
 public:
  // kInvalidArgument naming the key when a ".$" value is not a string, not a valid path, or
  // not a valid intrinsic call. Paths come from `paths` when given.
  static Result<PayloadTemplate> Compile(const json::value& definition,
                                         JsonPathCache* paths = nullptr);

  PayloadTemplate(PayloadTemplate&&) noexcept;
  PayloadTemplate& operator=(PayloadTemplate&&) noexcept;
  ~PayloadTemplate();

  // Builds the payload. A path that selects nothing fails with `missing_path_error` (AWS reports
  // States.Runtime for Parameters, ItemSelector and ResultSelector alike) and a cause naming the
  // key, the path and the input; intrinsic failures keep their own error names.
  Outcome<json::value> Evaluate(const EvaluationContext& ctx,
                                std::string_view missing_path_error) const;

  // True when the template has no ".$" keys (Evaluate returns the definition as is).
  bool is_constant() const;

  // Hints the CPU to load the template's nodes (the engine calls it one state ahead).
  void Prefetch() const;

  struct Node;

 private:
  explicit PayloadTemplate(std::unique_ptr<Node> root);
  std::unique_ptr<Node> root_;
};

}  // namespace zflow::asl

#endif  // ZFLOW_ASL_PAYLOAD_TEMPLATE_H_
