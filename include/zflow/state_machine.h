// zflow/state_machine.h: the typed model of an Amazon States Language (ASL) state machine.
//
// Every state type and field of ASL is represented, in JSONPath and JSONata mode. Fields whose
// value is free-form JSON in ASL (Parameters, Arguments, Result, Output, Assign, ...) keep the
// JSON value as written; everything else is typed. The model is what the validator checks, the
// engine runs, the compiler produces and the serializer prints:
//
//   zflow::Result<zflow::asl::StateMachine> m = zflow::asl::ParseStateMachine(text);
//   for (const zflow::asl::State& s : m->states()) std::cout << s.name << "\n";
//
// A model obtained from ParseStateMachine may still be invalid (unknown Next targets, ...); run
// ValidateStateMachine (zflow/validator.h) before executing it.
#ifndef ZFLOW_STATE_MACHINE_H_
#define ZFLOW_STATE_MACHINE_H_

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "zflow/boxed.h"
#include "zflow/json.h"

namespace zflow::asl {

enum class QueryLanguage : std::uint8_t { kJsonPath, kJsonata };
enum class StateType : std::uint8_t { kPass, kTask, kChoice, kWait, kSucceed, kFail, kParallel, kMap };
inline constexpr std::size_t kStateTypeCount = 8;
enum class JitterStrategy : std::uint8_t { kNone, kFull };
enum class ProcessorMode : std::uint8_t { kInline, kDistributed };
enum class ExecutionType : std::uint8_t { kStandard, kExpress };

std::string_view QueryLanguageName(QueryLanguage q);  // "JSONPath" / "JSONata"
std::string_view StateTypeName(StateType t);           // "Pass", "Task", ...
std::optional<StateType> StateTypeFromName(std::string_view name);

// A JSONPath-mode path field (InputPath, OutputPath, ResultPath): absent (the default, "$"),
// explicitly null (discard / do not merge), or a path. 16 bytes: the path is kept out of line.
struct PathField {
  enum class Kind : std::uint8_t { kAbsent, kNull, kPath };
  Kind kind = Kind::kAbsent;

  bool present() const { return kind != Kind::kAbsent; }
  // The path when kind is kPath, else empty.
  const std::string& path() const;
  static PathField Null() { return PathField{Kind::kNull, {}}; }
  static PathField Of(std::string p) { return PathField{Kind::kPath, std::move(p)}; }
  friend bool operator==(const PathField&, const PathField&) = default;

  Boxed<std::string> text;  // set when kind is kPath
};

struct Retrier {
  std::vector<std::string> error_equals;
  std::optional<std::int64_t> interval_seconds;   // default 1
  std::optional<std::int64_t> max_attempts;       // default 3; 0 = never retry
  std::optional<double> backoff_rate;             // default 2.0
  std::optional<std::int64_t> max_delay_seconds;  // no default cap
  std::optional<JitterStrategy> jitter_strategy;  // default NONE
  std::optional<std::string> comment;
  friend bool operator==(const Retrier&, const Retrier&) = default;
};

struct Catcher {
  std::vector<std::string> error_equals;
  std::string next;
  PathField result_path;              // JSONPath; default "$"
  std::optional<json::value> assign;  // variables set on catch
  std::optional<json::value> output;  // JSONata
  std::optional<std::string> comment;
  friend bool operator==(const Catcher&, const Catcher&) = default;
};

// Choice rule comparison operators. Each literal operator has a ...Path twin whose operand is a
// reference path; the Is* operators take a boolean.
enum class ComparisonOperator : std::uint8_t {
  kStringEquals, kStringEqualsPath, kStringLessThan, kStringLessThanPath,
  kStringGreaterThan, kStringGreaterThanPath, kStringLessThanEquals, kStringLessThanEqualsPath,
  kStringGreaterThanEquals, kStringGreaterThanEqualsPath, kStringMatches,
  kNumericEquals, kNumericEqualsPath, kNumericLessThan, kNumericLessThanPath,
  kNumericGreaterThan, kNumericGreaterThanPath, kNumericLessThanEquals,
  kNumericLessThanEqualsPath, kNumericGreaterThanEquals, kNumericGreaterThanEqualsPath,
  kBooleanEquals, kBooleanEqualsPath,
  kTimestampEquals, kTimestampEqualsPath, kTimestampLessThan, kTimestampLessThanPath,
  kTimestampGreaterThan, kTimestampGreaterThanPath, kTimestampLessThanEquals,
  kTimestampLessThanEqualsPath, kTimestampGreaterThanEquals, kTimestampGreaterThanEqualsPath,
  kIsNull, kIsPresent, kIsNumeric, kIsString, kIsBoolean, kIsTimestamp,
};

std::string_view ComparisonOperatorName(ComparisonOperator op);
std::optional<ComparisonOperator> ComparisonOperatorFromName(std::string_view name);
// True for the ...Path operators (operand is a reference path).
bool IsPathOperator(ComparisonOperator op);

struct ChoiceRule {
  enum class Kind : std::uint8_t { kComparison, kAnd, kOr, kNot, kCondition };
  Kind kind = Kind::kComparison;
  // kComparison
  std::string variable;
  ComparisonOperator op = ComparisonOperator::kStringEquals;
  json::value operand;
  // kAnd / kOr (any number of children) and kNot (exactly one child)
  std::vector<ChoiceRule> children;
  // kCondition (JSONata): the expression string, "{% ... %}" (or a JSON boolean literal).
  json::value condition;
  // Top-level rules only.
  std::string next;
  std::optional<json::value> assign;
  std::optional<json::value> output;  // JSONata
  std::optional<std::string> comment;
  friend bool operator==(const ChoiceRule&, const ChoiceRule&) = default;
};

struct State;

// A {StartAt, States} graph: the top-level machine, a Parallel branch or a Map item processor.
struct Branch {
  std::string start_at;
  std::vector<State> states;  // in document order
  std::optional<std::string> comment;
  // Map ItemProcessor.ProcessorConfig; absent elsewhere.
  std::optional<ProcessorMode> mode;
  std::optional<ExecutionType> execution_type;
  std::string pointer;  // JSON pointer of this branch object

  // The state named `name`, or null. Linear; callers that look up often build their own index.
  const State* Find(std::string_view name) const;
  friend bool operator==(const Branch&, const Branch&);
};

// The fields of each state type, kept out of line (State::task(), map(), ...), so a state
// carries only its own type's fields.
struct PassFields {
  Boxed<json::value> result;
  friend bool operator==(const PassFields&, const PassFields&) = default;
};

struct TaskFields {
  std::string resource;
  Boxed<json::value> timeout_seconds;    // integer, or a JSONata expression
  Boxed<std::string> timeout_seconds_path;
  Boxed<json::value> heartbeat_seconds;  // integer, or a JSONata expression
  Boxed<std::string> heartbeat_seconds_path;
  Boxed<json::value> credentials;        // {"RoleArn": ...} / {"RoleArn.$": ...}
  friend bool operator==(const TaskFields&, const TaskFields&) = default;
};

struct ChoiceFields {
  std::vector<ChoiceRule> choices;
  std::string default_next;  // "Default"
  friend bool operator==(const ChoiceFields&, const ChoiceFields&) = default;
};

// Exactly one of these is set in a valid Wait state.
struct WaitFields {
  Boxed<json::value> seconds;    // integer, or a JSONata expression
  Boxed<json::value> timestamp;  // RFC 3339 string, or a JSONata expression
  Boxed<std::string> seconds_path;
  Boxed<std::string> timestamp_path;
  friend bool operator==(const WaitFields&, const WaitFields&) = default;
};

struct FailFields {
  Boxed<json::value> error;  // string, or a JSONata expression
  Boxed<json::value> cause;
  Boxed<std::string> error_path;
  Boxed<std::string> cause_path;
  friend bool operator==(const FailFields&, const FailFields&) = default;
};

struct ParallelFields {
  std::vector<Branch> branches;
  friend bool operator==(const ParallelFields&, const ParallelFields&) = default;
};

// A distributed Map's ItemReader, ItemBatcher and ResultWriter, read once by the parser for the
// validator and the engine. MapFields keeps each as written too, for the serializer. A value
// given as a JSONata expression is left out here (it stays in the JSON).
struct ItemReaderSpec {
  std::string resource;  // "" when missing
  Boxed<json::value> parameters;  // Parameters (JSONPath) or Arguments (JSONata)
  // ReaderConfig; "" when not given.
  std::string input_type;           // CSV, JSON, JSONL, MANIFEST, PARQUET
  std::string csv_header_location;  // FIRST_ROW, GIVEN
  std::vector<std::string> csv_headers;
  std::string csv_delimiter;  // COMMA, PIPE, SEMICOLON, SPACE, TAB
  std::optional<std::int64_t> max_items;
  Boxed<std::string> max_items_path;
  friend bool operator==(const ItemReaderSpec&, const ItemReaderSpec&) = default;
};

struct ItemBatcherSpec {
  std::optional<std::int64_t> max_items_per_batch, max_input_bytes_per_batch;
  Boxed<std::string> max_items_per_batch_path, max_input_bytes_per_batch_path;
  Boxed<json::value> batch_input;
  friend bool operator==(const ItemBatcherSpec&, const ItemBatcherSpec&) = default;
};

struct ResultWriterSpec {
  std::string resource;  // "" when missing
  Boxed<json::value> parameters;  // Parameters (JSONPath) or Arguments (JSONata)
  Boxed<json::value> writer_config;
  friend bool operator==(const ResultWriterSpec&, const ResultWriterSpec&) = default;
};

struct MapFields {
  Boxed<Branch> item_processor;
  bool uses_iterator = false;  // written as the legacy "Iterator" (else "ItemProcessor")
  Boxed<std::string> items_path;  // JSONPath
  Boxed<json::value> items;       // JSONata: array or expression
  Boxed<json::value> item_selector;
  Boxed<json::value> item_reader;  // as written; read into `reader`
  Boxed<json::value> item_batcher;  // as written; read into `batcher`
  Boxed<json::value> result_writer;  // as written; read into `writer`
  Boxed<ItemReaderSpec> reader;
  Boxed<ItemBatcherSpec> batcher;
  Boxed<ResultWriterSpec> writer;
  Boxed<json::value> max_concurrency;  // integer, or a JSONata expression
  Boxed<std::string> max_concurrency_path;
  Boxed<json::value> tolerated_failure_count;
  Boxed<std::string> tolerated_failure_count_path;
  Boxed<json::value> tolerated_failure_percentage;
  Boxed<std::string> tolerated_failure_percentage_path;
  Boxed<std::string> label;
  friend bool operator==(const MapFields&, const MapFields&) = default;
};

// One state. The fields every state type may have are members; each type's own fields are
// reached through task(), choice(), wait(), fail(), parallel(), map() and pass(). The const
// accessors return empty fields when the state is of another type; the non-const ones create
// them (the parser's way in).
struct State {
  std::string name;
  std::string next;  // empty when absent
  StateType type = StateType::kPass;
  std::optional<QueryLanguage> query_language;  // state-level override
  bool end = false;              // "End": true
  bool has_retry_field = false;  // "Retry": [] was written (kept for an exact round trip)
  bool has_catch_field = false;
  Boxed<std::string> comment;

  // JSONPath input/output processing.
  PathField input_path;
  PathField output_path;
  PathField result_path;
  Boxed<json::value> parameters;       // Pass, Task, Parallel, Map (legacy item params)
  Boxed<json::value> result_selector;  // Task, Parallel, Map
  // JSONata and shared.
  Boxed<json::value> arguments;  // Task, Parallel (JSONata)
  Boxed<json::value> output;     // JSONata; all but Fail
  Boxed<json::value> assign;     // all but Succeed, Fail

  // Task, Parallel, Map
  std::vector<Retrier> retry;
  std::vector<Catcher> catch_;

  const PassFields& pass() const { return Get<PassFields>(); }
  PassFields& pass() { return Mutable<PassFields>(); }
  const TaskFields& task() const { return Get<TaskFields>(); }
  TaskFields& task() { return Mutable<TaskFields>(); }
  const ChoiceFields& choice() const { return Get<ChoiceFields>(); }
  ChoiceFields& choice() { return Mutable<ChoiceFields>(); }
  const WaitFields& wait() const { return Get<WaitFields>(); }
  WaitFields& wait() { return Mutable<WaitFields>(); }
  const FailFields& fail() const { return Get<FailFields>(); }
  FailFields& fail() { return Mutable<FailFields>(); }
  const ParallelFields& parallel() const { return Get<ParallelFields>(); }
  ParallelFields& parallel() { return Mutable<ParallelFields>(); }
  const MapFields& map() const { return Get<MapFields>(); }
  MapFields& map() { return Mutable<MapFields>(); }

  // The query language in effect for this state, given the enclosing default.
  QueryLanguage EffectiveQueryLanguage(QueryLanguage enclosing) const {
    return query_language.value_or(enclosing);
  }
  bool IsTerminal() const {
    return end || type == StateType::kSucceed || type == StateType::kFail;
  }
  friend bool operator==(const State&, const State&) = default;

 private:
  using Fields = std::variant<std::monostate, PassFields, TaskFields, ChoiceFields, WaitFields,
                              FailFields, ParallelFields, MapFields>;
  template <typename T>
  const T& Get() const {
    static const T kNone{};
    const T* f = fields_ ? std::get_if<T>(fields_.get()) : nullptr;
    return f != nullptr ? *f : kNone;
  }
  template <typename T>
  T& Mutable() {
    if (!fields_) fields_.emplace();
    if (T* f = std::get_if<T>(&*fields_)) return *f;
    // A state's fields are of its own type only; switching would drop what was set.
    assert(std::holds_alternative<std::monostate>(*fields_));
    return fields_->template emplace<T>();
  }

  Boxed<Fields> fields_;
};

static_assert(sizeof(State) <= 256, "a state stays compact; type fields go in its Fields");

class StateMachine {
 public:
  StateMachine() = default;

  const Branch& top() const { return top_; }
  Branch& mutable_top() { return top_; }
  const std::vector<State>& states() const { return top_.states; }
  const std::string& start_at() const { return top_.start_at; }

  std::optional<std::string> comment;
  std::optional<std::string> version;            // "1.0"
  std::optional<std::int64_t> timeout_seconds;   // execution timeout
  std::optional<QueryLanguage> query_language;   // default JSONPath

  QueryLanguage DefaultQueryLanguage() const {
    return query_language.value_or(QueryLanguage::kJsonPath);
  }

  // Where each node came from, when the machine was parsed from text (empty otherwise).
  const SourceMap& source_map() const { return source_map_; }
  void set_source_map(SourceMap map) { source_map_ = std::move(map); }

  // Structural equality; source locations are not compared.
  friend bool operator==(const StateMachine& a, const StateMachine& b) {
    return a.top_ == b.top_ && a.comment == b.comment && a.version == b.version &&
           a.timeout_seconds == b.timeout_seconds && a.query_language == b.query_language;
  }

 private:
  Branch top_;
  SourceMap source_map_;
};

}  // namespace zflow::asl

#endif  // ZFLOW_STATE_MACHINE_H_
