// What the pipeline fuzzers do with a pipeline that loaded: compile it and, when it compiles,
// build its CloudFormation template. Invariant: errors are Statuses, never crashes.
#ifndef ZFLOW_FUZZ_COMPILED_PIPELINE_CHECKS_H_
#define ZFLOW_FUZZ_COMPILED_PIPELINE_CHECKS_H_

#include "zflow/cloud.h"
#include "zflow/spec.h"

inline void CompileLoadedPipeline(const zflow::spec::LoadedPipeline& loaded) {
  auto compiled = loaded.pipeline().CompileAll();
  if (!compiled.ok()) {
    (void)loaded.Locate(compiled.status().message());
    return;
  }
  for (const std::string& w : compiled->warnings) (void)loaded.Locate(w);
  auto t = zflow::cloud::PipelineTemplate(loaded.pipeline(), compiled->definition);
  if (t.ok()) (void)zflow::cloud::ToYaml(*t);
}

#endif  // ZFLOW_FUZZ_COMPILED_PIPELINE_CHECKS_H_
