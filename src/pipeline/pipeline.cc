// The Pipeline API's bookkeeping (steps, parameters, externals) and Compile(): the checks and
// the ASL emission (steps.cc emits each step kind).
#include "zflow/pipeline.h"

#include <algorithm>
#include <array>
#include <variant>
#include <set>

#include <fmt/format.h>

#include "pipeline/compiler.h"
#include "zflow/asl_parser.h"
#include "zflow/validator.h"

namespace zflow {

StepRef& StepRef::After(const StepRef& other) {
  auto& after = pipeline_->steps_[index_]->after;
  if (other.pipeline_ != pipeline_) {
    pipeline_->steps_[index_]->errors.push_back(fmt::format(
        "step \"{}\" cannot run after \"{}\": that step belongs to another pipeline",
        name(), other.name()));
    return *this;
  }
  if (std::find(after.begin(), after.end(), other.index_) == after.end()) {
    after.push_back(other.index_);
  }
  return *this;
}

StepRef& StepRef::Retry(RetryPolicy policy) {
  pipeline_->steps_[index_]->retry = std::move(policy);
  return *this;
}

StepRef& StepRef::TimeoutSeconds(int seconds) {
  pipeline_->steps_[index_]->timeout_seconds = seconds;
  return *this;
}

StepRef& StepRef::When(Condition condition) {
  pipeline_->steps_[index_]->when = std::move(condition);
  return *this;
}

StepRef& StepRef::ContinueOnFailure(std::vector<std::string> errors) {
  pipeline_->steps_[index_]->continue_on_failure = std::move(errors);
  return *this;
}

Value StepRef::Output(std::string_view path) const {
  const std::string& step = name();
  std::string expr = pipeline::StepResultPath(step);
  if (!path.empty()) {
    if (path.front() != '[') expr.push_back('.');
    expr.append(path);
  }
  return Value::Expression(std::move(expr), ValueType::kAny, {step});
}

StringValue StepRef::ModelArtifacts() const {
  const auto& spec = pipeline_->steps_[index_]->spec;
  if (std::holds_alternative<HyperparameterTuningJob>(spec)) return Output("BestModelArtifacts");
  return Output("ModelArtifacts.S3ModelArtifacts");
}

NumberValue StepRef::Metric(std::string_view metric) const {
  Pipeline::Step& step = *pipeline_->steps_[index_];
  const auto* training = std::get_if<TrainingJob>(&step.spec);
  if (training == nullptr) {
    step.errors.push_back(fmt::format("Metric(\"{}\"): only a training step reports metrics",
                                      metric));
  } else if (std::none_of(training->metric_definitions.begin(),
                          training->metric_definitions.end(),
                          [&](const MetricDefinition& m) { return m.name == metric; })) {
    step.errors.push_back(fmt::format(
        "Metric(\"{}\"): the step has no metric definition of that name", metric));
  }
  return NumberValue(Output(fmt::format("Metrics['{}']", metric)));
}

const std::string& StepRef::name() const { return pipeline_->steps_[index_]->name(); }

const std::string& Pipeline::Step::name() const {
  return std::visit([](const auto& s) -> const std::string& { return s.name; }, spec);
}

Pipeline::Pipeline(std::string name, PipelineOptions options)
    : name_(std::move(name)), options_(std::move(options)) {}
Pipeline::~Pipeline() = default;

json::value Pipeline::StepGraph() const {
  // In the order of Step::spec's alternatives.
  static constexpr std::array<const char*, 13> kKinds = {
      "lambda", "training", "processing", "transform", "tuning", "model",   "endpoint",
      "databricks", "wait", "pass",     "fail",       "state",  "for_each"};
  static_assert(std::variant_size_v<decltype(Step::spec)> == kKinds.size());
  json::array steps;
  for (const auto& step : steps_) {
    json::array after;
    for (int i : step->after) after.emplace_back(steps_[static_cast<std::size_t>(i)]->name());
    json::object entry{{"name", step->name()},
                       {"kind", kKinds[step->spec.index()]},
                       {"after", std::move(after)}};
    if (step->when) entry["conditional"] = true;
    if (const auto* each = std::get_if<ForEach>(&step->spec); each != nullptr && each->body) {
      entry["body"] = each->body->StepGraph();
    }
    steps.emplace_back(std::move(entry));
  }
  json::object graph{{"pipeline", name_}, {"steps", std::move(steps)}};
  if (!options_.schedule.empty()) graph["schedule"] = options_.schedule;
  if (!options_.comment.empty()) graph["comment"] = options_.comment;
  return graph;
}

namespace {
Value ParameterValue(const std::string& name, ValueType type) {
  return Value::Expression(pipeline::ParameterPath(name), type);
}
}  // namespace

StringValue Pipeline::Parameter(std::string name, const char* default_value) {
  return Parameter(std::move(name), std::string(default_value));
}
StringValue Pipeline::Parameter(std::string name, std::string default_value) {
  Value v = ParameterValue(name, ValueType::kString);
  parameters_.push_back({std::move(name), json::value(std::move(default_value))});
  return StringValue(v);
}
NumberValue Pipeline::Parameter(std::string name, double default_value) {
  Value v = ParameterValue(name, ValueType::kNumber);
  parameters_.push_back({std::move(name), json::value(default_value)});
  return NumberValue(v);
}
NumberValue Pipeline::Parameter(std::string name, int default_value) {
  Value v = ParameterValue(name, ValueType::kNumber);
  parameters_.push_back({std::move(name), json::value(default_value)});
  return NumberValue(v);
}
BoolValue Pipeline::Parameter(std::string name, bool default_value) {
  Value v = ParameterValue(name, ValueType::kBoolean);
  parameters_.push_back({std::move(name), json::value(default_value)});
  return BoolValue(v);
}

StringValue Pipeline::External(std::string name, std::string description,
                               std::string local_value) {
  StringValue v(fmt::format("${{{}}}", name));
  externals_.push_back({std::move(name), std::move(description), std::move(local_value)});
  return v;
}

Value Pipeline::Item() const { return Value::Expression("$.item", ValueType::kAny); }

StepRef Pipeline::AddStep(std::unique_ptr<Step> step) {
  steps_.push_back(std::move(step));
  return StepRef(this, static_cast<int>(steps_.size()) - 1);
}

#define ZFLOW_ADD_STEP(Kind)                \
  StepRef Pipeline::Add(Kind step) {        \
    auto s = std::make_unique<Step>();      \
    s->spec = std::move(step);              \
    return AddStep(std::move(s));           \
  }
ZFLOW_ADD_STEP(LambdaFunction)
ZFLOW_ADD_STEP(TrainingJob)
ZFLOW_ADD_STEP(ProcessingJob)
ZFLOW_ADD_STEP(BatchTransformJob)
ZFLOW_ADD_STEP(HyperparameterTuningJob)
ZFLOW_ADD_STEP(Model)
ZFLOW_ADD_STEP(EndpointDeployment)
ZFLOW_ADD_STEP(DatabricksJob)
ZFLOW_ADD_STEP(WaitStep)
ZFLOW_ADD_STEP(PassStep)
ZFLOW_ADD_STEP(FailStep)
ZFLOW_ADD_STEP(RawState)
ZFLOW_ADD_STEP(ForEach)
#undef ZFLOW_ADD_STEP

std::vector<std::string> Pipeline::ParameterNames() const {
  std::vector<std::string> names;
  for (const Parameter_& p : parameters_) names.push_back(p.name);
  return names;
}

Result<json::value> Pipeline::CompileJson() const {
  pipeline::Compiler compiler(*this, options_.query_language);
  return compiler.Compile();
}

Result<asl::StateMachine> Pipeline::Compile(const CompileLimits& options) const {
  ZFLOW_ASSIGN_OR_RETURN(Compiled c, CompileAll(options));
  return std::move(c.machine);
}

Result<Pipeline::Compiled> Pipeline::CompileAll(const CompileLimits& options) const {
  pipeline::Compiler compiler(*this, options.query_language.value_or(options_.query_language));
  ZFLOW_ASSIGN_OR_RETURN(json::value definition, compiler.Compile());
  // Validate what AWS validates: the definition after CloudFormation has substituted the
  // externals' "${Name}" placeholders (here with their local values).
  json::value substituted;
  bool has_placeholders = SubstituteLocal(definition, *this, substituted);
  asl::ParseReport checked = asl::ParseStateMachineValue(has_placeholders ? substituted : definition);
  std::vector<Diagnostic> diagnostics = checked.diagnostics;
  if (checked.machine && !HasErrors(diagnostics)) {
    diagnostics = asl::ValidateStateMachine(*checked.machine);
  }
  std::size_t size = checked.machine && !HasErrors(diagnostics)
                         ? ToJsonText(has_placeholders ? substituted : definition).size()
                         : 0;
  if (size > options.max_definition_bytes) {
    return InvalidArgumentError(fmt::format(
        "pipeline \"{}\": the definition is {} bytes; AWS Step Functions accepts at most {} "
        "bytes. Split it into nested state machines or move data out of it",
        name_, size, options.max_definition_bytes));
  }
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != Severity::kError) continue;
    // Raw states and values are the user's ASL: their mistakes are input errors.
    return InvalidArgumentError(fmt::format("pipeline \"{}\": the compiled state machine is not "
                                            "valid: {} at {}",
                                            name_, d.message, d.pointer));
  }
  if (!has_placeholders) {
    return Compiled{std::move(definition), std::move(*checked.machine), compiler.warnings()};
  }
  asl::ParseReport parsed = asl::ParseStateMachineValue(definition);
  if (!parsed.machine || HasErrors(parsed.diagnostics)) {
    return InternalError("the compiled pipeline does not parse: " +
                         (parsed.diagnostics.empty() ? std::string("?")
                                                     : parsed.diagnostics[0].message));
  }
  return Compiled{std::move(definition), std::move(*parsed.machine), compiler.warnings(),
                  std::move(*checked.machine)};
}

namespace {

// Replaces every "${Name}" of an external in `s` with its local value; false when none was there.
bool SubstituteString(std::string& s, const Pipeline& pipeline) {
  bool changed = false;
  for (const auto& e : pipeline.externals()) {
    std::string placeholder = fmt::format("${{{}}}", e.name);
    const std::string& value = e.local_value.empty() ? e.name : e.local_value;
    for (std::size_t pos = s.find(placeholder); pos != std::string::npos;
         pos = s.find(placeholder, pos + value.size())) {
      s.replace(pos, placeholder.size(), value);
      changed = true;
    }
  }
  return changed;
}

bool SubstituteTree(json::value& v, const Pipeline& pipeline) {
  bool changed = false;
  if (v.is_string()) {
    if (v.as_string().find("${") == json::string::npos) return false;
    std::string s(v.as_string());
    if (SubstituteString(s, pipeline)) {
      v = json::value(s);
      return true;
    }
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) changed = SubstituteTree(item, pipeline) || changed;
  } else if (v.is_object()) {
    for (auto& [k, item] : v.as_object()) changed = SubstituteTree(item, pipeline) || changed;
  }
  return changed;
}

}  // namespace

bool SubstituteLocal(const json::value& definition, const Pipeline& pipeline, json::value& out) {
  if (pipeline.externals().empty()) return false;
  out = definition;
  return SubstituteTree(out, pipeline);
}

std::string SubstituteLocal(std::string_view definition, const Pipeline& pipeline) {
  std::string out(definition);
  for (const auto& e : pipeline.externals()) {
    std::string placeholder = fmt::format("${{{}}}", e.name);
    // The local value goes into JSON strings: escape it as JSON string content.
    // An empty local value would leave some fields empty: stand in with the name.
    std::string quoted = ToJsonText(json::value(e.local_value.empty() ? e.name : e.local_value));
    std::string content = quoted.substr(1, quoted.size() - 2);
    for (std::size_t pos = out.find(placeholder); pos != std::string::npos;
         pos = out.find(placeholder, pos + content.size())) {
      out.replace(pos, placeholder.size(), content);
    }
  }
  return out;
}

}  // namespace zflow
