#include "zflow/asl_serializer.h"

namespace zflow::asl {
namespace {

void PutPath(json::object& o, std::string_view key, const PathField& p) {
  switch (p.kind) {
    case PathField::Kind::kAbsent: return;
    case PathField::Kind::kNull: o[key] = nullptr; return;
    case PathField::Kind::kPath: o[key] = p.path(); return;
  }
}

// Sets `key` when `v` (a std::optional or a Boxed) holds a value.
template <typename Optional>
void Put(json::object& o, std::string_view key, const Optional& v) {
  if (v) o[key] = *v;
}

void PutString(json::object& o, std::string_view key, const std::string& v) {
  if (!v.empty()) o[key] = v;
}

json::value ErrorNames(const std::vector<std::string>& names) {
  json::array a;
  for (const std::string& n : names) a.emplace_back(n);
  return a;
}

json::value BranchToJson(const Branch& b, bool item_processor);

json::value RuleToJson(const ChoiceRule& r) {
  json::object o;
  switch (r.kind) {
    case ChoiceRule::Kind::kComparison:
      o["Variable"] = r.variable;
      o[ComparisonOperatorName(r.op)] = r.operand;
      break;
    case ChoiceRule::Kind::kAnd:
    case ChoiceRule::Kind::kOr: {
      json::array children;
      for (const ChoiceRule& c : r.children) children.push_back(RuleToJson(c));
      o[r.kind == ChoiceRule::Kind::kAnd ? "And" : "Or"] = std::move(children);
      break;
    }
    case ChoiceRule::Kind::kNot:
      if (!r.children.empty()) o["Not"] = RuleToJson(r.children[0]);
      break;
    case ChoiceRule::Kind::kCondition:
      o["Condition"] = r.condition;
      break;
  }
  Put(o, "Comment", r.comment);
  Put(o, "Assign", r.assign);
  Put(o, "Output", r.output);
  PutString(o, "Next", r.next);
  return o;
}

json::value StateToJson(const State& s) {
  json::object o;
  o["Type"] = StateTypeName(s.type);
  Put(o, "Comment", s.comment);
  if (s.query_language) o["QueryLanguage"] = QueryLanguageName(*s.query_language);
  PutString(o, "Resource", s.task().resource);
  Put(o, "Credentials", s.task().credentials);
  // Choice
  if (s.type == StateType::kChoice) {
    json::array rules;
    for (const ChoiceRule& r : s.choice().choices) rules.push_back(RuleToJson(r));
    o["Choices"] = std::move(rules);
    PutString(o, "Default", s.choice().default_next);
  }
  // Wait
  Put(o, "Seconds", s.wait().seconds);
  Put(o, "Timestamp", s.wait().timestamp);
  Put(o, "SecondsPath", s.wait().seconds_path);
  Put(o, "TimestampPath", s.wait().timestamp_path);
  // Fail
  Put(o, "Error", s.fail().error);
  Put(o, "ErrorPath", s.fail().error_path);
  Put(o, "Cause", s.fail().cause);
  Put(o, "CausePath", s.fail().cause_path);
  // Parallel
  if (s.type == StateType::kParallel) {
    json::array branches;
    for (const Branch& b : s.parallel().branches) branches.push_back(BranchToJson(b, false));
    o["Branches"] = std::move(branches);
  }
  // Map
  Put(o, "ItemReader", s.map().item_reader);
  Put(o, "ItemsPath", s.map().items_path);
  Put(o, "Items", s.map().items);
  Put(o, "ItemSelector", s.map().item_selector);
  Put(o, "ItemBatcher", s.map().item_batcher);
  Put(o, "MaxConcurrency", s.map().max_concurrency);
  Put(o, "MaxConcurrencyPath", s.map().max_concurrency_path);
  Put(o, "ToleratedFailureCount", s.map().tolerated_failure_count);
  Put(o, "ToleratedFailureCountPath", s.map().tolerated_failure_count_path);
  Put(o, "ToleratedFailurePercentage", s.map().tolerated_failure_percentage);
  Put(o, "ToleratedFailurePercentagePath", s.map().tolerated_failure_percentage_path);
  Put(o, "Label", s.map().label);
  if (s.map().item_processor) {
    o[s.map().uses_iterator ? "Iterator" : "ItemProcessor"] =
        BranchToJson(*s.map().item_processor, !s.map().uses_iterator);
  }
  Put(o, "ResultWriter", s.map().result_writer);
  // Task timing
  Put(o, "TimeoutSeconds", s.task().timeout_seconds);
  Put(o, "TimeoutSecondsPath", s.task().timeout_seconds_path);
  Put(o, "HeartbeatSeconds", s.task().heartbeat_seconds);
  Put(o, "HeartbeatSecondsPath", s.task().heartbeat_seconds_path);
  // Input / output
  PutPath(o, "InputPath", s.input_path);
  Put(o, "Parameters", s.parameters);
  Put(o, "Arguments", s.arguments);
  Put(o, "Result", s.pass().result);
  Put(o, "ResultSelector", s.result_selector);
  PutPath(o, "ResultPath", s.result_path);
  PutPath(o, "OutputPath", s.output_path);
  Put(o, "Output", s.output);
  Put(o, "Assign", s.assign);
  if (s.has_retry_field || !s.retry.empty()) {
    json::array retry;
    for (const Retrier& r : s.retry) {
      json::object ro;
      ro["ErrorEquals"] = ErrorNames(r.error_equals);
      Put(ro, "Comment", r.comment);
      Put(ro, "IntervalSeconds", r.interval_seconds);
      Put(ro, "MaxAttempts", r.max_attempts);
      Put(ro, "BackoffRate", r.backoff_rate);
      Put(ro, "MaxDelaySeconds", r.max_delay_seconds);
      if (r.jitter_strategy) {
        ro["JitterStrategy"] = *r.jitter_strategy == JitterStrategy::kFull ? "FULL" : "NONE";
      }
      retry.push_back(std::move(ro));
    }
    o["Retry"] = std::move(retry);
  }
  if (s.has_catch_field || !s.catch_.empty()) {
    json::array catchers;
    for (const Catcher& c : s.catch_) {
      json::object co;
      co["ErrorEquals"] = ErrorNames(c.error_equals);
      Put(co, "Comment", c.comment);
      PutPath(co, "ResultPath", c.result_path);
      Put(co, "Assign", c.assign);
      Put(co, "Output", c.output);
      co["Next"] = c.next;
      catchers.push_back(std::move(co));
    }
    o["Catch"] = std::move(catchers);
  }
  PutString(o, "Next", s.next);
  if (s.end) o["End"] = true;
  return o;
}

json::value StatesToJson(const std::vector<State>& states) {
  json::object o;
  o.reserve(states.size());
  for (const State& s : states) o[s.name] = StateToJson(s);
  return o;
}

json::value BranchToJson(const Branch& b, bool item_processor) {
  json::object o;
  Put(o, "Comment", b.comment);
  if (item_processor && (b.mode || b.execution_type)) {
    json::object config;
    if (b.mode) config["Mode"] = *b.mode == ProcessorMode::kInline ? "INLINE" : "DISTRIBUTED";
    if (b.execution_type) {
      config["ExecutionType"] =
          *b.execution_type == ExecutionType::kStandard ? "STANDARD" : "EXPRESS";
    }
    o["ProcessorConfig"] = std::move(config);
  }
  o["StartAt"] = b.start_at;
  o["States"] = StatesToJson(b.states);
  return o;
}

}  // namespace

json::value StateMachineToJson(const StateMachine& m) {
  json::object o;
  Put(o, "Comment", m.comment);
  if (m.query_language) o["QueryLanguage"] = QueryLanguageName(*m.query_language);
  o["StartAt"] = m.start_at();
  Put(o, "TimeoutSeconds", m.timeout_seconds);
  Put(o, "Version", m.version);
  o["States"] = StatesToJson(m.states());
  return o;
}

std::string SerializeStateMachine(const StateMachine& m, JsonStyle style) {
  json::value v = StateMachineToJson(m);
  return style == JsonStyle::kPretty ? ToPrettyJsonText(v) + "\n" : ToJsonText(v);
}

}  // namespace zflow::asl
