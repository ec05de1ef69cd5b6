// The pipeline compiler: checks a Pipeline and emits its ASL definition.
//
// Emission works on fragments: each step becomes one or more states with one entry and a list of
// exits (the fields that must point at whatever runs next: a "Next", a Choice rule's "Next", a
// Choice "Default", a Catcher's "Next"). A sequence links each fragment's exits to the next
// entry; a chain's end turns plain "Next" exits into "End" and routes the others to a join Pass.
#ifndef ZFLOW_PIPELINE_COMPILER_H_
#define ZFLOW_PIPELINE_COMPILER_H_

#include <set>
#include <string>
#include <variant>
#include <vector>

#include "pipeline/schedule.h"
#include "zflow/pipeline.h"

namespace zflow {

struct Pipeline::Step {
  std::variant<LambdaFunction, TrainingJob, ProcessingJob, BatchTransformJob,
               HyperparameterTuningJob, Model, EndpointDeployment, DatabricksJob, WaitStep,
               PassStep, FailStep, RawState, ForEach>
      spec;
  std::vector<int> after;
  std::optional<RetryPolicy> retry;
  std::optional<int> timeout_seconds;
  std::optional<Condition> when;
  std::optional<std::vector<std::string>> continue_on_failure;
  std::vector<std::string> errors;  // found while building (e.g. After() across pipelines)

  const std::string& name() const;
};

namespace pipeline {

// "a string", "a number", "a boolean", "a value": for messages.
const char* TypeWord(ValueType type);

// Text inside an intrinsic's '...' literal: ' { } and backslash escaped, except "${Name}"
// placeholders of externals, which stay as written so that CloudFormation substitutes them.
std::string EscapeIntrinsicText(std::string_view s);

// "$.steps['train']" / "$.params['day']".
std::string StepResultPath(std::string_view step);
std::string ParameterPath(std::string_view name);

// Longest step name: 80 (the ASL limit) minus the longest suffix of generated state names.
inline constexpr std::size_t kMaxStepName = 60;

// Whether the step stores a result in $.steps (not Wait or Fail; a raw state only with that
// ResultPath).
bool HasResult(const Pipeline::Step& step);

struct Exit {
  std::string state;
  enum class Kind : std::uint8_t { kNext, kChoiceRule, kDefault, kCatch } kind = Kind::kNext;
  int index = 0;  // kChoiceRule / kCatch
};

struct Fragment {
  std::string entry;
  std::vector<Exit> exits;  // empty: the fragment ends the execution (a Fail)
};

class Compiler {
 public:
  Compiler(const Pipeline& pipeline, asl::QueryLanguage language)
      : pipeline_(pipeline), language_(language) {}
  Result<json::value> Compile();
  // After Compile(): see Pipeline::Compiled::warnings.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Scope {
    const Pipeline* pipeline;
    bool root;  // the top level (not inside a branch or a ForEach body)
  };

  // Constructs named as the pipeline's language names them (messages).
  enum Construct { kWhen, kTimeout };
  const char* Word(Construct c) const;
  std::string AfterHint(std::string_view producer) const;

  Status CheckNames(const Pipeline& p, bool body);
  Status CheckSteps(const Pipeline& p, const Schedule& schedule);
  Result<Schedule> ScheduleOf(const Pipeline& p);

  // Emission (compiler.cc: structure; steps.cc: step kinds).
  Fragment EmitNode(const ScheduleNode& node, const Scope& scope, json::object& states,
                    std::vector<int>& done);
  Fragment EmitChain(const std::vector<Fragment>& parts, json::object& states);
  void Close(Fragment& f, json::object& states, const std::string& join_name);
  void Link(const Fragment& from, const std::string& to, json::object& states);
  Fragment EmitStep(const Pipeline::Step& step, const Scope& scope, json::object& states);
  Fragment EmitStepBody(const Pipeline::Step& step, const Scope& scope, json::object& states);

  // One Task state with the pipeline's conventions: ResultPath, timeout, retry, catchers.
  json::object TaskState(const Pipeline::Step& step, const Scope& scope, std::string resource,
                         json::object parameters, json::value result_selector);
  // Adds the step's catchers to a Task/Parallel/Map state; returns the exits they create.
  void AddCatchers(const Pipeline::Step& step, const Scope& scope, const std::string& state,
                   json::object& s, std::vector<Exit>& exits);
  // A failure route: a Fail state, or at the top level with an on_failure handler, a Pass that
  // records the error and goes to the handler.
  void FailState(const Scope& scope, const std::string& name, std::string error,
                 json::value cause_or_path, bool cause_is_path, json::object& states);

  // Field helpers: put a value under `key` (literal or "key.$"), checking its type.
  void Put(json::object& o, std::string_view key, const Value& v, ValueType type,
           const Pipeline::Step& step, std::string_view field);
  void PutArray(json::object& o, std::string_view key, const std::vector<StringValue>& values,
                const Pipeline::Step& step, std::string_view field);
  void Require(const Value& v, const Pipeline::Step& step, std::string_view field);
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  const Pipeline& pipeline_;
  asl::QueryLanguage language_;
  std::set<std::string> names_;  // every state name, machine-wide
  int parallel_count_ = 0;
  std::string handler_;  // the on_failure handler's state name, if any
  std::string error_;    // the first error found while emitting
  std::vector<std::string> warnings_;
  std::vector<std::pair<const Pipeline*, Schedule>> schedules_;
};

}  // namespace pipeline
}  // namespace zflow

#endif  // ZFLOW_PIPELINE_COMPILER_H_
