// zflow/main.h: the zflow command line for a pipeline declared in C++.
//
//   int main(int argc, char** argv) {
//     zflow::Pipeline p("fraud-scoring");
//     ...
//     return zflow::Main(argc, argv, p);
//   }
//
//   $ ./fraud_pipeline validate
//   $ ./fraud_pipeline compile -o out/        # out/statemachine.asl.json, out/graph.svg
//   $ ./fraud_pipeline graph --format mermaid
//   $ ./fraud_pipeline run --input '{"day": "2026-11-20"}' --mock-config mocks.json
//         --test-case HappyPath --virtual-clock
//
// `run` runs exactly the compiled state machine that `compile` writes, on zflow's engine, with
// the options of `zflow run`. Returns the process exit code.
#ifndef ZFLOW_MAIN_H_
#define ZFLOW_MAIN_H_

#include "zflow/pipeline.h"

namespace zflow {

int Main(int argc, char** argv, const Pipeline& pipeline);

}  // namespace zflow

#endif  // ZFLOW_MAIN_H_
