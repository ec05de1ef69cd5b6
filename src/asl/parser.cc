// Builds the typed model from JSON and reports structural problems. Semantic rules (targets,
// reachability, path syntax, quotas) live in validator.cc.
#include "zflow/asl_parser.h"

#include <algorithm>
#include <array>
#include <deque>
#include <limits>

#include <boost/json/monotonic_resource.hpp>
#include <fmt/format.h>

#include "asl/diagnostic_sink.h"
#include "asl/field_table.h"
#include "asl/suggestion.h"

namespace zflow::asl {
namespace {

std::string JsonKindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64: return "an integer";
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "a value";
}

bool IsJsonataExpression(const json::value& v) {
  if (!v.is_string()) return false;
  std::string_view s = v.get_string();
  return s.size() >= 4 && s.substr(0, 2) == "{%" && s.substr(s.size() - 2) == "%}";
}

class Builder {
 public:
  explicit Builder(DiagnosticSink& sink) : sink_(sink) {}

  // A copy of `v` for the model, in the default memory resource: the document being read may
  // live in a parse-time arena that is gone when the model is used.
  static json::value Own(const json::value& v) { return json::value(v, json::storage_ptr()); }

  void BuildMachine(const json::object& obj, StateMachine& m) {
    for (const auto& [key, value] : obj) {
      std::string ptr = JsonPointerAppend("", key);
      if (key == "StartAt" || key == "States") continue;
      if (key == "Comment") {
        m.comment = String(value, ptr);
      } else if (key == "Version") {
        m.version = String(value, ptr);
        if (m.version && *m.version != "1.0") {
          sink_.Error(diag::kInvalidValue, ptr,
                      fmt::format("Version \"{}\" is not supported; use \"1.0\"", *m.version));
        }
      } else if (key == "TimeoutSeconds") {
        m.timeout_seconds = PositiveInteger(value, ptr, "TimeoutSeconds");
      } else if (key == "QueryLanguage") {
        m.query_language = Language(value, ptr);
      } else {
        UnknownField(key, ptr, {"StartAt", "States", "Comment", "Version", "TimeoutSeconds",
                                "QueryLanguage"},
                     "the top level of a state machine");
      }
    }
    machine_lang_ = m.query_language.value_or(QueryLanguage::kJsonPath);
    BuildBranchBody(obj, "", m.mutable_top(), machine_lang_, "the state machine");
  }

 private:
  // StartAt + States of a machine, branch or item processor.
  void BuildBranchBody(const json::object& obj, const std::string& ptr, Branch& b,
                       QueryLanguage lang, std::string_view what) {
    b.pointer = ptr;
    if (const json::value* v = obj.if_contains("StartAt")) {
      if (auto s = StateName(*v, JsonPointerAppend(ptr, "StartAt"))) b.start_at = *s;
    } else {
      sink_.Error(diag::kMissingField, ptr,
                  fmt::format("{} has no \"StartAt\"; add \"StartAt\": \"<first state name>\"",
                              what));
    }
    const json::value* states = obj.if_contains("States");
    if (states == nullptr) {
      sink_.Error(diag::kMissingField, ptr,
                  fmt::format("{} has no \"States\"; add an object of named states", what));
      return;
    }
    std::string states_ptr = JsonPointerAppend(ptr, "States");
    if (!states->is_object()) {
      sink_.Error(diag::kType, states_ptr,
                  fmt::format("\"States\" must be an object of named states, not {}",
                              JsonKindName(*states)));
      return;
    }
    if (states->get_object().empty()) {
      sink_.Error(diag::kInvalidValue, states_ptr,
                  "\"States\" is empty; a state machine needs at least one state");
    }
    b.states.reserve(states->get_object().size());
    std::string at;  // each state's pointer, in one buffer reused across the states
    at.reserve(states_ptr.size() + 64);
    for (const auto& [name, state_value] : states->get_object()) {
      State s;
      s.name = std::string(name);
      at.assign(states_ptr);
      AppendJsonPointerToken(at, name);
      if (!state_value.is_object()) {
        sink_.Error(diag::kType, at,
                    fmt::format("state \"{}\" must be an object, not {}", s.name,
                                JsonKindName(state_value)));
        continue;
      }
      BuildState(state_value.get_object(), at, s, lang);
      b.states.push_back(std::move(s));
    }
  }

  // `at`: the state's JSON pointer.
  void BuildState(const json::object& obj, const std::string& at, State& s,
                  QueryLanguage enclosing) {
    const json::value* type_value = obj.if_contains("Type");
    if (type_value == nullptr) {
      sink_.Error(diag::kMissingField, at,
                  fmt::format("state \"{}\" has no \"Type\"; add one of Pass, Task, Choice, Wait, "
                              "Succeed, Fail, Parallel, Map",
                              s.name));
      return;
    }
    auto type_name = type_value->is_string() ? std::optional<std::string>(type_value->get_string())
                                             : String(*type_value, JsonPointerAppend(at, "Type"));
    if (!type_name) return;
    auto type = StateTypeFromName(*type_name);
    if (!type) {
      sink_.Error(diag::kInvalidValue, JsonPointerAppend(at, "Type"),
                  fmt::format("state \"{}\" has unknown Type \"{}\"; use one of Pass, Task, "
                              "Choice, Wait, Succeed, Fail, Parallel, Map",
                              s.name, *type_name));
      return;
    }
    s.type = *type;
    if (const json::value* q = obj.if_contains("QueryLanguage")) {
      s.query_language = Language(*q, JsonPointerAppend(at, "QueryLanguage"));
    }
    QueryLanguage lang = s.EffectiveQueryLanguage(enclosing);
    if (enclosing == QueryLanguage::kJsonata && lang == QueryLanguage::kJsonPath &&
        s.query_language) {
      sink_.Error(diag::kInvalidValue, JsonPointerAppend(at, "QueryLanguage"),
                  fmt::format("state \"{}\" sets QueryLanguage JSONPath inside a JSONata state "
                              "machine; a JSONata machine cannot contain JSONPath states",
                              s.name));
    }

    // Each field's pointer, in a buffer reused across the states at this depth (nested
    // branches, built from SetField, use the next one).
    if (field_pointers_.size() <= depth_) field_pointers_.emplace_back();
    std::string& ptr = field_pointers_[depth_];
    ++depth_;
    for (const auto& [key, value] : obj) {
      if (key == "Type" || key == "QueryLanguage") continue;
      ptr.assign(at);
      AppendJsonPointerToken(ptr, key);
      const FieldSpec* spec = FindStateField(key);
      if (spec == nullptr) {
        UnknownField(key, ptr, AllowedFieldNames(s.type, lang),
                     fmt::format("a {} state", StateTypeName(s.type)));
        continue;
      }
      if (!spec->AllowedOn(s.type)) {
        sink_.Error(diag::kFieldNotAllowed, ptr,
                    fmt::format("\"{}\" is not allowed in a {} state{}", key,
                                StateTypeName(s.type), NotAllowedHint(key, s.type)));
        continue;
      }
      if (!spec->AllowedIn(lang)) {
        sink_.Error(diag::kFieldNotAllowed, ptr, LanguageHint(key, lang, s.type));
        continue;
      }
      SetField(*spec, value, ptr, s, lang);
    }
    --depth_;
    CheckRequiredAndExclusive(obj, at, s, lang);
  }

  static std::string NotAllowedHint(std::string_view key, StateType type) {
    if (key == "Retry" || key == "Catch") return "; only Task, Parallel and Map states have it";
    if (key == "Next" || key == "End") {
      if (type == StateType::kChoice) return "; a Choice state transitions through its Choices "
                                             "and Default";
      return "; Succeed and Fail states end the execution";
    }
    return "";
  }

  static std::string LanguageHint(std::string_view key, QueryLanguage lang,
                                  StateType type = StateType::kTask) {
    if (lang == QueryLanguage::kJsonata) {
      std::string_view instead;
      if (key == "InputPath") {
        instead = "$states.input in Arguments or Output";
      } else if (key == "Parameters") {
        instead = type == StateType::kMap ? "ItemSelector" : "Arguments";
      } else if (key == "ResultSelector" || key == "OutputPath" || key == "Result") {
        instead = "Output";
      } else if (key == "ResultPath") {
        instead = "Output or Assign";
      } else if (key == "ItemsPath") {
        instead = "Items";
      } else if (key.size() > 4 && key.ends_with("Path")) {
        // TimeoutSecondsPath -> TimeoutSeconds with an expression, and so on.
        return fmt::format("\"{}\" is a JSONPath field and this state uses JSONata; use \"{}\" "
                           "with a {{% %}} expression instead",
                           key, key.substr(0, key.size() - 4));
      } else {
        instead = "Arguments and Output";
      }
      return fmt::format("\"{}\" is a JSONPath field and this state uses JSONata; use {} instead",
                         key, instead);
    }
    return fmt::format("\"{}\" is a JSONata field and this state uses JSONPath; set "
                       "\"QueryLanguage\": \"JSONata\" to use it",
                       key);
  }

  // Reads one field the table allows here: by its shape, or by its own rules below.
  void SetField(const FieldSpec& spec, const json::value& v, const std::string& ptr, State& s,
                QueryLanguage lang) {
    bool ja = lang == QueryLanguage::kJsonata;
    switch (spec.shape) {
      case FieldShape::kText:
      case FieldShape::kReferencePath:
      case FieldShape::kPathOrIntrinsic:
        *spec.slot(s).text = String(v, ptr);
        return;
      case FieldShape::kIoPath:
        *spec.slot(s).path = Path(v, ptr);
        return;
      case FieldShape::kCount:
        *spec.slot(s).json = IntegerOrExpression(v, ptr, spec.name, ja, spec.min);
        return;
      default:
        break;
    }
    std::string_view key = spec.name;
    if (key == "Next") {
      if (auto n = StateName(v, ptr)) s.next = *n;
    } else if (key == "End") {
      if (!v.is_bool()) {
        sink_.Error(diag::kType, ptr, fmt::format("\"End\" must be true, not {}", JsonKindName(v)));
      } else if (!v.get_bool()) {
        sink_.Error(diag::kInvalidValue, ptr,
                    "\"End\": false is not allowed; remove it and set \"Next\", or use "
                    "\"End\": true");
      } else {
        s.end = true;
      }
    } else if (key == "Parameters") {
      s.parameters = Payload(v, ptr, "Parameters");
    } else if (key == "ResultSelector") {
      s.result_selector = Payload(v, ptr, "ResultSelector");
    } else if (key == "Arguments") {
      if (!v.is_object() && !IsJsonataExpression(v)) {
        sink_.Error(diag::kType, ptr,
                    fmt::format("\"Arguments\" must be an object or a {{% %}} expression, not {}",
                                JsonKindName(v)));
      } else {
        s.arguments = Own(v);
      }
    } else if (key == "Output") {
      s.output = Own(v);
    } else if (key == "Assign") {
      if (!v.is_object()) {
        sink_.Error(diag::kType, ptr,
                    fmt::format("\"Assign\" must be an object of variable names to values, not {}",
                                JsonKindName(v)));
      } else {
        s.assign = Own(v);
      }
    } else if (key == "Result") {
      s.pass().result = Own(v);
    } else if (key == "Resource") {
      if (auto r = String(v, ptr)) s.task().resource = *r;
    } else if (key == "Credentials") {
      if (!v.is_object()) {
        sink_.Error(diag::kType, ptr,
                    fmt::format("\"Credentials\" must be an object with \"RoleArn\", not {}",
                                JsonKindName(v)));
      } else {
        // The role the task assumes is what Credentials are for: AWS refuses them without it.
        if (!v.get_object().contains("RoleArn") && !v.get_object().contains("RoleArn.$")) {
          sink_.Error(diag::kMissingField, ptr,
                      "\"Credentials\" needs \"RoleArn\" (or \"RoleArn.$\" with a path): the "
                      "IAM role the task assumes");
        }
        s.task().credentials = Own(v);
      }
    } else if (key == "Retry") {
      s.has_retry_field = true;
      if (auto* arr = Array(v, ptr)) {
        for (std::size_t i = 0; i < arr->size(); ++i) {
          s.retry.push_back(BuildRetrier((*arr)[i], JsonPointerAppend(ptr, i)));
        }
      }
    } else if (key == "Catch") {
      s.has_catch_field = true;
      if (auto* arr = Array(v, ptr)) {
        for (std::size_t i = 0; i < arr->size(); ++i) {
          s.catch_.push_back(BuildCatcher((*arr)[i], JsonPointerAppend(ptr, i), lang));
        }
      }
    } else if (key == "Choices") {
      if (auto* arr = Array(v, ptr)) {
        if (arr->empty()) {
          sink_.Error(diag::kInvalidValue, ptr,
                      "\"Choices\" is empty; a Choice state needs at least one rule");
        }
        for (std::size_t i = 0; i < arr->size(); ++i) {
          s.choice().choices.push_back(BuildChoiceRule((*arr)[i], JsonPointerAppend(ptr, i), lang, true));
        }
      }
    } else if (key == "Default") {
      if (auto d = StateName(v, ptr)) s.choice().default_next = *d;
    } else if (key == "Timestamp") {
      if (v.is_string()) {
        s.wait().timestamp = Own(v);
      } else {
        sink_.Error(diag::kType, ptr,
                    fmt::format("\"Timestamp\" must be an RFC 3339 string, not {}",
                                JsonKindName(v)));
      }
    } else if (key == "Error") {
      if (v.is_string()) s.fail().error = Own(v); else TypeError(v, ptr, key, "a string");
    } else if (key == "Cause") {
      if (v.is_string()) s.fail().cause = Own(v); else TypeError(v, ptr, key, "a string");
    } else if (key == "Branches") {
      if (auto* arr = Array(v, ptr)) {
        if (arr->empty()) {
          sink_.Error(diag::kInvalidValue, ptr,
                      "\"Branches\" is empty; a Parallel state needs at least one branch");
        }
        for (std::size_t i = 0; i < arr->size(); ++i) {
          std::string bptr = JsonPointerAppend(ptr, i);
          Branch b;
          if (!(*arr)[i].is_object()) {
            sink_.Error(diag::kType, bptr,
                        fmt::format("a branch must be an object with StartAt and States, not {}",
                                    JsonKindName((*arr)[i])));
            continue;
          }
          // A state without QueryLanguage uses the top-level one, also inside branches.
          BuildInnerBranch((*arr)[i].get_object(), bptr, b, machine_lang_, false);
          s.parallel().branches.push_back(std::move(b));
        }
      }
    } else if (key == "ItemProcessor" || key == "Iterator") {
      if (!v.is_object()) {
        TypeError(v, ptr, key, "an object with StartAt and States");
        return;
      }
      Branch b;
      // The legacy "Iterator" is an ItemProcessor by another name (ProcessorConfig too).
      BuildInnerBranch(v.get_object(), ptr, b, machine_lang_, true,
                       key == "Iterator" ? "an Iterator" : "an ItemProcessor");
      s.map().item_processor = std::move(b);
      s.map().uses_iterator = key == "Iterator";
    } else if (key == "Items") {
      if (IsMalformedExpression(v)) {
        MalformedExpression(ptr);
      } else if (!v.is_array() && !IsJsonataExpression(v)) {
        TypeError(v, ptr, key, "an array or a {% %} expression");
      } else {
        s.map().items = Own(v);
      }
    } else if (key == "ItemSelector") {
      if (ja && IsJsonataExpression(v)) {
        s.map().item_selector = Own(v);
      } else {
        s.map().item_selector = Payload(v, ptr, "ItemSelector");
      }
    } else if (key == "ItemReader") {
      s.map().item_reader = ObjectField(v, ptr, key, {"Resource", "ReaderConfig", "Parameters",
                                                "Arguments"});
      if (s.map().item_reader) {
        CheckItemReader(s.map().item_reader->get_object(), ptr, lang);
        s.map().reader = ReadItemReader(s.map().item_reader->get_object());
      }
    } else if (key == "ItemBatcher") {
      s.map().item_batcher = ObjectField(v, ptr, key, {"MaxItemsPerBatch", "MaxItemsPerBatchPath",
                                                 "MaxInputBytesPerBatch",
                                                 "MaxInputBytesPerBatchPath", "BatchInput"});
      if (s.map().item_batcher) {
        for (std::string_view f : {"MaxItemsPerBatch", "MaxInputBytesPerBatch"}) {
          if (const json::value* n = s.map().item_batcher->get_object().if_contains(f)) {
            IntegerOrExpression(*n, JsonPointerAppend(ptr, f), f, ja, 1);
          }
        }
        s.map().batcher = ReadItemBatcher(s.map().item_batcher->get_object());
      }
    } else if (key == "ResultWriter") {
      s.map().result_writer = ObjectField(v, ptr, key, {"Resource", "Parameters", "Arguments",
                                                  "WriterConfig"});
      if (s.map().result_writer) {
        s.map().writer = ReadResultWriter(s.map().result_writer->get_object());
      }
    } else if (key == "ToleratedFailurePercentage") {
      if (IsJsonataExpression(v) && ja) {
        s.map().tolerated_failure_percentage = Own(v);
      } else if (!v.is_number()) {
        TypeError(v, ptr, key, "a number from 0 to 100");
      } else {
        double p = v.to_number<double>();
        if (p < 0 || p > 100) {
          sink_.Error(diag::kInvalidValue, ptr,
                      fmt::format("\"ToleratedFailurePercentage\" is {}; use 0 to 100", p));
        }
        s.map().tolerated_failure_percentage = Own(v);
      }
    }
  }

  void BuildInnerBranch(const json::object& obj, const std::string& ptr, Branch& b,
                        QueryLanguage lang, bool is_item_processor,
                        std::string_view what = "a Parallel branch") {
    for (const auto& [key, value] : obj) {
      std::string kptr = JsonPointerAppend(ptr, key);
      if (key == "StartAt" || key == "States") continue;
      if (key == "Comment") {
        b.comment = String(value, kptr);
      } else if (key == "ProcessorConfig" && is_item_processor) {
        BuildProcessorConfig(value, kptr, b);
      } else {
        std::vector<std::string_view> allowed = {"StartAt", "States", "Comment"};
        if (is_item_processor) allowed.push_back("ProcessorConfig");
        UnknownField(key, kptr, allowed, what);
      }
    }
    BuildBranchBody(obj, ptr, b, lang,
                    !is_item_processor              ? "the branch"
                    : what == std::string_view("an Iterator") ? "the Iterator"
                                                              : "the ItemProcessor");
  }

  void BuildProcessorConfig(const json::value& v, const std::string& ptr, Branch& b) {
    if (!v.is_object()) {
      TypeError(v, ptr, "ProcessorConfig", "an object");
      return;
    }
    for (const auto& [key, value] : v.get_object()) {
      std::string kptr = JsonPointerAppend(ptr, key);
      if (key == "Mode") {
        auto m = String(value, kptr);
        if (!m) continue;
        if (*m == "INLINE") {
          b.mode = ProcessorMode::kInline;
        } else if (*m == "DISTRIBUTED") {
          b.mode = ProcessorMode::kDistributed;
        } else {
          sink_.Error(diag::kInvalidValue, kptr,
                      fmt::format("Mode \"{}\" is not valid; use INLINE or DISTRIBUTED", *m));
        }
      } else if (key == "ExecutionType") {
        auto e = String(value, kptr);
        if (!e) continue;
        if (*e == "STANDARD") {
          b.execution_type = ExecutionType::kStandard;
        } else if (*e == "EXPRESS") {
          b.execution_type = ExecutionType::kExpress;
        } else {
          sink_.Error(diag::kInvalidValue, kptr,
                      fmt::format("ExecutionType \"{}\" is not valid; use STANDARD or EXPRESS",
                                  *e));
        }
      } else {
        UnknownField(key, kptr, {"Mode", "ExecutionType"}, "ProcessorConfig");
      }
    }
  }

  Retrier BuildRetrier(const json::value& v, const std::string& ptr) {
    Retrier r;
    if (!v.is_object()) {
      TypeError(v, ptr, "a retrier", "an object with ErrorEquals");
      return r;
    }
    const json::object& obj = v.get_object();
    if (!obj.contains("ErrorEquals")) {
      sink_.Error(diag::kMissingField, ptr,
                  "this retrier has no \"ErrorEquals\"; list the error names it retries");
    }
    for (const auto& [key, value] : obj) {
      std::string kptr = JsonPointerAppend(ptr, key);
      if (key == "ErrorEquals") {
        r.error_equals = ErrorNames(value, kptr);
      } else if (key == "IntervalSeconds") {
        r.interval_seconds = PositiveInteger(value, kptr, key);
      } else if (key == "MaxAttempts") {
        r.max_attempts = NonNegativeInteger(value, kptr, key);
      } else if (key == "BackoffRate") {
        if (!value.is_number()) {
          TypeError(value, kptr, key, "a number >= 1.0");
        } else {
          r.backoff_rate = value.to_number<double>();
          if (*r.backoff_rate < 1.0) {
            sink_.Error(diag::kInvalidValue, kptr,
                        fmt::format("\"BackoffRate\" is {}; it must be at least 1.0",
                                    *r.backoff_rate));
          }
        }
      } else if (key == "MaxDelaySeconds") {
        r.max_delay_seconds = PositiveInteger(value, kptr, key);
      } else if (key == "JitterStrategy") {
        auto j = String(value, kptr);
        if (!j) continue;
        if (*j == "FULL") {
          r.jitter_strategy = JitterStrategy::kFull;
        } else if (*j == "NONE") {
          r.jitter_strategy = JitterStrategy::kNone;
        } else {
          sink_.Error(diag::kInvalidValue, kptr,
                      fmt::format("JitterStrategy \"{}\" is not valid; use FULL or NONE", *j));
        }
      } else if (key == "Comment") {
        r.comment = String(value, kptr);
      } else {
        UnknownField(key, kptr,
                     {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
                      "MaxDelaySeconds", "JitterStrategy", "Comment"},
                     "a retrier");
      }
    }
    return r;
  }

  Catcher BuildCatcher(const json::value& v, const std::string& ptr, QueryLanguage lang) {
    Catcher c;
    if (!v.is_object()) {
      TypeError(v, ptr, "a catcher", "an object with ErrorEquals and Next");
      return c;
    }
    const json::object& obj = v.get_object();
    if (!obj.contains("ErrorEquals")) {
      sink_.Error(diag::kMissingField, ptr,
                  "this catcher has no \"ErrorEquals\"; list the error names it catches");
    }
    if (!obj.contains("Next")) {
      sink_.Error(diag::kMissingField, ptr,
                  "this catcher has no \"Next\"; name the state to go to when it catches");
    }
    for (const auto& [key, value] : obj) {
      std::string kptr = JsonPointerAppend(ptr, key);
      if (key == "ErrorEquals") {
        c.error_equals = ErrorNames(value, kptr);
      } else if (key == "Next") {
        if (auto n = StateName(value, kptr)) c.next = *n;
      } else if (key == "ResultPath") {
        if (lang == QueryLanguage::kJsonata) {
          sink_.Error(diag::kFieldNotAllowed, kptr, LanguageHint(key, lang));
        } else {
          c.result_path = Path(value, kptr);
        }
      } else if (key == "Output") {
        if (lang == QueryLanguage::kJsonPath) {
          sink_.Error(diag::kFieldNotAllowed, kptr, LanguageHint(key, lang));
        } else {
          c.output = Own(value);
        }
      } else if (key == "Assign") {
        if (!value.is_object()) {
          TypeError(value, kptr, key, "an object");
        } else {
          c.assign = Own(value);
        }
      } else if (key == "Comment") {
        c.comment = String(value, kptr);
      } else {
        UnknownField(key, kptr, {"ErrorEquals", "Next", "ResultPath", "Assign", "Output",
                                 "Comment"},
                     "a catcher");
      }
    }
    return c;
  }

  ChoiceRule BuildChoiceRule(const json::value& v, const std::string& ptr, QueryLanguage lang,
                             bool top_level) {
    ChoiceRule rule;
    if (!v.is_object()) {
      sink_.Error(diag::kInvalidChoiceRule, ptr,
                  fmt::format("a Choice rule must be an object, not {}", JsonKindName(v)));
      return rule;
    }
    const json::object& obj = v.get_object();
    std::vector<std::string> operators;
    for (const auto& [key, value] : obj) {
      std::string kptr = JsonPointerAppend(ptr, key);
      if (key == "Next") {
        if (!top_level) {
          sink_.Error(diag::kInvalidChoiceRule, kptr,
                      "\"Next\" is only allowed on top-level Choice rules, not inside And, Or "
                      "or Not");
          continue;
        }
        if (auto n = StateName(value, kptr)) rule.next = *n;
      } else if (key == "Comment") {
        rule.comment = String(value, kptr);
      } else if (key == "Assign" || key == "Output") {
        if (!top_level) {
          sink_.Error(diag::kInvalidChoiceRule, kptr,
                      fmt::format("\"{}\" is only allowed on top-level Choice rules", key));
          continue;
        }
        if (key == "Output" && lang == QueryLanguage::kJsonPath) {
          sink_.Error(diag::kFieldNotAllowed, kptr, LanguageHint(key, lang));
          continue;
        }
        if (key == "Assign" && !value.is_object()) {
          TypeError(value, kptr, key, "an object");
          continue;
        }
        (key == "Assign" ? rule.assign : rule.output) = Own(value);
      } else if (key == "Condition") {
        if (lang == QueryLanguage::kJsonPath) {
          sink_.Error(diag::kFieldNotAllowed, kptr, LanguageHint(key, lang));
          continue;
        }
        operators.push_back(key);
        rule.kind = ChoiceRule::Kind::kCondition;
        if (value.is_bool() || IsJsonataExpression(value)) {
          rule.condition = Own(value);
        } else if (value.is_string() && std::string_view(value.get_string()).starts_with("{%")) {
          sink_.Error(diag::kInvalidJsonata, kptr,
                      "the Condition expression must end with \"%}\"");
        } else {
          sink_.Error(diag::kInvalidJsonata, kptr,
                      fmt::format("\"Condition\" must be a {{% %}} expression (or true/false), "
                                  "not {}",
                                  JsonKindName(value)));
        }
      } else if (key == "Variable") {
        if (lang == QueryLanguage::kJsonata) {
          sink_.Error(diag::kFieldNotAllowed, kptr,
                      "\"Variable\" is a JSONPath field; in a JSONata Choice state write the "
                      "test as \"Condition\": \"{% ... %}\"");
          continue;
        }
        if (auto var = String(value, kptr)) rule.variable = *var;
      } else if (key == "And" || key == "Or") {
        operators.push_back(key);
        rule.kind = key == "And" ? ChoiceRule::Kind::kAnd : ChoiceRule::Kind::kOr;
        if (!value.is_array()) {
          sink_.Error(diag::kInvalidChoiceRule, kptr,
                      fmt::format("\"{}\" must be an array of rules, not {}", key,
                                  JsonKindName(value)));
          continue;
        }
        if (value.get_array().empty()) {
          sink_.Error(diag::kInvalidChoiceRule, kptr,
                      fmt::format("\"{}\" needs at least one rule", key));
        }
        for (std::size_t i = 0; i < value.get_array().size(); ++i) {
          rule.children.push_back(
              BuildChoiceRule(value.get_array()[i], JsonPointerAppend(kptr, i), lang, false));
        }
      } else if (key == "Not") {
        operators.push_back(key);
        rule.kind = ChoiceRule::Kind::kNot;
        rule.children.push_back(BuildChoiceRule(value, kptr, lang, false));
      } else if (auto op = ComparisonOperatorFromName(key)) {
        if (lang == QueryLanguage::kJsonata) {
          sink_.Error(diag::kFieldNotAllowed, kptr,
                      fmt::format("\"{}\" is a JSONPath comparison; in a JSONata Choice state "
                                  "write \"Condition\": \"{{% ... %}}\"",
                                  key));
          continue;
        }
        operators.push_back(key);
        rule.kind = ChoiceRule::Kind::kComparison;
        rule.op = *op;
        rule.operand = Own(value);
        CheckOperand(*op, value, kptr);
      } else {
        std::vector<std::string_view> allowed = {"Variable", "And", "Or", "Not", "Next",
                                                 "Comment", "Assign", "Condition"};
        for (int i = 0; i <= static_cast<int>(ComparisonOperator::kIsTimestamp); ++i) {
          allowed.push_back(ComparisonOperatorName(static_cast<ComparisonOperator>(i)));
        }
        UnknownField(key, kptr, allowed, "a Choice rule");
      }
    }
    if (operators.empty()) {
      sink_.Error(lang == QueryLanguage::kJsonata ? diag::kMissingField : diag::kInvalidChoiceRule,
                  ptr,
                  lang == QueryLanguage::kJsonata
                      ? "this Choice rule has no \"Condition\""
                      : "this Choice rule has no comparison operator (e.g. \"StringEquals\") and "
                        "no And/Or/Not");
    } else if (operators.size() > 1) {
      sink_.Error(diag::kInvalidChoiceRule, ptr,
                  fmt::format("this Choice rule has {} operators ({}); use exactly one, and "
                              "combine tests with And/Or",
                              operators.size(), fmt::join(operators, ", ")));
    }
    if (rule.kind == ChoiceRule::Kind::kComparison && !operators.empty() &&
        rule.variable.empty() && !obj.contains("Variable")) {
      sink_.Error(diag::kInvalidChoiceRule, ptr,
                  fmt::format("the comparison \"{}\" has no \"Variable\"; add the path of the "
                              "value to compare",
                              ComparisonOperatorName(rule.op)));
    }
    if (rule.kind != ChoiceRule::Kind::kComparison && obj.contains("Variable")) {
      sink_.Error(diag::kInvalidChoiceRule, JsonPointerAppend(ptr, "Variable"),
                  "\"Variable\" belongs on a comparison, not on an And/Or/Not rule");
    }
    if (top_level && !obj.contains("Next")) {
      sink_.Error(diag::kInvalidChoiceRule, ptr,
                  "this top-level Choice rule has no \"Next\"; name the state to go to when it "
                  "matches");
    }
    return rule;
  }

  void CheckOperand(ComparisonOperator op, const json::value& v, const std::string& ptr) {
    std::string_view name = ComparisonOperatorName(op);
    auto bad = [&](std::string_view expected) {
      sink_.Error(diag::kInvalidChoiceRule, ptr,
                  fmt::format("\"{}\" needs {}, not {}", name, expected, JsonKindName(v)));
    };
    if (IsPathOperator(op)) {
      if (!v.is_string()) bad("a reference path string");
      return;
    }
    if (name.starts_with("Is")) {
      if (!v.is_bool()) bad("true or false");
      return;
    }
    if (name.starts_with("String")) {
      if (!v.is_string()) {
        bad("a string");
      } else if (op == ComparisonOperator::kStringMatches) {
        CheckMatchPattern(v.get_string(), ptr);
      }
      return;
    }
    if (name.starts_with("Numeric")) {
      if (!v.is_number()) bad("a number");
      return;
    }
    if (name.starts_with("Boolean")) {
      if (!v.is_bool()) bad("true or false");
      return;
    }
    if (name.starts_with("Timestamp")) {
      if (!v.is_string()) {
        bad("an RFC 3339 timestamp string");
      } else if (!LooksLikeTimestamp(v.get_string())) {
        sink_.Error(diag::kInvalidChoiceRule, ptr,
                    fmt::format("\"{}\" needs an RFC 3339 timestamp such as "
                                "\"2026-01-31T09:00:00Z\", not \"{}\"",
                                name, std::string_view(v.get_string())));
      }
    }
  }

  static bool LooksLikeTimestamp(std::string_view s);

  // In StringMatches patterns a backslash escapes only '*' or '\\'.
  void CheckMatchPattern(std::string_view pattern, const std::string& ptr) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i] != '\\') continue;
      if (i + 1 < pattern.size() && (pattern[i + 1] == '*' || pattern[i + 1] == '\\')) {
        ++i;
        continue;
      }
      sink_.Error(diag::kInvalidChoiceRule, ptr,
                  fmt::format("StringMatches pattern \"{}\" has an open escape at character {}; "
                              "a backslash may only escape '*' or '\\'",
                              pattern, i + 1));
      return;
    }
  }

  std::vector<std::string> ErrorNames(const json::value& v, const std::string& ptr) {
    std::vector<std::string> out;
    if (!v.is_array()) {
      TypeError(v, ptr, "ErrorEquals", "an array of error names");
      return out;
    }
    if (v.get_array().empty()) {
      sink_.Error(diag::kInvalidValue, ptr,
                  "\"ErrorEquals\" is empty; list at least one error name (or \"States.ALL\")");
    }
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
      if (auto s = String(v.get_array()[i], JsonPointerAppend(ptr, i))) out.push_back(*s);
    }
    return out;
  }

  std::optional<json::value> Payload(const json::value& v, const std::string& ptr,
                                     std::string_view field) {
    // AWS requires an object for Parameters, ResultSelector and ItemSelector.
    if (!v.is_object()) {
      TypeError(v, ptr, field, "an object");
      return std::nullopt;
    }
    CheckDollarKeys(v, ptr);
    return Own(v);
  }

  // Keys ending in ".$" must have string values (a path or an intrinsic function).
  void CheckDollarKeys(const json::value& v, const std::string& ptr) {
    std::string walk = ptr;
    CheckDollarKeysAt(v, walk);
  }

  void CheckDollarKeysAt(const json::value& v, std::string& ptr) {
    if (v.is_object()) {
      for (const auto& [key, child] : v.get_object()) {
        if (key.ends_with(".$")) {
          if (!child.is_string()) {
            sink_.Error(diag::kType, JsonPointerAppend(ptr, key),
                        fmt::format("\"{}\" ends in \".$\", so its value must be a path or an "
                                    "intrinsic function string, not {}",
                                    std::string_view(key), JsonKindName(child)));
          }
          // Both would name the same field of the result (the ASL specification forbids it).
          std::string_view plain = std::string_view(key).substr(0, key.size() - 2);
          if (v.get_object().contains(plain)) {
            sink_.Error(diag::kInvalidValue, JsonPointerAppend(ptr, key),
                        fmt::format("\"{}\" and \"{}\" are both in this object, and both "
                                    "would set \"{}\"; keep one",
                                    std::string_view(key), plain, plain));
          }
        } else if (child.is_structured()) {
          ScopedPointerToken token(ptr, key);
          CheckDollarKeysAt(child, ptr);
        }
      }
    } else if (v.is_array()) {
      for (std::size_t i = 0; i < v.get_array().size(); ++i) {
        if (v.get_array()[i].is_structured()) {
          ScopedPointerToken token(ptr, i);
          CheckDollarKeysAt(v.get_array()[i], ptr);
        }
      }
    }
  }

  std::optional<json::value> ObjectField(const json::value& v, const std::string& ptr,
                                         std::string_view field,
                                         std::vector<std::string_view> allowed) {
    if (!v.is_object()) {
      TypeError(v, ptr, field, "an object");
      return std::nullopt;
    }
    for (const auto& [key, value] : v.get_object()) {
      if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
        UnknownField(key, JsonPointerAppend(ptr, key), allowed, field);
      }
    }
    return Own(v);
  }

  // The typed forms of ItemReader, ItemBatcher and ResultWriter, from fields already checked
  // (a value of the wrong type was reported and is left out).
  static std::string Text(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  }
  static std::optional<std::int64_t> Int(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v != nullptr && v->is_int64()) return v->get_int64();
    return std::nullopt;
  }
  static Boxed<std::string> OptionalText(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (v != nullptr && v->is_string()) return std::string(v->get_string());
    return std::nullopt;
  }
  Boxed<json::value> Template(const json::object& o) {
    for (std::string_view key : {"Parameters", "Arguments"}) {
      if (const json::value* v = o.if_contains(key)) return Own(*v);
    }
    return std::nullopt;
  }

  ItemReaderSpec ReadItemReader(const json::object& r) {
    ItemReaderSpec out;
    out.resource = Text(r, "Resource");
    out.parameters = Template(r);
    const json::value* config = r.if_contains("ReaderConfig");
    if (config != nullptr && config->is_object()) {
      const json::object& c = config->get_object();
      out.input_type = Text(c, "InputType");
      out.csv_header_location = Text(c, "CSVHeaderLocation");
      out.csv_delimiter = Text(c, "CSVDelimiter");
      if (const json::value* h = c.if_contains("CSVHeaders"); h != nullptr && h->is_array()) {
        for (const json::value& name : h->get_array()) {
          if (name.is_string()) out.csv_headers.emplace_back(name.get_string());
        }
      }
      out.max_items = Int(c, "MaxItems");
      out.max_items_path = OptionalText(c, "MaxItemsPath");
    }
    return out;
  }

  ItemBatcherSpec ReadItemBatcher(const json::object& b) {
    ItemBatcherSpec out;
    out.max_items_per_batch = Int(b, "MaxItemsPerBatch");
    out.max_input_bytes_per_batch = Int(b, "MaxInputBytesPerBatch");
    out.max_items_per_batch_path = OptionalText(b, "MaxItemsPerBatchPath");
    out.max_input_bytes_per_batch_path = OptionalText(b, "MaxInputBytesPerBatchPath");
    if (const json::value* in = b.if_contains("BatchInput")) out.batch_input = Own(*in);
    return out;
  }

  ResultWriterSpec ReadResultWriter(const json::object& w) {
    ResultWriterSpec out;
    out.resource = Text(w, "Resource");
    out.parameters = Template(w);
    if (const json::value* c = w.if_contains("WriterConfig")) out.writer_config = Own(*c);
    return out;
  }

  // ItemReader.ReaderConfig: known fields with their documented values.
  void CheckItemReader(const json::object& reader, const std::string& ptr, QueryLanguage lang) {
    const json::value* config = reader.if_contains("ReaderConfig");
    if (config == nullptr) return;
    std::string cptr = JsonPointerAppend(ptr, "ReaderConfig");
    if (!config->is_object()) {
      TypeError(*config, cptr, "ReaderConfig", "an object");
      return;
    }
    auto one_of = [&](const json::value& v, const std::string& vptr, std::string_view field,
                      std::initializer_list<std::string_view> allowed) {
      auto text = String(v, vptr);
      if (!text) return;
      if (std::find(allowed.begin(), allowed.end(), *text) == allowed.end()) {
        sink_.Error(diag::kInvalidValue, vptr,
                    fmt::format("{} \"{}\" is not valid; use one of {}", field, *text,
                                fmt::join(allowed, ", ")));
      }
    };
    for (const auto& [key, value] : config->get_object()) {
      std::string kptr = JsonPointerAppend(cptr, key);
      if (key == "InputType") {
        one_of(value, kptr, key, {"CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"});
      } else if (key == "CSVHeaderLocation") {
        one_of(value, kptr, key, {"FIRST_ROW", "GIVEN"});
      } else if (key == "CSVDelimiter") {
        one_of(value, kptr, key, {"COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB"});
      } else if (key == "CSVHeaders") {
        if (const json::array* headers = Array(value, kptr)) {
          for (std::size_t i = 0; i < headers->size(); ++i) {
            String((*headers)[i], JsonPointerAppend(kptr, i));
          }
        }
      } else if (key == "MaxItems") {
        IntegerOrExpression(value, kptr, key, lang == QueryLanguage::kJsonata, 0);
      } else if (key == "MaxItemsPath" && lang == QueryLanguage::kJsonPath) {
        String(value, kptr);
      } else {
        UnknownField(key, kptr,
                     {"InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems",
                      "MaxItemsPath"},
                     "ReaderConfig");
      }
    }
  }

  void CheckRequiredAndExclusive(const json::object& obj, const std::string& at, State& s,
                                 QueryLanguage lang) {
    auto has = [&](std::string_view k) { return obj.contains(k); };
    auto exclusive = [&](std::string_view a, std::string_view b) {
      if (has(a) && has(b)) {
        sink_.Error(diag::kFieldNotAllowed, JsonPointerAppend(at, b),
                    fmt::format("state \"{}\" has both \"{}\" and \"{}\"; keep only one", s.name,
                                a, b));
      }
    };
    switch (s.type) {
      case StateType::kTask:
        if (!has("Resource")) {
          sink_.Error(diag::kMissingField, at,
                      fmt::format("Task state \"{}\" has no \"Resource\"; add the ARN of what it "
                                  "runs",
                                  s.name));
        }
        exclusive("TimeoutSeconds", "TimeoutSecondsPath");
        exclusive("HeartbeatSeconds", "HeartbeatSecondsPath");
        break;
      case StateType::kChoice:
        if (!has("Choices")) {
          sink_.Error(diag::kMissingField, at,
                      fmt::format("Choice state \"{}\" has no \"Choices\"", s.name));
        }
        break;
      case StateType::kWait: {
        int n = has("Seconds") + has("Timestamp") + has("SecondsPath") + has("TimestampPath");
        if (n == 0) {
          sink_.Error(diag::kMissingField, at,
                      fmt::format("Wait state \"{}\" needs one of \"Seconds\", \"Timestamp\"{}",
                                  s.name,
                                  lang == QueryLanguage::kJsonPath
                                      ? ", \"SecondsPath\", \"TimestampPath\""
                                      : ""));
        } else if (n > 1) {
          sink_.Error(diag::kFieldNotAllowed, at,
                      fmt::format("Wait state \"{}\" has {} of Seconds/Timestamp/SecondsPath/"
                                  "TimestampPath; keep exactly one",
                                  s.name, n));
        }
        break;
      }
      case StateType::kFail:
        exclusive("Error", "ErrorPath");
        exclusive("Cause", "CausePath");
        break;
      case StateType::kParallel:
        if (!has("Branches")) {
          sink_.Error(diag::kMissingField, at,
                      fmt::format("Parallel state \"{}\" has no \"Branches\"", s.name));
        }
        break;
      case StateType::kMap:
        if (!has("ItemProcessor") && !has("Iterator")) {
          sink_.Error(diag::kMissingField, at,
                      fmt::format("Map state \"{}\" has no \"ItemProcessor\"; add one with "
                                  "StartAt and States",
                                  s.name));
        }
        exclusive("ItemProcessor", "Iterator");
        exclusive("ItemSelector", "Parameters");
        exclusive("MaxConcurrency", "MaxConcurrencyPath");
        exclusive("ToleratedFailureCount", "ToleratedFailureCountPath");
        exclusive("ToleratedFailurePercentage", "ToleratedFailurePercentagePath");
        break;
      default:
        break;
    }
  }

  // Field readers: report and return nothing on a type mismatch.
  std::optional<std::string> String(const json::value& v, const std::string& ptr) {
    if (v.is_string()) return std::string(v.get_string());
    sink_.Error(diag::kType, ptr,
                fmt::format("\"{}\" must be a string, not {}", LastToken(ptr), JsonKindName(v)));
    return std::nullopt;
  }

  // A transition target: a non-empty string (state names are 1 to 80 characters).
  std::optional<std::string> StateName(const json::value& v, const std::string& ptr) {
    auto name = String(v, ptr);
    if (name && name->empty()) {
      sink_.Error(diag::kInvalidValue, ptr,
                  fmt::format("\"{}\" is empty; it must name a state", LastToken(ptr)));
      return std::nullopt;
    }
    return name;
  }

  const json::array* Array(const json::value& v, const std::string& ptr) {
    if (v.is_array()) return &v.get_array();
    sink_.Error(diag::kType, ptr,
                fmt::format("\"{}\" must be an array, not {}", LastToken(ptr), JsonKindName(v)));
    return nullptr;
  }

  PathField Path(const json::value& v, const std::string& ptr) {
    if (v.is_null()) return PathField::Null();
    if (v.is_string()) return PathField::Of(std::string(v.get_string()));
    sink_.Error(diag::kType, ptr,
                fmt::format("\"{}\" must be a path string or null, not {}", LastToken(ptr),
                            JsonKindName(v)));
    return {};
  }

  std::optional<QueryLanguage> Language(const json::value& v, const std::string& ptr) {
    auto s = String(v, ptr);
    if (!s) return std::nullopt;
    if (*s == "JSONPath") return QueryLanguage::kJsonPath;
    if (*s == "JSONata") return QueryLanguage::kJsonata;
    sink_.Error(diag::kInvalidValue, ptr,
                fmt::format("QueryLanguage \"{}\" is not valid; use \"JSONPath\" or \"JSONata\"",
                            *s));
    return std::nullopt;
  }

  std::optional<std::int64_t> Integer(const json::value& v, const std::string& ptr,
                                      std::string_view field) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
      sink_.Error(diag::kQuota, ptr,
                  fmt::format("\"{}\" is {}; that is beyond any AWS limit", field, v.get_uint64()));
      return std::nullopt;
    }
    TypeError(v, ptr, field, "an integer");
    return std::nullopt;
  }

  std::optional<std::int64_t> PositiveInteger(const json::value& v, const std::string& ptr,
                                              std::string_view field) {
    auto i = Integer(v, ptr, field);
    if (i && *i < 1) {
      sink_.Error(diag::kInvalidValue, ptr,
                  fmt::format("\"{}\" is {}; it must be a positive integer", field, *i));
    }
    return i;
  }

  std::optional<std::int64_t> NonNegativeInteger(const json::value& v, const std::string& ptr,
                                                 std::string_view field) {
    auto i = Integer(v, ptr, field);
    if (i && *i < 0) {
      sink_.Error(diag::kInvalidValue, ptr,
                  fmt::format("\"{}\" is {}; it must be 0 or more", field, *i));
    }
    return i;
  }

  // An integer >= min, or (in JSONata states) a {% %} expression.
  std::optional<json::value> IntegerOrExpression(const json::value& v, const std::string& ptr,
                                                 std::string_view field, bool jsonata,
                                                 std::int64_t min) {
    if (jsonata && IsJsonataExpression(v)) return Own(v);
    if (jsonata && IsMalformedExpression(v)) {
      MalformedExpression(ptr);
      return std::nullopt;
    }
    if (!v.is_int64() && !v.is_uint64()) {
      TypeError(v, ptr, field, jsonata ? "an integer or a {% %} expression" : "an integer");
      return std::nullopt;
    }
    if (v.is_int64() && v.get_int64() < min) {
      sink_.Error(diag::kInvalidValue, ptr,
                  fmt::format("\"{}\" is {}; it must be {}", field, v.get_int64(),
                              min == 0 ? "0 or more" : "a positive integer"));
    }
    return Own(v);
  }

  // A string that opens a JSONata expression but does not close it.
  static bool IsMalformedExpression(const json::value& v) {
    return v.is_string() && std::string_view(v.get_string()).starts_with("{%") &&
           !IsJsonataExpression(v);
  }
  void MalformedExpression(const std::string& ptr) {
    sink_.Error(diag::kInvalidJsonata, ptr,
                "a JSONata expression must be written \"{% expression %}\" with nothing after "
                "\"%}\"");
  }

  void TypeError(const json::value& v, const std::string& ptr, std::string_view field,
                 std::string_view expected) {
    sink_.Error(diag::kType, ptr,
                fmt::format("{}{} must be {}, not {}", field.starts_with("a ") ? "" : "\"",
                            field.starts_with("a ") ? std::string(field)
                                                    : std::string(field) + "\"",
                            expected, JsonKindName(v)));
  }

  void UnknownField(std::string_view key, const std::string& ptr,
                    const std::vector<std::string_view>& allowed, std::string_view where) {
    sink_.Error(diag::kUnknownField, ptr,
                fmt::format("unknown field \"{}\" in {}{}", key, where, DidYouMean(key, allowed)));
  }

  static std::string LastToken(const std::string& ptr) {
    std::size_t slash = ptr.rfind('/');
    std::string token = ptr.substr(slash == std::string::npos ? 0 : slash + 1);
    std::string out;
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        out.push_back(token[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        out.push_back(token[i]);
      }
    }
    return out;
  }

  DiagnosticSink& sink_;
  std::deque<std::string> field_pointers_;  // by nesting depth (a deque keeps references)
  std::size_t depth_ = 0;
  QueryLanguage machine_lang_ = QueryLanguage::kJsonPath;
};

bool Builder::LooksLikeTimestamp(std::string_view s) { return IsRfc3339Timestamp(s); }

}  // namespace

namespace {

ParseReport BuildReport(const json::value& definition, SourceMap* locations) {
  ParseReport report;
  DiagnosticSink sink;
  if (!definition.is_object()) {
    sink.Error(diag::kType, "",
               fmt::format("a state machine definition must be a JSON object, not {}",
                           JsonKindName(definition)));
  } else {
    StateMachine m;
    Builder(sink).BuildMachine(definition.get_object(), m);
    report.diagnostics = sink.Take(locations);
    if (locations != nullptr) m.set_source_map(std::move(*locations));
    report.machine = std::move(m);
    return report;
  }
  report.diagnostics = sink.Take(locations);
  return report;
}

}  // namespace

ParseReport ParseStateMachineValue(const json::value& definition, const SourceMap* locations) {
  if (locations == nullptr) return BuildReport(definition, nullptr);
  SourceMap copy = *locations;
  return BuildReport(definition, &copy);
}

ParseReport ParseStateMachineText(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_definition_bytes) {
    ParseReport report;
    report.diagnostics.push_back(Diagnostic{
        Severity::kError, std::string(diag::kDefinitionTooLarge),
        fmt::format("the definition is {} bytes; AWS Step Functions accepts at most {} bytes. "
                    "Split it into nested state machines or move data out of it",
                    text.size(), options.max_definition_bytes),
        "", SourceLocation{1, 1}});
    return report;
  }
  ParseReport report;
  {
    // The document is read into an arena and dropped whole once the model (which copies what
    // it keeps, see Builder::Own) is built: no allocation or free per JSON node. Locations are
    // looked up in the caller's text meanwhile; the machine gets its own copy only after the
    // document is gone, so the two never take memory at the same time.
    json::monotonic_resource arena(text.size() + 1024);
    JsonParseOutcome parsed =
        ParseJsonOrError(text, {.max_depth = options.max_depth,
                                .max_bytes = text.size() + 1,
                                .record_locations = false,
                                .storage = json::storage_ptr(&arena)});
    if (parsed.error) {
      report.diagnostics.push_back(Diagnostic{Severity::kError, std::string(diag::kJsonSyntax),
                                              parsed.error->message, "",
                                              parsed.error->location});
      return report;
    }
    SourceMap locations = SourceMap::Borrowing(text);
    report = BuildReport(parsed.document->value, &locations);
  }
  if (report.machine) report.machine->set_source_map(report.machine->source_map().Owning());
  return report;
}

Result<StateMachine> ParseStateMachine(std::string_view text) {
  ParseReport report = ParseStateMachineText(text);
  for (const Diagnostic& d : report.diagnostics) {
    if (d.severity == Severity::kError) {
      return InvalidArgumentError(fmt::format("{}:{}: {}: {}", d.location.line,
                                              d.location.column, d.code, d.message));
    }
  }
  return std::move(*report.machine);
}

}  // namespace zflow::asl
