#include "zflow/asl_serializer.h"

#include "asl/field_table.h"

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

json::value RetryToJson(const std::vector<Retrier>& retriers) {
  json::array retry;
  for (const Retrier& r : retriers) {
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
  return retry;
}

json::value CatchToJson(const std::vector<Catcher>& catchers) {
  json::array out;
  for (const Catcher& c : catchers) {
    json::object co;
    co["ErrorEquals"] = ErrorNames(c.error_equals);
    Put(co, "Comment", c.comment);
    PutPath(co, "ResultPath", c.result_path);
    Put(co, "Assign", c.assign);
    Put(co, "Output", c.output);
    co["Next"] = c.next;
    out.push_back(std::move(co));
  }
  return out;
}

// The fields the table marks kStructure.
void PutStructure(json::object& o, std::string_view name, const State& s) {
  if (name == "Type") {
    o["Type"] = StateTypeName(s.type);
  } else if (name == "QueryLanguage") {
    if (s.query_language) o["QueryLanguage"] = QueryLanguageName(*s.query_language);
  } else if (name == "Resource") {
    PutString(o, "Resource", s.task().resource);
  } else if (name == "Choices") {
    json::array rules;
    for (const ChoiceRule& r : s.choice().choices) rules.push_back(RuleToJson(r));
    o["Choices"] = std::move(rules);
  } else if (name == "Default") {
    PutString(o, "Default", s.choice().default_next);
  } else if (name == "Branches") {
    json::array branches;
    for (const Branch& b : s.parallel().branches) branches.push_back(BranchToJson(b, false));
    o["Branches"] = std::move(branches);
  } else if (name == "ItemProcessor" || name == "Iterator") {
    const MapFields& m = s.map();
    if (m.item_processor && m.uses_iterator == (name == "Iterator")) {
      o[name] = BranchToJson(*m.item_processor, !m.uses_iterator);
    }
  } else if (name == "Retry") {
    if (s.has_retry_field || !s.retry.empty()) o["Retry"] = RetryToJson(s.retry);
  } else if (name == "Catch") {
    if (s.has_catch_field || !s.catch_.empty()) o["Catch"] = CatchToJson(s.catch_);
  } else if (name == "Next") {
    PutString(o, "Next", s.next);
  } else if (name == "End") {
    if (s.end) o["End"] = true;
  }
}

// Every field the state has, in the table's order.
json::value StateToJson(const State& s) {
  json::object o;
  for (const FieldSpec& f : StateFields()) {
    if (!f.AllowedOn(s.type)) continue;
    if (f.shape == FieldShape::kStructure) {
      PutStructure(o, f.name, s);
      continue;
    }
    ConstFieldSlot v = f.const_slot(s);
    if (v.text != nullptr) {
      Put(o, f.name, *v.text);
    } else if (v.json != nullptr) {
      Put(o, f.name, *v.json);
    } else {
      PutPath(o, f.name, *v.path);
    }
  }
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
