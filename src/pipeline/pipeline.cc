// Compiles a Pipeline to ASL: validate the steps, schedule the DAG (schedule.h), emit states.
#include "zflow/pipeline.h"

#include <algorithm>
#include <set>
#include <variant>

#include <fmt/format.h>

#include "pipeline/schedule.h"
#include "zflow/asl_parser.h"
#include "zflow/validator.h"

namespace zflow {

struct Pipeline::Step {
  std::variant<LambdaFunction, TrainingJob, WaitStep, PassStep> spec;
  std::vector<int> after;
  std::optional<RetryPolicy> retry;
  std::optional<int> timeout_seconds;

  const std::string& name() const {
    return std::visit([](const auto& s) -> const std::string& { return s.name; }, spec);
  }
};

StepRef& StepRef::After(const StepRef& other) {
  auto& after = pipeline_->steps_[index_]->after;
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

Value StepRef::Output(std::string_view path) const {
  const std::string& step = name();
  return Value::Reference(fmt::format("$.steps['{}'].{}", step, path), step);
}

const std::string& StepRef::name() const { return pipeline_->steps_[index_]->name(); }

Pipeline::Pipeline(std::string name, PipelineOptions options)
    : name_(std::move(name)), options_(std::move(options)) {}
Pipeline::~Pipeline() = default;

Value Pipeline::Parameter(std::string name, std::string default_value) {
  std::string path = fmt::format("$.params['{}']", name);
  parameters_.emplace_back(std::move(name), std::move(default_value));
  return Value::Reference(std::move(path));
}

StepRef Pipeline::AddStep(std::unique_ptr<Step> step) {
  steps_.push_back(std::move(step));
  return StepRef(this, static_cast<int>(steps_.size()) - 1);
}

StepRef Pipeline::Add(LambdaFunction step) {
  auto s = std::make_unique<Step>();
  s->spec = std::move(step);
  return AddStep(std::move(s));
}
StepRef Pipeline::Add(TrainingJob step) {
  auto s = std::make_unique<Step>();
  s->spec = std::move(step);
  return AddStep(std::move(s));
}
StepRef Pipeline::Add(WaitStep step) {
  auto s = std::make_unique<Step>();
  s->spec = std::move(step);
  return AddStep(std::move(s));
}
StepRef Pipeline::Add(PassStep step) {
  auto s = std::make_unique<Step>();
  s->spec = std::move(step);
  return AddStep(std::move(s));
}

namespace {

// Sets `key` in `o` to a literal, or `key.$` to the reference's path.
void Put(json::object& o, const std::string& key, const Value& v) {
  if (v.is_reference()) {
    o[key + ".$"] = v.text();
  } else {
    o[key] = v.text();
  }
}

class Emitter {
 public:
  Emitter(const std::vector<std::unique_ptr<Pipeline::Step>>& steps,
          const PipelineOptions& options)
      : steps_(steps), options_(options) {}

  // Emits `node` into `states`, chaining from `*last` (the name of the previous state, whose
  // "Next" is set here). `done` lists steps whose results are in $.steps so far.
  void Emit(const pipeline::ScheduleNode& node, json::object& states, std::string* last,
            std::vector<int>& done) {
    switch (node.kind) {
      case pipeline::ScheduleNode::Kind::kStep: {
        const Pipeline::Step& step = *steps_[node.step];
        Link(states, last, step.name());
        states[step.name()] = StepState(step);
        done.push_back(node.step);
        return;
      }
      case pipeline::ScheduleNode::Kind::kSequence:
        for (const auto& c : node.children) Emit(c, states, last, done);
        return;
      case pipeline::ScheduleNode::Kind::kParallel: {
        std::string name = fmt::format("Parallel {}", ++parallel_count_);
        Link(states, last, name);
        json::array branches;
        json::object merge;  // every completed step's result, from the branch that has it
        for (int d : done) {
          if (!HasResult(*steps_[d])) continue;
          merge[steps_[d]->name() + ".$"] = fmt::format("$[0].steps['{}']", steps_[d]->name());
        }
        for (std::size_t i = 0; i < node.children.size(); ++i) {
          json::object branch_states;
          std::string branch_last;
          std::vector<int> branch_done;
          Emit(node.children[i], branch_states, &branch_last, branch_done);
          branch_states[branch_last].as_object()["End"] = true;
          // States are inserted in execution order, so the first one is where the branch starts.
          std::string start(branch_states.begin()->key());
          branches.push_back(json::object{{"StartAt", start}, {"States", std::move(branch_states)}});
          for (int d : branch_done) {
            if (HasResult(*steps_[d])) {
              merge[steps_[d]->name() + ".$"] =
                  fmt::format("$[{}].steps['{}']", i, steps_[d]->name());
            }
            done.push_back(d);
          }
        }
        // Each branch returns the whole data; keep params, merge the steps' results.
        states[name] = json::object{{"Type", "Parallel"},
                                    {"Branches", std::move(branches)},
                                    {"ResultSelector", std::move(merge)},
                                    {"ResultPath", "$.steps"}};
        *last = name;
        return;
      }
    }
  }

  static bool HasResult(const Pipeline::Step& step) {
    return !std::holds_alternative<WaitStep>(step.spec);
  }

  void Link(json::object& states, std::string* last, const std::string& next) {
    if (!last->empty()) states[*last].as_object()["Next"] = next;
    *last = next;
  }

  json::value StepState(const Pipeline::Step& step) {
    json::object s;
    std::string result_path = fmt::format("$.steps['{}']", step.name());
    bool is_task = false;
    if (const auto* l = std::get_if<LambdaFunction>(&step.spec)) {
      json::object payload;
      for (const auto& [k, v] : l->payload) Put(payload, k, v);
      s = json::object{{"Type", "Task"},
                       {"Resource", "arn:aws:states:::lambda:invoke"},
                       {"Parameters", json::object{{"FunctionName", l->function_name},
                                                   {"Payload", std::move(payload)}}},
                       {"ResultSelector", json::object{{"Payload.$", "$.Payload"}}},
                       {"ResultPath", result_path}};
      is_task = true;
    } else if (const auto* t = std::get_if<TrainingJob>(&step.spec)) {
      json::object hyper;
      for (const auto& [k, v] : t->hyperparameters) Put(hyper, k, v);
      json::array channels;
      for (const auto& [channel, uri] : t->channels) {
        json::object s3{{"S3DataType", "S3Prefix"}, {"S3DataDistributionType", "FullyReplicated"}};
        Put(s3, "S3Uri", uri);
        channels.push_back(json::object{{"ChannelName", channel},
                                        {"DataSource", json::object{{"S3DataSource", s3}}}});
      }
      json::object output;
      Put(output, "S3OutputPath", t->output_path);
      // Job names are unique per execution and at most 63 characters.
      std::string prefix = step.name().substr(0, 26);
      s = json::object{
          {"Type", "Task"},
          {"Resource", "arn:aws:states:::sagemaker:createTrainingJob.sync"},
          {"Parameters",
           json::object{
               {"TrainingJobName.$",
                fmt::format("States.Format('{}-{{}}', $$.Execution.Name)", Escape(prefix))},
               {"AlgorithmSpecification",
                json::object{{"TrainingImage", t->image}, {"TrainingInputMode", "File"}}},
               {"RoleArn", t->role_arn},
               {"HyperParameters", std::move(hyper)},
               {"InputDataConfig", std::move(channels)},
               {"OutputDataConfig", std::move(output)},
               {"ResourceConfig", json::object{{"InstanceCount", t->instance_count},
                                               {"InstanceType", t->instance_type},
                                               {"VolumeSizeInGB", t->volume_size_gb}}},
               {"StoppingCondition",
                json::object{{"MaxRuntimeInSeconds", t->max_runtime_seconds}}}}},
          {"ResultSelector", json::object{{"TrainingJobName.$", "$.TrainingJobName"},
                                          {"ModelArtifacts.$", "$.ModelArtifacts"}}},
          {"ResultPath", result_path}};
      is_task = true;
    } else if (const auto* w = std::get_if<WaitStep>(&step.spec)) {
      s = json::object{{"Type", "Wait"}, {"Seconds", w->seconds}};
    } else if (const auto* p = std::get_if<PassStep>(&step.spec)) {
      s = json::object{{"Type", "Pass"}, {"Result", p->result}, {"ResultPath", result_path}};
    }
    if (is_task) {
      std::optional<int> timeout = step.timeout_seconds ? step.timeout_seconds
                                                        : options_.default_timeout_seconds;
      if (timeout) s["TimeoutSeconds"] = *timeout;
      const std::optional<RetryPolicy>& retry = step.retry ? step.retry : options_.default_retry;
      if (retry) {
        json::array errors;
        for (const auto& e : retry->errors) errors.emplace_back(e);
        s["Retry"] = json::array{json::object{{"ErrorEquals", std::move(errors)},
                                              {"IntervalSeconds", retry->interval_seconds},
                                              {"MaxAttempts", retry->max_attempts},
                                              {"BackoffRate", retry->backoff_rate}}};
      }
    }
    return s;
  }

 private:
  // Intrinsic string literals escape ' { } and backslash.
  static std::string Escape(std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '\'' || c == '{' || c == '}' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  }

  const std::vector<std::unique_ptr<Pipeline::Step>>& steps_;
  const PipelineOptions& options_;
  int parallel_count_ = 0;
};

// Every reference in the step's fields, for the "runs after" check.
std::vector<const Value*> References(const Pipeline::Step& step) {
  std::vector<const Value*> out;
  auto add_map = [&](const std::map<std::string, Value>& m) {
    for (const auto& [k, v] : m) out.push_back(&v);
  };
  if (const auto* l = std::get_if<LambdaFunction>(&step.spec)) add_map(l->payload);
  if (const auto* t = std::get_if<TrainingJob>(&step.spec)) {
    add_map(t->hyperparameters);
    add_map(t->channels);
    out.push_back(&t->output_path);
  }
  return out;
}

}  // namespace

Result<json::value> Pipeline::CompileJson() const {
  // Names and required fields.
  std::set<std::string> names;
  std::vector<std::string> step_names;
  for (const auto& step : steps_) {
    const std::string& n = step->name();
    if (n.empty() || n.size() > 80) {
      return InvalidArgumentError(fmt::format(
          "pipeline \"{}\": step name \"{}\" must be 1 to 80 characters", name_, n));
    }
    if (n.starts_with("Parallel ") || n == "Initialize") {
      return InvalidArgumentError(fmt::format("step name \"{}\" is reserved", n));
    }
    if (!names.insert(n).second) {
      return InvalidArgumentError(fmt::format("two steps are named \"{}\"", n));
    }
    step_names.push_back(n);
    if (const auto* l = std::get_if<LambdaFunction>(&step->spec); l && l->function_name.empty()) {
      return InvalidArgumentError(fmt::format("step \"{}\": function_name is required", n));
    }
    if (const auto* t = std::get_if<TrainingJob>(&step->spec)) {
      if (t->image.empty() || t->role_arn.empty() || t->output_path.text().empty()) {
        return InvalidArgumentError(
            fmt::format("step \"{}\": a TrainingJob needs image, role_arn and output_path", n));
      }
    }
  }
  std::vector<std::vector<int>> deps;
  for (const auto& step : steps_) deps.push_back(step->after);
  ZFLOW_ASSIGN_OR_RETURN(pipeline::Schedule schedule,
                         pipeline::BuildSchedule(static_cast<int>(steps_.size()), deps,
                                                 step_names));
  // A step may only read results of steps that finish before it starts.
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    for (const Value* v : References(*steps_[i])) {
      if (v->step().empty()) continue;
      auto it = std::find(step_names.begin(), step_names.end(), v->step());
      if (it == step_names.end()) {
        return InvalidArgumentError(fmt::format(
            "step \"{}\" reads the result of \"{}\", which is not a step of this pipeline",
            step_names[i], v->step()));
      }
      int producer = static_cast<int>(it - step_names.begin());
      if (!pipeline::Precedes(schedule.root, producer, static_cast<int>(i))) {
        return InvalidArgumentError(fmt::format(
            "step \"{}\" reads the result of \"{}\" but does not run after it; add "
            ".After(<{}>)",
            step_names[i], v->step(), v->step()));
      }
    }
  }

  json::object states;
  // Initialize: {"params": defaults overridden by the input, "steps": {}}.
  json::object defaults;
  for (const auto& [k, v] : parameters_) defaults[k] = v;
  states["Initialize"] = json::object{
      {"Type", "Pass"},
      {"Parameters", json::object{{"input.$", "$"}, {"defaults", std::move(defaults)}}},
      {"Next", "Initialize parameters"}};
  std::string last = "Initialize parameters";
  states[last] = json::object{
      {"Type", "Pass"},
      {"Parameters", json::object{{"params.$", "States.JsonMerge($.defaults, $.input, false)"},
                                  {"steps", json::object()}}}};
  Emitter emitter(steps_, options_);
  std::vector<int> done;
  if (!steps_.empty()) emitter.Emit(schedule.root, states, &last, done);
  states[last].as_object()["End"] = true;
  json::object machine;
  if (!options_.comment.empty()) machine["Comment"] = options_.comment;
  machine["StartAt"] = "Initialize";
  machine["States"] = std::move(states);
  return json::value(std::move(machine));
}

Result<asl::StateMachine> Pipeline::Compile() const {
  ZFLOW_ASSIGN_OR_RETURN(json::value definition, CompileJson());
  asl::ParseReport parsed = asl::ParseStateMachineValue(definition);
  if (!parsed.machine || HasErrors(parsed.diagnostics)) {
    return InternalError("the compiled pipeline is not valid ASL: " +
                         (parsed.diagnostics.empty() ? std::string("?")
                                                     : parsed.diagnostics[0].message));
  }
  std::vector<Diagnostic> diagnostics = asl::ValidateStateMachine(*parsed.machine);
  if (HasErrors(diagnostics)) {
    return InternalError(fmt::format("the compiled pipeline is not valid ASL: {} at {}",
                                     diagnostics[0].message, diagnostics[0].pointer));
  }
  return std::move(*parsed.machine);
}

}  // namespace zflow
