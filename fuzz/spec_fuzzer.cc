// Fuzzes the YAML pipeline loader and, for pipelines that load, the compiler and the
// CloudFormation template. Invariants: no crash; a pipeline that compiles yields a template or a
// located error, never an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "compiled_pipeline_checks.h"
#include "zflow/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = zflow::spec::LoadPipelineText(text, "fuzz.yaml");
  if (!loaded.ok()) return 0;
  CompileLoadedPipeline(*loaded);
  return 0;
}
