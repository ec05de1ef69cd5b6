// Fuzzes the loader of declared pipelines (spec::LoadPipelineDocument: what the Python module
// sends, a JSON document) and, for pipelines that load, the compiler and the CloudFormation
// template. Invariants: no crash; every error is a Status with a message, never an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compiled_pipeline_checks.h"
#include "zflow/json.h"
#include "zflow/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto document = zflow::ParseJson(text, {.record_locations = false});
  if (!document.ok()) return 0;
  zflow::spec::DeclaredPlaces places{.pipeline_line = 1, .steps = {{"prepare", 3}, {"train", 7}}};
  auto loaded = zflow::spec::LoadPipelineDocument(document->value, "fuzz.py", places);
  if (!loaded.ok()) return 0;
  CompileLoadedPipeline(*loaded);
  return 0;
}
