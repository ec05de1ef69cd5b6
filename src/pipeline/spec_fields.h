// The fields of each pipeline step kind, as YAML files and the Python module spell them: the
// one table the YAML loader takes its accepted keys from, the Python module is checked against,
// and the field reference in docs/pipelines.md is generated from (`zflow docs fields`).
#ifndef ZFLOW_PIPELINE_SPEC_FIELDS_H_
#define ZFLOW_PIPELINE_SPEC_FIELDS_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace zflow::spec {

struct FieldInfo {
  std::string_view key;      // the YAML key and the Python keyword
  std::string_view type;     // what it holds, in words
  bool required;
  std::string_view fallback;  // the default when not given ("" when none)
  std::string_view doc;
};

struct StepKindInfo {
  std::string_view kind;      // the YAML key: training, lambda, ...
  std::string_view python;    // the Pipeline method: training, lambda_function, ...
  std::string_view cxx;       // the C++ struct: TrainingJob, LambdaFunction, ...
  std::string_view summary;   // what it does and what its result holds
  std::vector<FieldInfo> fields;
};

// Every step kind, in the order of the reference.
const std::vector<StepKindInfo>& StepKinds();
const StepKindInfo& StepKind(std::string_view kind);
// Keys every step takes besides its kind's (name, after, when, retry, ...).
const std::vector<FieldInfo>& CommonStepFields();

// The field reference as Markdown (docs/pipelines.md holds it between markers).
std::string FieldReferenceMarkdown();

}  // namespace zflow::spec

#endif  // ZFLOW_PIPELINE_SPEC_FIELDS_H_
