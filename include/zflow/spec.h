// zflow/spec.h: pipelines written as YAML files, for people who do not write C++.
//
//   pipeline: fraud-scoring
//   schedule: cron(0 6 * * ? *)
//   parameters: {day: "2026-11-21", min_auc: 0.9}
//   externals:
//     SageMakerRoleArn: {description: Role SageMaker jobs run as,
//                        local: "arn:aws:iam::123456789012:role/local"}
//   steps:
//     - name: train
//       training:
//         image: fraud-gbm:latest
//         role_arn: ${SageMakerRoleArn}
//         channels: {train: "s3://bucket/features/{{ params.day }}/"}
//         output_path: s3://bucket/models
//     - name: deploy
//       after: [train]
//       when: steps.evaluate.Payload.auc > params.min_auc
//       endpoint: {...}
//
// Values: "${Name}" is an external (a template parameter); "{{ params.x }}", "{{ steps.s.path }}",
// "{{ execution.name }}" and "{{ item }}" are references, alone (the value itself) or inside text
// (a formatted string). The full format is in docs/pipelines.md. Every mistake is reported as
// "file:line:column: what is wrong; what is expected".
#ifndef ZFLOW_SPEC_H_
#define ZFLOW_SPEC_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zflow/pipeline.h"
#include "zflow/status.h"

namespace zflow::spec {

class LoadedPipeline {
 public:
  LoadedPipeline();
  ~LoadedPipeline();
  LoadedPipeline(LoadedPipeline&&) noexcept;
  LoadedPipeline& operator=(LoadedPipeline&&) noexcept;

  const Pipeline& pipeline() const { return *pipeline_; }
  // Prefixes "file:line:column: " (the step's place in the file) to a message that names a step
  // ("step \"train\" ..."), or "file: " when it names none ("file:line: " for a declared
  // pipeline, without a column).
  std::string Locate(std::string_view message) const;
  // Where a step was declared: file, line (1-based; 0 when unknown) and column (0 when the
  // language has none, as in Python).
  struct Place {
    std::string file;
    int line = 0;
    int column = 0;
  };
  Place StepPlace(const std::string& step) const;

 private:
  friend class Loader;
  std::string file_;
  std::unique_ptr<Pipeline> pipeline_;
  std::vector<std::unique_ptr<Pipeline>> bodies_;  // ForEach bodies
  std::map<std::string, std::pair<int, int>> step_places_;  // step -> line, column (1-based)
  int pipeline_line_ = 0;  // a declared pipeline: the line that created it
};

Result<LoadedPipeline> LoadPipelineText(std::string_view text, const std::string& file_name);
Result<LoadedPipeline> LoadPipelineFile(const std::string& path);

// A pipeline declared in another language (the Python module builds one): the YAML file's
// document as JSON, where a JSON string is always text (never read as a number or boolean, as
// a quoted YAML scalar), and where each step's place is the line of `file` that declared it.
// Errors read "file:line: what is wrong", naming the declaring line of the step at fault.
struct DeclaredPlaces {
  AuthoringLanguage language = AuthoringLanguage::kPython;  // for messages
  int pipeline_line = 0;
  std::map<std::string, int> steps;  // step name -> line
};
Result<LoadedPipeline> LoadPipelineDocument(const json::value& document, const std::string& file,
                                            const DeclaredPlaces& places);

}  // namespace zflow::spec

#endif  // ZFLOW_SPEC_H_
