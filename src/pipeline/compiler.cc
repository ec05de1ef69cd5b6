// Pipeline checks and the structure of the emitted state machine (sequences, Parallel states,
// conditions, the failure handler). The step kinds are in steps.cc.
#include "pipeline/compiler.h"

#include <algorithm>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "zflow/asl_convert.h"

namespace zflow::pipeline {

const char* TypeWord(ValueType t) {
  switch (t) {
    case ValueType::kString:
      return "a string";
    case ValueType::kNumber:
      return "a number";
    case ValueType::kBoolean:
      return "a boolean";
    case ValueType::kAny:
      break;
  }
  return "a value";
}

std::string EscapeIntrinsicText(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "${") == 0) {
      std::size_t close = s.find('}', i + 2);
      bool name = close != std::string_view::npos && close > i + 2;
      for (std::size_t k = i + 2; name && k < close; ++k) {
        char c = s[k];
        name = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      }
      if (name) {
        out.append(s.substr(i, close - i + 1));
        i = close;
        continue;
      }
    }
    char c = s[i];
    if (c == '\'' || c == '{' || c == '}' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string StepResultPath(std::string_view step) { return fmt::format("$.steps['{}']", step); }
std::string ParameterPath(std::string_view name) { return fmt::format("$.params['{}']", name); }

namespace {

constexpr const char* kInitialize = "Initialize";
constexpr const char* kInitializeParameters = "Initialize parameters";
constexpr const char* kCheckParameters = "Check parameters";
constexpr std::string_view kInvalidParameter = "Invalid parameter ";  // + its number
constexpr const char* kDone = "Done";
constexpr const char* kPipelineFailed = "Pipeline failed";

bool ValidStepName(std::string_view n) {
  if (n.empty() || n.size() > kMaxStepName) return false;
  if (n.front() == ' ' || n.back() == ' ') return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == ' ' || c == '_' || c == '-' || c == '.';
  });
}

bool ValidParameterName(std::string_view n) {
  if (n.empty() || n.size() > 128) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

bool ValidExternalName(std::string_view n) {
  if (n.empty() || n.size() > 255) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

bool IsReserved(std::string_view n) {
  return n == kInitialize || n == kInitializeParameters || n == kDone || n == kPipelineFailed ||
         n == kCheckParameters || n.starts_with(kInvalidParameter) || n.starts_with("Parallel ");
}

// Every value a step's fields hold, with the field's name.
void VisitValues(const Pipeline::Step& step,
                 const std::function<void(const Value&, std::string_view)>& fn) {
  auto map = [&](const auto& m, std::string_view field) {
    for (const auto& [k, v] : m) fn(v, fmt::format("{}.{}", field, k));
  };
  auto list = [&](const auto& l, std::string_view field) {
    for (std::size_t i = 0; i < l.size(); ++i) fn(l[i], fmt::format("{}[{}]", field, i));
  };
  auto training = [&](const TrainingJob& t, std::string_view prefix) {
    fn(t.image, fmt::format("{}image", prefix));
    fn(t.role_arn, fmt::format("{}role_arn", prefix));
    map(t.hyperparameters, fmt::format("{}hyperparameters", prefix));
    map(t.channels, fmt::format("{}channels", prefix));
    fn(t.content_type, fmt::format("{}content_type", prefix));
    fn(t.output_path, fmt::format("{}output_path", prefix));
    fn(t.instance_type, fmt::format("{}instance_type", prefix));
    fn(t.instance_count, fmt::format("{}instance_count", prefix));
    fn(t.volume_size_gb, fmt::format("{}volume_size_gb", prefix));
    fn(t.max_runtime_seconds, fmt::format("{}max_runtime_seconds", prefix));
    map(t.environment, fmt::format("{}environment", prefix));
  };
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, LambdaFunction>) {
          fn(s.function_name, "function_name");
          map(s.payload, "payload");
        } else if constexpr (std::is_same_v<T, TrainingJob>) {
          training(s, "");
        } else if constexpr (std::is_same_v<T, HyperparameterTuningJob>) {
          training(s.training, "training.");
        } else if constexpr (std::is_same_v<T, ProcessingJob>) {
          fn(s.image, "image");
          fn(s.role_arn, "role_arn");
          list(s.arguments, "arguments");
          for (std::size_t i = 0; i < s.inputs.size(); ++i) {
            fn(s.inputs[i].s3_uri, fmt::format("inputs[{}].s3_uri", i));
          }
          for (std::size_t i = 0; i < s.outputs.size(); ++i) {
            fn(s.outputs[i].s3_uri, fmt::format("outputs[{}].s3_uri", i));
          }
          fn(s.instance_type, "instance_type");
          fn(s.instance_count, "instance_count");
          fn(s.volume_size_gb, "volume_size_gb");
          fn(s.max_runtime_seconds, "max_runtime_seconds");
          map(s.environment, "environment");
        } else if constexpr (std::is_same_v<T, BatchTransformJob>) {
          fn(s.model_name, "model_name");
          fn(s.input_uri, "input_uri");
          fn(s.output_uri, "output_uri");
          fn(s.instance_type, "instance_type");
          fn(s.instance_count, "instance_count");
          map(s.environment, "environment");
        } else if constexpr (std::is_same_v<T, Model>) {
          fn(s.image, "image");
          fn(s.model_data_url, "model_data_url");
          fn(s.role_arn, "role_arn");
          map(s.environment, "environment");
        } else if constexpr (std::is_same_v<T, EndpointDeployment>) {
          fn(s.endpoint_name, "endpoint_name");
          fn(s.model_name, "model_name");
          fn(s.instance_type, "instance_type");
          fn(s.initial_instance_count, "initial_instance_count");
        } else if constexpr (std::is_same_v<T, DatabricksJob>) {
          fn(s.workspace_url, "workspace_url");
          fn(s.connection_arn, "connection_arn");
          fn(s.python_file, "python_file");
          list(s.parameters, "parameters");
          fn(s.existing_cluster_id, "existing_cluster_id");
        } else if constexpr (std::is_same_v<T, WaitStep>) {
          fn(s.seconds, "seconds");
        } else if constexpr (std::is_same_v<T, ForEach>) {
          fn(s.items, "items");
        }
      },
      step.spec);
}

int IndexOf(std::string_view name, const std::vector<std::unique_ptr<Pipeline::Step>>& steps) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i]->name() == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Result<Schedule> Compiler::ScheduleOf(const Pipeline& p) {
  const auto& steps = p.steps_;
  std::vector<std::vector<int>> deps;
  std::vector<std::string> names;
  for (const auto& s : steps) {
    deps.push_back(s->after);
    names.push_back(s->name());
  }
  return BuildSchedule(static_cast<int>(steps.size()), deps, names);
}

Status Compiler::CheckNames(const Pipeline& p, bool body) {
  if (body && !p.parameters_.empty()) {
    return InvalidArgumentError(fmt::format(
        "ForEach body \"{}\" declares parameters; declare them on the outer pipeline", p.name()));
  }
  for (const auto& step : p.steps_) {
    const std::string& n = step->name();
    if (!ValidStepName(n)) {
      return InvalidArgumentError(fmt::format(
          "step name \"{}\": expected 1 to {} characters of letters, digits, space, '_', '-' and "
          "'.', not starting or ending with a space",
          n, kMaxStepName));
    }
    if (IsReserved(n)) {
      return InvalidArgumentError(fmt::format("step name \"{}\" is reserved for generated states",
                                              n));
    }
    if (!names_.insert(n).second) {
      return InvalidArgumentError(fmt::format("step \"{}\": two steps are named \"{}\"", n, n));
    }
    if (!step->errors.empty()) return InvalidArgumentError(step->errors.front());
    if (step->when && !step->when->error().empty()) {
      return InvalidArgumentError(
          fmt::format("step \"{}\": {}: {}", n, Word(kWhen), step->when->error()));
    }
    if (step->timeout_seconds && (*step->timeout_seconds < 1 || *step->timeout_seconds > 99999999)) {
      return InvalidArgumentError(fmt::format(
          "step \"{}\": {} must be 1 to 99999999, not {}", n, Word(kTimeout),
          *step->timeout_seconds));
    }
    if (const auto* f = std::get_if<ForEach>(&step->spec)) {
      if (f->body == nullptr) {
        return InvalidArgumentError(fmt::format("step \"{}\": ForEach needs a body pipeline", n));
      }
      if (f->body == &p || f->body == &pipeline_) {
        return InvalidArgumentError(fmt::format("step \"{}\": a ForEach body cannot be the "
                                                "pipeline that contains it",
                                                n));
      }
      ZFLOW_RETURN_IF_ERROR(CheckNames(*f->body, true));
    }
  }
  return Status::Ok();
}

const char* Compiler::Word(Construct c) const {
  static constexpr const char* kWords[][3] = {
      // C++, YAML, Python
      {"When()", "when:", "when="},
      {"TimeoutSeconds()", "timeout_seconds", "timeout_seconds="},
  };
  return kWords[static_cast<int>(c)][static_cast<int>(pipeline_.options_.language)];
}

std::string Compiler::AfterHint(std::string_view producer) const {
  switch (pipeline_.options_.language) {
    case AuthoringLanguage::kYaml:
      return fmt::format("add \"{}\" to its after: list", producer);
    case AuthoringLanguage::kPython:
      return fmt::format("add the step \"{}\" to its after=", producer);
    case AuthoringLanguage::kCpp:
      break;
  }
  return fmt::format("add .After(<{}>)", producer);
}

Status Compiler::CheckSteps(const Pipeline& p, const Schedule& schedule) {
  const auto& steps = p.steps_;
  ScheduleIndex order(schedule.root);
  std::map<std::string_view, int> index;
  for (std::size_t i = 0; i < steps.size(); ++i) index.emplace(steps[i]->name(), static_cast<int>(i));
  auto index_of = [&](std::string_view name) {
    auto it = index.find(name);
    return it == index.end() ? -1 : it->second;
  };
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Pipeline::Step& step = *steps[i];
    // Every step this one reads, with what reads it (for the message).
    std::vector<std::pair<std::string, std::string>> reads;
    VisitValues(step, [&](const Value& v, std::string_view field) {
      for (const auto& s : v.steps()) reads.emplace_back(s, std::string(field));
    });
    if (step.when) {
      for (const auto& s : step.when->steps()) reads.emplace_back(s, "When");
    }
    if (const auto* f = std::get_if<ForEach>(&step.spec)) {
      // Body steps read outer steps: the ForEach must run after those.
      for (const auto& b : f->body->steps_) {
        VisitValues(*b, [&](const Value& v, std::string_view field) {
          for (const auto& s : v.steps()) {
            if (IndexOf(s, f->body->steps_) < 0) {
              reads.emplace_back(s, fmt::format("body step \"{}\" {}", b->name(), field));
            }
          }
        });
      }
    }
    for (const auto& [producer_name, field] : reads) {
      int producer = index_of(producer_name);
      if (producer < 0) {
        // Inside a ForEach body, outer steps are checked at the outer level.
        if (&p != &pipeline_ && names_.count(producer_name) > 0) continue;
        return InvalidArgumentError(fmt::format(
            "step \"{}\" ({}) reads the result of \"{}\", which is not a step of this pipeline",
            step.name(), field, producer_name));
      }
      if (producer == static_cast<int>(i) ||
          !order.Precedes(producer, static_cast<int>(i))) {
        return InvalidArgumentError(fmt::format(
            "step \"{}\" ({}) reads the result of \"{}\" but does not run after it; {}",
            step.name(), field, producer_name, AfterHint(producer_name)));
      }
      const Pipeline::Step& prod = *steps[producer];
      if (std::holds_alternative<RawState>(prod.spec) && !HasResult(prod)) {
        std::string w = fmt::format(
            "step \"{}\" ({}) reads the result of the raw state \"{}\", which does not keep "
            "its result: give \"{}\" \"ResultPath\": \"{}\"",
            step.name(), field, producer_name, producer_name, StepResultPath(producer_name));
        if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) {
          warnings_.push_back(std::move(w));
        }
      }
      if (prod.when && (!step.when || step.when->text() != prod.when->text())) {
        return InvalidArgumentError(fmt::format(
            "step \"{}\" ({}) reads the result of \"{}\", which runs only when {}; give \"{}\" "
            "the same {} condition",
            step.name(), field, producer_name, prod.when->text(), step.name(), Word(kWhen)));
      }
    }
    if (const auto* f = std::get_if<ForEach>(&step.spec)) {
      ZFLOW_ASSIGN_OR_RETURN(Schedule body_schedule, ScheduleOf(*f->body));
      ZFLOW_RETURN_IF_ERROR(CheckSteps(*f->body, body_schedule));
      schedules_.emplace_back(f->body, std::move(body_schedule));
    }
  }
  return Status::Ok();
}

Result<json::value> Compiler::Compile() {
  const PipelineOptions& options = pipeline_.options_;
  if (!ValidStepName(pipeline_.name())) {
    return InvalidArgumentError(fmt::format(
        "pipeline name \"{}\": expected 1 to {} characters of letters, digits, space, '_', '-' "
        "and '.'",
        pipeline_.name(), kMaxStepName));
  }
  if (!options.schedule.empty()) {
    Status s = ValidateScheduleExpression(options.schedule);
    if (!s.ok()) {
      return InvalidArgumentError(
          fmt::format("pipeline \"{}\": schedule: {}", pipeline_.name(), s.message()));
    }
  }
  std::set<std::string> seen;
  for (const auto& param : pipeline_.parameters_) {
    if (!ValidParameterName(param.name)) {
      return InvalidArgumentError(fmt::format(
          "parameter name \"{}\": expected 1 to 128 letters, digits, '_' or '-'", param.name));
    }
    if (!seen.insert(param.name).second) {
      return InvalidArgumentError(fmt::format("two parameters are named \"{}\"", param.name));
    }
  }
  seen.clear();
  for (const auto& e : pipeline_.externals_) {
    if (!ValidExternalName(e.name)) {
      return InvalidArgumentError(fmt::format(
          "external \"{}\": expected 1 to 255 letters and digits (a CloudFormation parameter "
          "name)",
          e.name));
    }
    if (!seen.insert(e.name).second) {
      return InvalidArgumentError(fmt::format("two externals are named \"{}\"", e.name));
    }
  }
  if (options.on_failure) {
    const std::string& n = options.on_failure->name;
    if (!ValidStepName(n) || IsReserved(n) || n.empty()) {
      return InvalidArgumentError(
          fmt::format("on_failure step name \"{}\": expected 1 to {} characters of letters, "
                      "digits, space, '_', '-' and '.'",
                      n, kMaxStepName));
    }
    names_.insert(n);
  }
  ZFLOW_RETURN_IF_ERROR(CheckNames(pipeline_, false));
  ZFLOW_ASSIGN_OR_RETURN(Schedule schedule, ScheduleOf(pipeline_));
  ZFLOW_RETURN_IF_ERROR(CheckSteps(pipeline_, schedule));

  json::object states;
  // Initialize: {"params": defaults overridden by the input, "steps": {}}.
  json::object defaults;
  for (const auto& param : pipeline_.parameters_) defaults[param.name] = param.default_value;
  states[kInitialize] = json::object{
      {"Type", "Pass"},
      {"Parameters", json::object{{"input.$", "$"}, {"defaults", std::move(defaults)}}},
      {"Next", kInitializeParameters}};
  states[kInitializeParameters] = json::object{
      {"Type", "Pass"},
      {"Parameters", json::object{{"params.$", "States.JsonMerge($.defaults, $.input, false)"},
                                  {"steps", json::object()}}}};
  if (options.on_failure) handler_ = options.on_failure->name;
  Fragment init{kInitialize, {{kInitializeParameters, Exit::Kind::kNext, 0}}};
  // The input's parameters must have their declared types, or nothing runs: a number given as
  // a string would otherwise fail a comparison deep in the run, or skip a step silently.
  json::array checks;
  json::object fails;
  int index = 0;
  for (const auto& param : pipeline_.parameters_) {
    const json::value& d = param.default_value;
    const char* test = d.is_string() ? "IsString" : d.is_bool() ? "IsBoolean"
                       : d.is_number() ? "IsNumeric" : nullptr;
    if (test == nullptr) continue;
    const char* word = d.is_string() ? "a string" : d.is_bool() ? "true or false" : "a number";
    const std::string fail = fmt::format("{}{}", kInvalidParameter, ++index);
    checks.push_back(json::object{
        {"Not", json::object{{"Variable", ParameterPath(param.name)}, {test, true}}},
        {"Next", fail}});
    fails[fail] = json::object{
        {"Type", "Fail"},
        {"Error", "Pipeline.InvalidParameter"},
        {"Cause", fmt::format("parameter \"{}\" must be {} (its default is {}); the execution "
                              "input gives it another type",
                              param.name, word, ToJsonText(d))}};
  }
  if (!checks.empty()) {
    states[kInitializeParameters].as_object()["Next"] = kCheckParameters;
    states[kCheckParameters] = json::object{{"Type", "Choice"}, {"Choices", std::move(checks)}};
    for (auto& [name, state] : fails) states[name] = std::move(state);
    init.exits = {{kCheckParameters, Exit::Kind::kDefault, 0}};
  }
  Fragment body = init;
  if (!pipeline_.steps_.empty()) {
    std::vector<int> done;
    Fragment root = EmitNode(schedule.root, {&pipeline_, true}, states, done);
    body = EmitChain({init, root}, states);
  }
  Close(body, states, kDone);
  if (options.on_failure) {
    // The handler: the failed step's error is in $.error; then the execution fails with it.
    Pipeline::Step handler;
    handler.spec = *options.on_failure;
    Fragment h = EmitStepBody(handler, {&pipeline_, false}, states);
    Link(h, kPipelineFailed, states);
    // A handler that fails itself (after its retries) must not hide the error it reports: its
    // own error goes to its result and the execution fails with the original one.
    if (json::value* entry = states.if_contains(h.entry); entry != nullptr && entry->is_object() &&
                                                           !entry->as_object().contains("Catch")) {
      entry->as_object()["Catch"] = json::array{json::object{
          {"ErrorEquals", json::array{"States.ALL"}},
          {"ResultPath", StepResultPath(options.on_failure->name)},
          {"Next", kPipelineFailed}}};
    }
    states[kPipelineFailed] = json::object{
        {"Type", "Fail"}, {"ErrorPath", "$.error.Error"}, {"CausePath", "$.error.Cause"}};
  }
  if (!error_.empty()) return InvalidArgumentError(error_);
  json::object machine;
  if (!options.comment.empty()) machine["Comment"] = options.comment;
  machine["StartAt"] = kInitialize;
  machine["States"] = std::move(states);
  if (language_ == asl::QueryLanguage::kJsonata) {
    // The JSONPath machine is the one design; the JSONata one is derived from it, so both
    // compute the same data.
    Result<json::value> converted = asl::ConvertToJsonata(json::value(std::move(machine)));
    if (!converted.ok()) {
      return InvalidArgumentError(fmt::format("pipeline \"{}\": no JSONata form: {}",
                                              pipeline_.name(), converted.status().message()));
    }
    return converted;
  }
  return json::value(std::move(machine));
}

Fragment Compiler::EmitNode(const ScheduleNode& node, const Scope& scope, json::object& states,
                            std::vector<int>& done) {
  const auto& steps = scope.pipeline->steps_;
  switch (node.kind) {
    case ScheduleNode::Kind::kStep: {
      done.push_back(node.step);
      return EmitStep(*steps[node.step], scope, states);
    }
    case ScheduleNode::Kind::kSequence: {
      std::vector<Fragment> parts;
      for (const auto& c : node.children) parts.push_back(EmitNode(c, scope, states, done));
      return EmitChain(parts, states);
    }
    case ScheduleNode::Kind::kParallel: {
      std::string name = fmt::format("Parallel {}", ++parallel_count_);
      json::array branches;
      // Past 10 branches: every completed step's result, from the branch that has it.
      bool list_results = node.children.size() > 10;
      json::object merge;
      auto has_result = [&](int d) { return HasResult(*steps[d]); };
      for (int d : list_results ? done : std::vector<int>{}) {
        if (!has_result(d)) continue;
        merge[steps[d]->name() + ".$"] = fmt::format("$[0].steps['{}']", steps[d]->name());
      }
      for (std::size_t i = 0; i < node.children.size(); ++i) {
        json::object branch_states;
        std::vector<int> branch_done;
        Fragment f = EmitNode(node.children[i], {scope.pipeline, false}, branch_states,
                              branch_done);
        Close(f, branch_states, fmt::format("{} branch {} done", name, i + 1));
        branches.push_back(
            json::object{{"StartAt", f.entry}, {"States", std::move(branch_states)}});
        for (int d : branch_done) {
          if (list_results && has_result(d)) {
            merge[steps[d]->name() + ".$"] = fmt::format("$[{}].steps['{}']", i, steps[d]->name());
          }
          done.push_back(d);
        }
      }
      // Each branch returns the whole data. Up to 10 branches, the steps objects are merged
      // with nested States.JsonMerge (AWS allows 10 nested intrinsic calls), so the state's
      // size does not grow with the number of earlier steps; beyond that, every step's result
      // is picked from the branch that has it.
      json::object s{{"Type", "Parallel"}, {"Branches", std::move(branches)}};
      if (!list_results) {
        std::string merged = "$[0].steps";
        for (std::size_t i = 1; i < node.children.size(); ++i) {
          merged = fmt::format("States.JsonMerge({}, $[{}].steps, false)", merged, i);
        }
        json::object selector{{"params.$", "$[0].params"}, {"steps.$", merged}};
        if (scope.pipeline != &pipeline_) selector["item.$"] = "$[0].item";
        s["ResultSelector"] = std::move(selector);
        s["ResultPath"] = "$";
      } else {
        s["ResultSelector"] = std::move(merge);
        s["ResultPath"] = "$.steps";
      }
      Fragment out{name, {{name, Exit::Kind::kNext, 0}}};
      if (scope.root && !handler_.empty()) {
        s["Catch"] = json::array{json::object{
            {"ErrorEquals", json::array{"States.ALL"}}, {"ResultPath", "$.error"},
            {"Next", handler_}}};
      }
      states[name] = std::move(s);
      return out;
    }
  }
  return {};
}

Fragment Compiler::EmitChain(const std::vector<Fragment>& parts, json::object& states) {
  Fragment out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i == 0) {
      out.entry = parts[i].entry;
    } else {
      if (parts[i - 1].exits.empty()) {
        Fail(fmt::format("\"{}\" comes after \"{}\", which always ends the execution; give the "
                         "failing step a {} condition",
                         parts[i].entry, parts[i - 1].entry, Word(kWhen)));
      }
      Link(parts[i - 1], parts[i].entry, states);
    }
    out.exits = parts[i].exits;
  }
  return out;
}

void Compiler::Link(const Fragment& from, const std::string& to, json::object& states) {
  for (const Exit& e : from.exits) {
    json::object& s = states[e.state].as_object();
    switch (e.kind) {
      case Exit::Kind::kNext:
        s["Next"] = to;
        break;
      case Exit::Kind::kDefault:
        s["Default"] = to;
        break;
      case Exit::Kind::kChoiceRule:
        s["Choices"].as_array()[e.index].as_object()["Next"] = to;
        break;
      case Exit::Kind::kCatch:
        s["Catch"].as_array()[e.index].as_object()["Next"] = to;
        break;
    }
  }
}

void Compiler::Close(Fragment& f, json::object& states, const std::string& join_name) {
  bool plain = std::all_of(f.exits.begin(), f.exits.end(),
                           [](const Exit& e) { return e.kind == Exit::Kind::kNext; });
  if (plain) {
    for (const Exit& e : f.exits) states[e.state].as_object()["End"] = true;
    return;
  }
  Link(f, join_name, states);
  states[join_name] = json::object{{"Type", "Pass"}, {"End", true}};
  f.exits = {};
}

Fragment Compiler::EmitStep(const Pipeline::Step& step, const Scope& scope,
                            json::object& states) {
  if (!step.when) return EmitStepBody(step, scope, states);
  // Reserve the Choice's place before the step's own states, so the file reads top-down.
  std::string choice = step.name() + "?";
  states[choice] = json::object{{"Type", "Choice"}};
  Fragment body = EmitStepBody(step, scope, states);
  json::object rule = step.when->rule().as_object();
  rule["Next"] = body.entry;
  std::string skipped = step.name() + ": skipped";
  json::object& c = states[choice].as_object();
  c["Choices"] = json::array{std::move(rule)};
  c["Default"] = skipped;
  // A skipped step's result is null, so the data keeps its shape for later steps.
  json::object skip{{"Type", "Pass"}};
  if (HasResult(step)) {
    skip["Result"] = nullptr;
    skip["ResultPath"] = StepResultPath(step.name());
  }
  states[skipped] = std::move(skip);
  Fragment out{choice, body.exits};
  out.exits.push_back({skipped, Exit::Kind::kNext, 0});
  return out;
}

bool HasResult(const Pipeline::Step& step) {
  if (std::holds_alternative<WaitStep>(step.spec) || std::holds_alternative<FailStep>(step.spec)) {
    return false;
  }
  if (const auto* r = std::get_if<RawState>(&step.spec)) {
    const json::object* o = r->state.if_object();
    if (o == nullptr) return false;
    const json::value* rp = o->if_contains("ResultPath");
    return rp != nullptr && rp->is_string() && rp->as_string() == StepResultPath(step.name());
  }
  return true;
}

}  // namespace zflow::pipeline
