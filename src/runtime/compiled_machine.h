// A state machine prepared for execution: paths, templates and intrinsics compiled once,
// transitions resolved to indices, so running a state does no parsing and no name lookups.
#ifndef ZFLOW_RUNTIME_COMPILED_MACHINE_H_
#define ZFLOW_RUNTIME_COMPILED_MACHINE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "asl/choice_evaluator.h"
#include "asl/intrinsics.h"
#include "asl/json_path.h"
#include "asl/jsonata_template.h"
#include "asl/payload_template.h"
#include "asl/timestamp.h"
#include "zflow/boxed.h"
#include "zflow/runtime.h"
#include "zflow/state_machine.h"
#include "zflow/status.h"

namespace zflow::runtime {

// InputPath / OutputPath / ResultPath: default "$", null, or a compiled path.
struct CompiledPath {
  enum class Mode : std::uint8_t { kDefault, kNull, kPath };
  Mode mode = Mode::kDefault;
  std::optional<asl::JsonPath> path;
};

struct ErrorMatcher {
  std::vector<std::string> names;
  bool Matches(const std::string& error) const;
};

struct CompiledRetrier {
  ErrorMatcher errors;
  std::int64_t interval_seconds = 1;
  std::int64_t max_attempts = 3;
  double backoff_rate = 2.0;
  std::optional<std::int64_t> max_delay_seconds;
  bool full_jitter = false;
};

struct CompiledCatcher {
  ErrorMatcher errors;
  int next = -1;
  CompiledPath result_path;
  std::optional<asl::PayloadTemplate> assign;
};

// A Fail state's Error/Cause source: literal, or a path / intrinsic over the state input.
struct CompiledText {
  std::optional<std::string> literal;
  std::optional<asl::JsonPath> path;
  std::optional<asl::IntrinsicCall> call;
  bool present() const { return literal || path || call; }
};

struct CompiledBranch;

struct CompiledChoice {
  const asl::ChoiceRule* rule = nullptr;
  int next = -1;
  std::optional<asl::PayloadTemplate> assign;
};

// A distributed Map's ItemReader: where the items come from.
struct CompiledReader {
  std::string resource;  // arn:aws:states:::s3:getObject or :::s3:listObjectsV2
  std::optional<asl::PayloadTemplate> parameters;  // Bucket, Key / Prefix
  std::string input_type;                          // getObject: JSON, JSONL, CSV
  bool csv_header_first_row = true;                // CSVHeaderLocation FIRST_ROW (else GIVEN)
  std::vector<std::string> csv_headers;
  char csv_delimiter = ',';
  std::optional<std::int64_t> max_items;
  std::optional<asl::JsonPath> max_items_path;
  // JSONata states: Arguments, and ReaderConfig.MaxItems written as an expression.
  std::optional<asl::JsonataTemplate> arguments, max_items_expr;
};

// ItemBatcher: iterations get {"Items": [...], "BatchInput": ...}.
struct CompiledBatcher {
  std::optional<std::int64_t> max_items, max_bytes;
  std::optional<asl::JsonPath> max_items_path, max_bytes_path;
  std::optional<asl::PayloadTemplate> batch_input;
  // JSONata states.
  std::optional<asl::JsonataTemplate> max_items_expr, max_bytes_expr, batch_input_expr;
};

// ResultWriter: the results go to objects, the Map's output says where.
struct CompiledWriter {
  std::optional<asl::PayloadTemplate> parameters;  // Bucket, Prefix
  std::optional<asl::JsonataTemplate> arguments;   // the same, in a JSONata state
};

// The fields of one state type, kept out of line: a state of another type carries 8 bytes for
// them (a 10,000-state machine's states are allocated and zeroed when it is compiled).
struct CompiledTaskTiming {
  std::optional<std::int64_t> timeout_seconds, heartbeat_seconds;
  std::optional<asl::JsonPath> timeout_seconds_path, heartbeat_seconds_path;
};
struct CompiledWait {
  std::optional<std::int64_t> seconds;
  std::optional<asl::Instant> timestamp;
  std::optional<asl::JsonPath> seconds_path, timestamp_path;
};
struct CompiledFail {
  CompiledText error, cause;
};
struct CompiledMapLimits {
  std::optional<asl::JsonPath> items_path;
  std::int64_t max_concurrency = 0;  // 0 = unlimited
  std::optional<asl::JsonPath> max_concurrency_path;
  std::optional<std::int64_t> tolerated_failure_count;
  std::optional<double> tolerated_failure_percentage;
  std::optional<asl::JsonPath> tolerated_failure_count_path, tolerated_failure_percentage_path;
};

// A JSONata state's expressions: every field that may hold "{% %}", compiled once. Literal
// numbers (TimeoutSeconds: 30, Seconds: 5, ...) stay in the JSONPath structures above.
struct CompiledJsonata {
  std::optional<asl::JsonataTemplate> arguments, output, assign;
  std::optional<asl::JsonataTemplate> timeout_seconds, heartbeat_seconds;  // Task
  std::optional<asl::JsonataTemplate> seconds, timestamp;                  // Wait
  std::optional<asl::JsonataTemplate> error, cause;                        // Fail
  std::optional<asl::JsonataTemplate> items, item_selector, max_concurrency,
      tolerated_failure_count, tolerated_failure_percentage;               // Map
  struct Rule {
    asl::JsonataTemplate condition;
    std::optional<asl::JsonataTemplate> output, assign;
  };
  std::vector<Rule> rules;  // Choice, in order
  struct Catch {
    std::optional<asl::JsonataTemplate> output, assign;
  };
  std::vector<Catch> catchers;  // in Catch order
  bool reads_context = false;   // some expression reads $states.context
};

struct CompiledState {
  const asl::State* source = nullptr;
  asl::StateType type = asl::StateType::kPass;
  std::string name;
  EventType entered_event_type = EventType::kPassStateEntered;
  EventType exited_event_type = EventType::kPassStateExited;
  int next = -1;  // -1 with end == true
  bool end = false;
  bool uses_context = false;  // some field reads "$$"

  CompiledPath input_path, output_path, result_path;
  std::optional<asl::PayloadTemplate> parameters, result_selector, item_selector, assign;
  Boxed<json::value> result;  // Pass

  // Task
  Boxed<CompiledTaskTiming> timing;  // set for every Task
  std::vector<CompiledRetrier> retriers;
  std::vector<CompiledCatcher> catchers;

  // Choice
  std::vector<CompiledChoice> choices;
  int default_next = -1;
  Boxed<asl::ChoicePaths> choice_paths;  // the rules' paths, compiled; set for every Choice

  Boxed<CompiledWait> wait;  // set for every Wait
  Boxed<CompiledFail> fail;  // set for every Fail

  // Parallel / Map
  std::vector<std::unique_ptr<CompiledBranch>> branches;
  std::unique_ptr<CompiledBranch> processor;
  bool distributed = false;  // DISTRIBUTED Map (child executions on AWS)
  Boxed<CompiledMapLimits> map_limits;  // set for every Map
  Boxed<CompiledReader> item_reader;
  Boxed<CompiledBatcher> item_batcher;
  Boxed<CompiledWriter> result_writer;

  Boxed<CompiledJsonata> jsonata;  // set for JSONata states
};

struct CompiledBranch {
  std::vector<CompiledState> states;
  int start = 0;
};

struct CompiledMachine {
  CompiledBranch top;
  std::optional<std::int64_t> timeout_seconds;
  bool uses_context = false;  // some state, at any depth, reads "$$"
};

// Compiles a validated machine. Errors (kInvalidArgument) only for a model that skipped
// validation, kUnimplemented for resources this engine does not run.
// `paths`, when given, holds the paths the validator compiled (ValidationReport::compiled_paths).
Result<std::unique_ptr<CompiledMachine>> CompileMachine(const asl::StateMachine& machine,
                                                       asl::JsonPathCache* paths = nullptr);

}  // namespace zflow::runtime

#endif  // ZFLOW_RUNTIME_COMPILED_MACHINE_H_
