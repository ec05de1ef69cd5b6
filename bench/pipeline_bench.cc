// Compiles a large pipeline (stages x width Lambda steps, every step of a stage after the whole
// previous stage, each reading a result of the previous stage) to ASL + CloudFormation (JSON and
// YAML), and prints one JSON line with the times. bench/compile_vs_cdk.sh runs it next to AWS
// CDK synthesising the same state machine.
//
//   build/bench/pipeline_bench --stages 1000 --width 5 --repeat 3
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "zflow/asl_serializer.h"
#include "zflow/cloud.h"
#include "zflow/pipeline.h"

namespace {

struct Sizes {
  std::size_t definition = 0;
  std::size_t template_json = 0;
  std::size_t template_yaml = 0;
};

// Builds and compiles the pipeline; what `compile` does minus writing files.
Sizes CompileOnce(int stages, int width) {
  zflow::Pipeline p("bench", {.default_retry = zflow::RetryPolicy{
                                  .errors = {"Lambda.TooManyRequestsException"},
                                  .interval_seconds = 2,
                                  .max_attempts = 3},
                              .default_timeout_seconds = 3600,
                              .schedule = "cron(0 6 * * ? *)"});
  std::vector<zflow::StepRef> previous;
  for (int k = 0; k < stages; ++k) {
    std::vector<zflow::StepRef> current;
    for (int i = 0; i < width; ++i) {
      zflow::Value input = previous.empty()
                               ? zflow::Value::Expression("$.params", zflow::ValueType::kAny)
                               : previous[static_cast<std::size_t>(i)].Output("Payload");
      auto step = p.Add(zflow::LambdaFunction{.name = fmt::format("s{}-{}", k, i),
                                              .function_name = fmt::format("fn-{}", i),
                                              .payload = {{"stage", k}, {"input", input}}});
      for (const auto& prev : previous) step.After(prev);
      current.push_back(step);
    }
    previous = std::move(current);
  }
  // 5,000 steps are over AWS's 1 MiB definition quota (zflow compile refuses them); the
  // benchmark lifts the quota and measures everything else compile does.
  auto compiled = p.CompileAll({.max_definition_bytes = std::size_t{256} << 20});
  if (!compiled.ok()) {
    std::fprintf(stderr, "compile failed: %s\n", compiled.status().message().c_str());
    std::exit(1);
  }
  Sizes s;
  // What compile writes (the formatted ASL file); its compact size (what AWS receives) is
  // reported, as CDK's is.
  (void)zflow::asl::SerializeStateMachine(compiled->machine);
  s.definition = zflow::ToJsonText(compiled->definition).size();
  auto t = zflow::cloud::PipelineTemplate(p, compiled->definition);
  if (!t.ok()) {
    std::fprintf(stderr, "template failed: %s\n", t.status().message().c_str());
    std::exit(1);
  }
  s.template_json = zflow::ToJsonText(*t).size();
  s.template_yaml = zflow::cloud::ToYaml(*t).size();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  int stages = 1000;
  int width = 5;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--stages") == 0) stages = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--width") == 0) width = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::atoi(argv[i + 1]);
  }
  std::vector<double> times;
  Sizes sizes;
  for (int r = 0; r < std::max(1, repeat); ++r) {
    auto start = std::chrono::steady_clock::now();
    sizes = CompileOnce(stages, width);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "{\"tool\":\"zflow\",\"steps\":%d,\"best_seconds\":%.6f,\"median_seconds\":%.6f,"
      "\"definition_bytes\":%zu,\"template_bytes\":%zu,\"template_yaml_bytes\":%zu,"
      "\"peak_rss_mb\":%.1f}\n",
      stages * width, times.front(), times[times.size() / 2], sizes.definition,
      sizes.template_json, sizes.template_yaml, usage.ru_maxrss / 1024.0);
  return 0;
}
