// Builds large, valid state machine definitions for benchmarks.
#ifndef ZFLOW_BENCH_DEFINITION_GENERATOR_H_
#define ZFLOW_BENCH_DEFINITION_GENERATOR_H_

#include <string>

#include <fmt/format.h>

namespace zflow::bench {

// A chain of SageMaker/Lambda-style Task states with Parameters, ResultSelector, Retry and
// Catch, a Choice every 10 states, until the text is at least `target_bytes` long.
inline std::string MakeDefinition(std::size_t target_bytes) {
  std::string states;
  int i = 0;
  while (states.size() < target_bytes) {
    if (i % 10 == 9) {
      states += fmt::format(
          R"("S{0}": {{"Type": "Choice", "Choices": [{{"And": [{{"Variable": "$.r{0}.score", )"
          R"("NumericGreaterThan": 0.5}}, {{"Variable": "$.r{0}.label", "StringMatches": "ok*"}}], )"
          R"("Next": "S{1}"}}], "Default": "Failed"}},)"
          "\n",
          i, i + 1);
    } else {
      states += fmt::format(
          R"("S{0}": {{"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", )"
          R"("Parameters": {{"FunctionName": "step-{0}", "Payload": {{"input.$": "$", )"
          R"j("name.$": "States.Format('job-{{}}-{0}', $$.Execution.Name)", "n": {0}}}}}, )j"
          R"("ResultSelector": {{"score.$": "$.Payload.score", "label.$": "$.Payload.label"}}, )"
          R"("ResultPath": "$.r{0}", "Retry": [{{"ErrorEquals": ["States.TaskFailed"], )"
          R"("IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}}], )"
          R"("Catch": [{{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", )"
          R"("Next": "Failed"}}], "Next": "S{1}"}},)"
          "\n",
          i, i + 1);
    }
    ++i;
  }
  return fmt::format(
      "{{\"Comment\": \"benchmark\", \"StartAt\": \"S0\", \"States\": {{\n{}\"S{}\": "
      "{{\"Type\": \"Succeed\"}}, \"Failed\": {{\"Type\": \"Fail\", \"Error\": \"E\"}}}}}}",
      states, i);
}

}  // namespace zflow::bench

#endif  // ZFLOW_BENCH_DEFINITION_GENERATOR_H_
