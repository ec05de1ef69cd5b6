// Emission of each step kind: the Task states (and the small loops) that call the AWS APIs, with
// request shapes as in the SageMaker, Lambda, HTTP (Databricks Jobs API) integrations.
#include <algorithm>

#include <fmt/format.h>

#include "pipeline/compiler.h"

namespace zflow::pipeline {
namespace {


std::string QuoteIntrinsic(std::string_view s) { return "'" + EscapeIntrinsicText(s) + "'"; }

// A SageMaker-valid name prefix from a step name: letters, digits and '-', at most `max` long.
std::string NamePrefix(std::string_view step, std::size_t max) {
  std::string out;
  for (char c : step) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
    if (out.size() == max) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.empty()) out = "step";
  return out;
}

// "<prefix>-<execution name>": unique per execution, within SageMaker's 63 characters (an
// execution name is at most 80, a generated one 36).
std::string UniqueJobName(std::string_view step) {
  // The prefix has only letters, digits and '-': nothing to escape.
  return fmt::format("States.Format('{}-{{}}', $$.Execution.Name)", NamePrefix(step, 26));
}

json::array TagList(const std::map<std::string, std::string>& tags) {
  json::array out;
  for (const auto& [k, v] : tags) out.push_back(json::object{{"Key", k}, {"Value", v}});
  return out;
}

json::object RetryObject(const RetryPolicy& r) {
  json::array errors;
  for (const auto& e : r.errors) errors.emplace_back(e);
  json::object o{{"ErrorEquals", std::move(errors)},
                 {"IntervalSeconds", r.interval_seconds},
                 {"MaxAttempts", r.max_attempts},
                 {"BackoffRate", r.backoff_rate}};
  if (r.max_delay_seconds) o["MaxDelaySeconds"] = *r.max_delay_seconds;
  if (r.jitter) o["JitterStrategy"] = "FULL";
  return o;
}

bool CoversAll(const std::vector<std::string>& errors) {
  return std::find(errors.begin(), errors.end(), "States.ALL") != errors.end();
}

}  // namespace

void Compiler::Put(json::object& o, std::string_view key, const Value& v, ValueType type,
                   const Pipeline::Step& step, std::string_view field) {
  if (type != ValueType::kAny && v.type() != ValueType::kAny && v.type() != type) {
    Fail(fmt::format("step \"{}\": {} must be {}, not {}", step.name(), field, TypeWord(type),
                     TypeWord(v.type())));
    return;
  }
  if (v.is_expression()) {
    o[std::string(key) + ".$"] = v.expression();
  } else {
    o[key] = v.literal();
  }
}

void Compiler::PutArray(json::object& o, std::string_view key,
                        const std::vector<StringValue>& values, const Pipeline::Step& step,
                        std::string_view field) {
  bool literal = std::all_of(values.begin(), values.end(),
                             [](const Value& v) { return v.is_literal(); });
  if (literal) {
    json::array a;
    for (const auto& v : values) {
      if (v.type() != ValueType::kString) {
        Fail(fmt::format("step \"{}\": {} holds strings, not {}", step.name(), field,
                         TypeWord(v.type())));
      }
      a.push_back(v.literal());
    }
    o[key] = std::move(a);
    return;
  }
  // A payload template cannot put a path inside an array: build it with States.Array.
  std::string expr = "States.Array(";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) expr += ", ";
    const Value& v = values[i];
    if (v.is_expression()) {
      expr += v.expression();
    } else if (v.literal().is_string()) {
      expr += QuoteIntrinsic(v.literal().as_string());
    } else {
      expr += ToJsonText(v.literal());
    }
  }
  expr += ")";
  o[std::string(key) + ".$"] = std::move(expr);
}

void Compiler::Require(const Value& v, const Pipeline::Step& step, std::string_view field) {
  if (v.empty()) Fail(fmt::format("step \"{}\": {} is required", step.name(), field));
}

void Compiler::AddCatchers(const Pipeline::Step& step, const Scope& scope,
                           const std::string& state, json::object& s, std::vector<Exit>& exits) {
  json::array catchers;
  if (const json::value* existing = s.if_contains("Catch")) catchers = existing->as_array();
  bool all = false;
  for (const auto& c : catchers) {
    for (const auto& e : c.at("ErrorEquals").as_array()) all = all || e == "States.ALL";
  }
  if (step.continue_on_failure && !all) {
    json::array errors;
    for (const auto& e : *step.continue_on_failure) errors.emplace_back(e);
    exits.push_back({state, Exit::Kind::kCatch, static_cast<int>(catchers.size())});
    catchers.push_back(json::object{{"ErrorEquals", std::move(errors)},
                                    {"ResultPath", StepResultPath(step.name())}});
    all = CoversAll(*step.continue_on_failure);
  }
  if (scope.root && !handler_.empty() && !all) {
    catchers.push_back(json::object{{"ErrorEquals", json::array{"States.ALL"}},
                                    {"ResultPath", "$.error"},
                                    {"Next", handler_}});
  }
  if (!catchers.empty()) s["Catch"] = std::move(catchers);
}

json::object Compiler::TaskState(const Pipeline::Step& step, const Scope& scope,
                                 std::string resource, json::object parameters,
                                 json::value result_selector) {
  json::object s{{"Type", "Task"}, {"Resource", std::move(resource)},
                 {"Parameters", std::move(parameters)}};
  if (!result_selector.is_null()) s["ResultSelector"] = std::move(result_selector);
  s["ResultPath"] = StepResultPath(step.name());
  const PipelineOptions& options = pipeline_.options_;
  std::optional<int> timeout =
      step.timeout_seconds ? step.timeout_seconds : options.default_timeout_seconds;
  if (timeout) s["TimeoutSeconds"] = *timeout;
  const std::optional<RetryPolicy>& retry = step.retry ? step.retry : options.default_retry;
  if (retry) s["Retry"] = json::array{RetryObject(*retry)};
  return s;
}

void Compiler::FailState(const Scope& scope, const std::string& name, std::string error,
                         json::value cause, bool cause_is_path, json::object& states) {
  if (scope.root && !handler_.empty()) {
    json::object record{{"Error", std::move(error)}};
    record[cause_is_path ? "Cause.$" : "Cause"] = std::move(cause);
    states[name] = json::object{{"Type", "Pass"},
                                {"Parameters", std::move(record)},
                                {"ResultPath", "$.error"},
                                {"Next", handler_}};
    return;
  }
  json::object f{{"Type", "Fail"}, {"Error", std::move(error)}};
  f[cause_is_path ? "CausePath" : "Cause"] = std::move(cause);
  states[name] = std::move(f);
}

Fragment Compiler::EmitStepBody(const Pipeline::Step& step, const Scope& scope,
                                json::object& states) {
  const std::string& name = step.name();
  const std::map<std::string, std::string>& tags = pipeline_.options_.tags;
  // A single Task state with the usual catchers.
  auto single = [&](json::object s) {
    Fragment f{name, {{name, Exit::Kind::kNext, 0}}};
    AddCatchers(step, scope, name, s, f.exits);
    states[name] = std::move(s);
    return f;
  };
  auto put_map = [&](json::object& o, std::string_view key,
                     const std::map<std::string, StringValue>& m, std::string_view field) {
    json::object out;
    for (const auto& [k, v] : m) Put(out, k, v, ValueType::kString, step, fmt::format("{}.{}", field, k));
    o[key] = std::move(out);
  };
  auto with_tags = [&](json::object& params) {
    if (!tags.empty()) params["Tags"] = TagList(tags);
  };
  // The training job definition shared by TrainingJob and HyperparameterTuningJob.
  auto training_definition = [&](const TrainingJob& t, json::object& params,
                                 const char* hyper_key) {
    Require(t.image, step, "image");
    Require(t.role_arn, step, "role_arn");
    Require(t.output_path, step, "output_path");
    if (t.channels.empty()) Fail(fmt::format("step \"{}\": channels: at least one is required", name));
    json::object algorithm{{"TrainingInputMode", "File"}};
    Put(algorithm, "TrainingImage", t.image, ValueType::kString, step, "image");
    if (!t.metric_definitions.empty()) {
      json::array metrics;
      for (const auto& m : t.metric_definitions) {
        metrics.push_back(json::object{{"Name", m.name}, {"Regex", m.regex}});
      }
      algorithm["MetricDefinitions"] = std::move(metrics);
    }
    params["AlgorithmSpecification"] = std::move(algorithm);
    Put(params, "RoleArn", t.role_arn, ValueType::kString, step, "role_arn");
    if (!t.hyperparameters.empty()) put_map(params, hyper_key, t.hyperparameters, "hyperparameters");
    json::array channels;
    for (const auto& [channel, uri] : t.channels) {
      json::object s3{{"S3DataType", "S3Prefix"}, {"S3DataDistributionType", "FullyReplicated"}};
      Put(s3, "S3Uri", uri, ValueType::kString, step, fmt::format("channels.{}", channel));
      json::object c{{"ChannelName", channel}, {"DataSource", json::object{{"S3DataSource", s3}}}};
      if (!t.content_type.empty()) {
        Put(c, "ContentType", t.content_type, ValueType::kString, step, "content_type");
      }
      channels.push_back(std::move(c));
    }
    params["InputDataConfig"] = std::move(channels);
    json::object output;
    Put(output, "S3OutputPath", t.output_path, ValueType::kString, step, "output_path");
    params["OutputDataConfig"] = std::move(output);
    json::object resources;
    Put(resources, "InstanceCount", t.instance_count, ValueType::kNumber, step, "instance_count");
    Put(resources, "InstanceType", t.instance_type, ValueType::kString, step, "instance_type");
    Put(resources, "VolumeSizeInGB", t.volume_size_gb, ValueType::kNumber, step, "volume_size_gb");
    params["ResourceConfig"] = std::move(resources);
    json::object stopping;
    Put(stopping, "MaxRuntimeInSeconds", t.max_runtime_seconds, ValueType::kNumber, step,
        "max_runtime_seconds");
    params["StoppingCondition"] = std::move(stopping);
    if (!t.environment.empty()) put_map(params, "Environment", t.environment, "environment");
  };

  if (const auto* l = std::get_if<LambdaFunction>(&step.spec)) {
    Require(l->function_name, step, "function_name");
    json::object params;
    Put(params, "FunctionName", l->function_name, ValueType::kString, step, "function_name");
    json::object payload;
    for (const auto& [k, v] : l->payload) Put(payload, k, v, ValueType::kAny, step, "payload." + k);
    params["Payload"] = std::move(payload);
    return single(TaskState(step, scope, "arn:aws:states:::lambda:invoke", std::move(params),
                            json::object{{"Payload.$", "$.Payload"}}));
  }
  if (const auto* t = std::get_if<TrainingJob>(&step.spec)) {
    json::object params{{"TrainingJobName.$", UniqueJobName(name)}};
    training_definition(*t, params, "HyperParameters");
    with_tags(params);
    json::object selector{{"TrainingJobName.$", "$.TrainingJobName"},
                          {"ModelArtifacts.$", "$.ModelArtifacts"}};
    if (!t->metric_definitions.empty()) {
      // Each metric's final value by name, for conditions: FinalMetricDataList holds them in no
      // promised order, so a filter picks each (a Choice rule cannot: it needs one value).
      selector["FinalMetricDataList.$"] = "$.FinalMetricDataList";
      json::object metrics;
      for (const auto& m : t->metric_definitions) {
        if (m.name.find_first_of("'\\[]") != std::string::npos) {
          Fail(fmt::format("step \"{}\": metric name \"{}\" has a quote, a backslash or a "
                           "bracket, which conditions cannot name",
                           name, m.name));
          continue;
        }
        metrics[m.name + ".$"] = fmt::format(
            "States.ArrayGetItem($.FinalMetricDataList[?(@.MetricName == '{}')].Value, 0)",
            m.name);
      }
      selector["Metrics"] = std::move(metrics);
    }
    return single(TaskState(step, scope, "arn:aws:states:::sagemaker:createTrainingJob.sync",
                            std::move(params), std::move(selector)));
  }
  if (const auto* h = std::get_if<HyperparameterTuningJob>(&step.spec)) {
    if (h->objective_metric.empty()) Fail(fmt::format("step \"{}\": objective_metric is required", name));
    if (h->objective_type != "Maximize" && h->objective_type != "Minimize") {
      Fail(fmt::format("step \"{}\": objective_type must be Maximize or Minimize, not \"{}\"", name,
                       h->objective_type));
    }
    if (h->ranges.empty()) Fail(fmt::format("step \"{}\": ranges: at least one is required", name));
    if (h->max_parallel_jobs < 1 || h->max_jobs < 1 || h->max_parallel_jobs > h->max_jobs) {
      Fail(fmt::format("step \"{}\": expected 1 <= max_parallel_jobs <= max_jobs, got {} and {}",
                       name, h->max_parallel_jobs, h->max_jobs));
    }
    static const char* kStrategies[] = {"Bayesian", "Random", "Grid", "Hyperband"};
    if (std::find(std::begin(kStrategies), std::end(kStrategies), h->strategy) ==
        std::end(kStrategies)) {
      Fail(fmt::format("step \"{}\": strategy must be Bayesian, Random, Grid or Hyperband, not "
                       "\"{}\"",
                       name, h->strategy));
    }
    json::array continuous, integer, categorical;
    for (const auto& r : h->ranges) {
      if (r.name.empty()) Fail(fmt::format("step \"{}\": a range needs a name", name));
      if (r.kind == ParameterRange::Kind::kCategorical) {
        if (r.values.empty()) {
          Fail(fmt::format("step \"{}\": range \"{}\": values are required", name, r.name));
        }
        json::array values;
        for (const auto& v : r.values) values.emplace_back(v);
        categorical.push_back(json::object{{"Name", r.name}, {"Values", std::move(values)}});
        continue;
      }
      if (r.min_value.empty() || r.max_value.empty()) {
        Fail(fmt::format("step \"{}\": range \"{}\": min_value and max_value are required", name,
                         r.name));
      }
      json::object o{{"Name", r.name}, {"MinValue", r.min_value}, {"MaxValue", r.max_value},
                     {"ScalingType", r.scaling}};
      (r.kind == ParameterRange::Kind::kInteger ? integer : continuous).push_back(std::move(o));
    }
    json::object ranges;
    if (!continuous.empty()) ranges["ContinuousParameterRanges"] = std::move(continuous);
    if (!integer.empty()) ranges["IntegerParameterRanges"] = std::move(integer);
    if (!categorical.empty()) ranges["CategoricalParameterRanges"] = std::move(categorical);
    json::object definition;
    training_definition(h->training, definition, "StaticHyperParameters");
    // Tuning job names have at most 32 characters: the prefix and the execution name's first
    // group (8 hex digits of a generated name).
    std::string tuning_name = fmt::format(
        "States.Format('{}-{{}}', States.ArrayGetItem(States.StringSplit($$.Execution.Name, "
        "'-'), 0))",
        NamePrefix(name, 22));
    json::object params{
        {"HyperParameterTuningJobName.$", tuning_name},
        {"HyperParameterTuningJobConfig",
         json::object{{"Strategy", h->strategy},
                      {"HyperParameterTuningJobObjective",
                       json::object{{"Type", h->objective_type},
                                    {"MetricName", h->objective_metric}}},
                      {"ResourceLimits", json::object{{"MaxNumberOfTrainingJobs", h->max_jobs},
                                                      {"MaxParallelTrainingJobs",
                                                       h->max_parallel_jobs}}},
                      {"ParameterRanges", std::move(ranges)}}},
        {"TrainingJobDefinition", std::move(definition)}};
    with_tags(params);
    return single(TaskState(
        step, scope, "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync",
        std::move(params),
        json::object{
            {"HyperParameterTuningJobName.$", "$.HyperParameterTuningJobName"},
            {"BestTrainingJob.$", "$.BestTrainingJob"},
            {"BestModelArtifacts.$",
             "States.Format('{}/{}/output/model.tar.gz', "
             "$.TrainingJobDefinition.OutputDataConfig.S3OutputPath, "
             "$.BestTrainingJob.TrainingJobName)"}}));
  }
  if (const auto* p = std::get_if<ProcessingJob>(&step.spec)) {
    Require(p->image, step, "image");
    Require(p->role_arn, step, "role_arn");
    json::object app;
    Put(app, "ImageUri", p->image, ValueType::kString, step, "image");
    if (!p->entrypoint.empty()) {
      json::array entry;
      for (const auto& e : p->entrypoint) entry.emplace_back(e);
      app["ContainerEntrypoint"] = std::move(entry);
    }
    if (!p->arguments.empty()) PutArray(app, "ContainerArguments", p->arguments, step, "arguments");
    json::object params{{"ProcessingJobName.$", UniqueJobName(name)},
                        {"AppSpecification", std::move(app)}};
    Put(params, "RoleArn", p->role_arn, ValueType::kString, step, "role_arn");
    if (!p->inputs.empty()) {
      json::array inputs;
      for (std::size_t i = 0; i < p->inputs.size(); ++i) {
        const auto& in = p->inputs[i];
        if (in.input_name.empty() || in.local_path.empty()) {
          Fail(fmt::format("step \"{}\": inputs[{}]: input_name and local_path are required", name, i));
        }
        json::object s3{{"LocalPath", in.local_path}, {"S3DataType", "S3Prefix"},
                        {"S3InputMode", "File"}};
        Put(s3, "S3Uri", in.s3_uri, ValueType::kString, step, fmt::format("inputs[{}].s3_uri", i));
        inputs.push_back(json::object{{"InputName", in.input_name}, {"S3Input", std::move(s3)}});
      }
      params["ProcessingInputs"] = std::move(inputs);
    }
    if (!p->outputs.empty()) {
      json::array outputs;
      for (std::size_t i = 0; i < p->outputs.size(); ++i) {
        const auto& out = p->outputs[i];
        if (out.output_name.empty() || out.local_path.empty()) {
          Fail(fmt::format("step \"{}\": outputs[{}]: output_name and local_path are required", name, i));
        }
        json::object s3{{"LocalPath", out.local_path}, {"S3UploadMode", "EndOfJob"}};
        Put(s3, "S3Uri", out.s3_uri, ValueType::kString, step, fmt::format("outputs[{}].s3_uri", i));
        outputs.push_back(json::object{{"OutputName", out.output_name}, {"S3Output", std::move(s3)}});
      }
      params["ProcessingOutputConfig"] = json::object{{"Outputs", std::move(outputs)}};
    }
    json::object cluster;
    Put(cluster, "InstanceCount", p->instance_count, ValueType::kNumber, step, "instance_count");
    Put(cluster, "InstanceType", p->instance_type, ValueType::kString, step, "instance_type");
    Put(cluster, "VolumeSizeInGB", p->volume_size_gb, ValueType::kNumber, step, "volume_size_gb");
    params["ProcessingResources"] = json::object{{"ClusterConfig", std::move(cluster)}};
    json::object stopping;
    Put(stopping, "MaxRuntimeInSeconds", p->max_runtime_seconds, ValueType::kNumber, step,
        "max_runtime_seconds");
    params["StoppingCondition"] = std::move(stopping);
    if (!p->environment.empty()) put_map(params, "Environment", p->environment, "environment");
    with_tags(params);
    json::object selector{{"ProcessingJobName.$", "$.ProcessingJobName"}};
    if (!p->outputs.empty()) selector["ProcessingOutputConfig.$"] = "$.ProcessingOutputConfig";
    return single(TaskState(step, scope, "arn:aws:states:::sagemaker:createProcessingJob.sync",
                            std::move(params), std::move(selector)));
  }
  if (const auto* b = std::get_if<BatchTransformJob>(&step.spec)) {
    Require(b->model_name, step, "model_name");
    Require(b->input_uri, step, "input_uri");
    Require(b->output_uri, step, "output_uri");
    auto one_of = [&](const std::string& v, std::initializer_list<const char*> allowed,
                      const char* field) {
      for (const char* a : allowed) {
        if (v == a) return;
      }
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Fail(fmt::format("step \"{}\": {} must be one of {}, not \"{}\"", name, field, list, v));
    };
    one_of(b->split_type, {"None", "Line", "RecordIO", "TFRecord"}, "split_type");
    one_of(b->strategy, {"MultiRecord", "SingleRecord"}, "strategy");
    one_of(b->assemble_with, {"None", "Line"}, "assemble_with");
    if (b->max_payload_mb < 0 || b->max_payload_mb > 100) {
      Fail(fmt::format("step \"{}\": max_payload_mb must be 0 to 100, not {}", name, b->max_payload_mb));
    }
    json::object params{{"TransformJobName.$", UniqueJobName(name)},
                        {"BatchStrategy", b->strategy},
                        {"MaxPayloadInMB", b->max_payload_mb}};
    Put(params, "ModelName", b->model_name, ValueType::kString, step, "model_name");
    json::object s3{{"S3DataType", "S3Prefix"}};
    Put(s3, "S3Uri", b->input_uri, ValueType::kString, step, "input_uri");
    params["TransformInput"] = json::object{{"DataSource", json::object{{"S3DataSource", s3}}},
                                            {"ContentType", b->content_type},
                                            {"SplitType", b->split_type}};
    json::object output{{"AssembleWith", b->assemble_with}};
    Put(output, "S3OutputPath", b->output_uri, ValueType::kString, step, "output_uri");
    if (!b->accept.empty()) output["Accept"] = b->accept;
    params["TransformOutput"] = std::move(output);
    json::object resources;
    Put(resources, "InstanceCount", b->instance_count, ValueType::kNumber, step, "instance_count");
    Put(resources, "InstanceType", b->instance_type, ValueType::kString, step, "instance_type");
    params["TransformResources"] = std::move(resources);
    if (!b->environment.empty()) put_map(params, "Environment", b->environment, "environment");
    with_tags(params);
    return single(TaskState(step, scope, "arn:aws:states:::sagemaker:createTransformJob.sync",
                            std::move(params),
                            json::object{{"TransformJobName.$", "$.TransformJobName"},
                                         {"TransformOutput.$", "$.TransformOutput"}}));
  }
  if (const auto* m = std::get_if<Model>(&step.spec)) {
    Require(m->image, step, "image");
    Require(m->model_data_url, step, "model_data_url");
    Require(m->role_arn, step, "role_arn");
    json::object container;
    Put(container, "Image", m->image, ValueType::kString, step, "image");
    Put(container, "ModelDataUrl", m->model_data_url, ValueType::kString, step, "model_data_url");
    if (!m->environment.empty()) put_map(container, "Environment", m->environment, "environment");
    std::string model_name = UniqueJobName(name);
    json::object params{{"ModelName.$", model_name}, {"PrimaryContainer", std::move(container)}};
    Put(params, "ExecutionRoleArn", m->role_arn, ValueType::kString, step, "role_arn");
    with_tags(params);
    return single(TaskState(step, scope, "arn:aws:states:::sagemaker:createModel",
                            std::move(params),
                            json::object{{"ModelArn.$", "$.ModelArn"},
                                         {"ModelName.$", model_name}}));
  }
  if (const auto* e = std::get_if<EndpointDeployment>(&step.spec)) {
    Require(e->endpoint_name, step, "endpoint_name");
    Require(e->model_name, step, "model_name");
    if (e->poll_seconds < 1) Fail(fmt::format("step \"{}\": poll_seconds must be at least 1", name));
    std::string data = StepResultPath(name);
    std::string config = name + ": create config";
    std::string find = name + ": find endpoint";
    std::string create = name + ": create endpoint";
    std::string update = name + ": update endpoint";
    std::string wait = name + ": wait";
    std::string check = name + ": check status";
    std::string status = name + ": status";
    std::string failed = name + ": failed";
    // The names: the endpoint's, and a new config per execution.
    json::object names{{"EndpointConfigName.$", UniqueJobName(name)}};
    Put(names, "EndpointName", e->endpoint_name, ValueType::kString, step, "endpoint_name");
    states[name] = json::object{{"Type", "Pass"}, {"Parameters", std::move(names)},
                                {"ResultPath", data}, {"Next", config}};
    Fragment f{name, {}};
    auto task = [&](const std::string& state, const char* resource, json::object params,
                    json::value selector, json::value result_path) {
      json::object s{{"Type", "Task"}, {"Resource", resource}, {"Parameters", std::move(params)}};
      if (!selector.is_null()) s["ResultSelector"] = std::move(selector);
      s["ResultPath"] = std::move(result_path);
      const std::optional<RetryPolicy>& retry =
          step.retry ? step.retry : pipeline_.options_.default_retry;
      if (retry) s["Retry"] = json::array{RetryObject(*retry)};
      return s;
    };
    json::object variant{{"VariantName", e->variant_name}};
    Put(variant, "ModelName", e->model_name, ValueType::kString, step, "model_name");
    Put(variant, "InitialInstanceCount", e->initial_instance_count, ValueType::kNumber, step,
        "initial_instance_count");
    Put(variant, "InstanceType", e->instance_type, ValueType::kString, step, "instance_type");
    // Every call names the endpoint and its config by the same expressions (not by paths into
    // the data), so the IAM policy can name exactly those resources.
    json::object endpoint_ref;
    Put(endpoint_ref, "EndpointName", e->endpoint_name, ValueType::kString, step, "endpoint_name");
    json::object config_params{{"EndpointConfigName.$", UniqueJobName(name)},
                               {"ProductionVariants", json::array{std::move(variant)}}};
    with_tags(config_params);
    json::object s = task(config, "arn:aws:states:::sagemaker:createEndpointConfig",
                          std::move(config_params), nullptr, nullptr);
    s["Next"] = find;
    AddCatchers(step, scope, config, s, f.exits);
    states[config] = std::move(s);
    // Update when the endpoint exists, create when DescribeEndpoint fails.
    s = task(find, "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", endpoint_ref, nullptr,
             nullptr);
    // The lookup fails on a first deployment by design: retrying it would only delay the create.
    s.erase("Retry");
    s["Next"] = update;
    s["Catch"] = json::array{json::object{{"ErrorEquals", json::array{"States.TaskFailed"}},
                                          {"ResultPath", nullptr},
                                          {"Next", create}}};
    AddCatchers(step, scope, find, s, f.exits);
    states[find] = std::move(s);
    json::object endpoint_params = endpoint_ref;
    endpoint_params["EndpointConfigName.$"] = UniqueJobName(name);
    s = task(update, "arn:aws:states:::sagemaker:updateEndpoint", endpoint_params, nullptr,
             nullptr);
    s["Next"] = wait;
    AddCatchers(step, scope, update, s, f.exits);
    states[update] = std::move(s);
    if (!tags.empty()) endpoint_params["Tags"] = TagList(tags);
    s = task(create, "arn:aws:states:::sagemaker:createEndpoint", std::move(endpoint_params),
             nullptr, nullptr);
    s["Next"] = wait;
    AddCatchers(step, scope, create, s, f.exits);
    states[create] = std::move(s);
    states[wait] = json::object{{"Type", "Wait"}, {"Seconds", e->poll_seconds}, {"Next", check}};
    s = task(check, "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", endpoint_ref,
             json::object{{"EndpointStatus.$", "$.EndpointStatus"}}, json::value(data + ".Status"));
    s["Next"] = status;
    AddCatchers(step, scope, check, s, f.exits);
    states[check] = std::move(s);
    std::string status_path = data + ".Status.EndpointStatus";
    json::array in_progress;
    for (const char* st : {"Creating", "Updating", "SystemUpdating"}) {
      in_progress.push_back(json::object{{"Variable", status_path}, {"StringEquals", st}});
    }
    states[status] = json::object{
        {"Type", "Choice"},
        {"Choices",
         json::array{json::object{{"Variable", status_path}, {"StringEquals", "InService"}},
                     json::object{{"Or", std::move(in_progress)}, {"Next", wait}}}},
        {"Default", failed}};
    f.exits.push_back({status, Exit::Kind::kChoiceRule, 0});
    FailState(scope, failed, "SageMaker.EndpointFailed",
              "the endpoint did not reach InService; DescribeEndpoint's FailureReason says why",
              false, states);
    return f;
  }
  if (const auto* d = std::get_if<DatabricksJob>(&step.spec)) {
    Require(d->workspace_url, step, "workspace_url");
    Require(d->connection_arn, step, "connection_arn");
    Require(d->python_file, step, "python_file");
    if (d->poll_seconds < 1) Fail(fmt::format("step \"{}\": poll_seconds must be at least 1", name));
    std::string data = StepResultPath(name);
    std::string wait = name + ": wait";
    std::string poll = name + ": poll";
    std::string status = name + ": status";
    std::string failed = name + ": failed";
    json::object auth;
    Put(auth, "ConnectionArn", d->connection_arn, ValueType::kString, step, "connection_arn");
    json::object python;
    Put(python, "python_file", d->python_file, ValueType::kString, step, "python_file");
    if (!d->parameters.empty()) PutArray(python, "parameters", d->parameters, step, "parameters");
    std::string task_key = NamePrefix(name, 100);
    json::object task{{"task_key", task_key}, {"spark_python_task", std::move(python)}};
    if (!d->existing_cluster_id.empty()) {
      Put(task, "existing_cluster_id", d->existing_cluster_id, ValueType::kString, step,
          "existing_cluster_id");
    } else {
      task["new_cluster"] = json::object{{"spark_version", d->spark_version},
                                         {"node_type_id", d->node_type_id},
                                         {"num_workers", d->num_workers}};
    }
    // The same token on a retried submit returns the same run (at most 64 characters).
    std::string run_name = UniqueJobName(name);
    json::object body{{"run_name.$", run_name},
                      {"idempotency_token.$", run_name},
                      {"tasks", json::array{std::move(task)}}};
    json::object submit{{"Method", "POST"}, {"Authentication", auth},
                        {"RequestBody", std::move(body)}};
    Put(submit, "ApiEndpoint", Format("{}/api/2.1/jobs/runs/submit", {d->workspace_url}),
        ValueType::kString, step, "workspace_url");
    json::object s = TaskState(step, scope, "arn:aws:states:::http:invoke", std::move(submit),
                               json::object{{"run_id.$", "$.ResponseBody.run_id"}});
    s.erase("TimeoutSeconds");  // HTTP tasks have their own 60 s limit
    Fragment f{name, {}};
    s["Next"] = wait;
    AddCatchers(step, scope, name, s, f.exits);
    states[name] = std::move(s);
    states[wait] = json::object{{"Type", "Wait"}, {"Seconds", d->poll_seconds}, {"Next", poll}};
    json::object get{{"Method", "GET"},
                     {"Authentication", std::move(auth)},
                     {"QueryParameters",
                      json::object{{"run_id.$", fmt::format("States.Format('{{}}', {}.run_id)",
                                                            data)}}}};
    Put(get, "ApiEndpoint", Format("{}/api/2.1/jobs/runs/get", {d->workspace_url}),
        ValueType::kString, step, "workspace_url");
    s = TaskState(step, scope, "arn:aws:states:::http:invoke", std::move(get),
                  json::object{{"run_id.$", "$.ResponseBody.run_id"},
                               {"run_page_url.$", "$.ResponseBody.run_page_url"},
                               {"state.$", "$.ResponseBody.state"}});
    s.erase("TimeoutSeconds");
    s["Next"] = status;
    AddCatchers(step, scope, poll, s, f.exits);
    states[poll] = std::move(s);
    std::string lifecycle = data + ".state.life_cycle_state";
    std::string result = data + ".state.result_state";
    json::array running;
    for (const char* st : {"QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED",
                           "WAITING_FOR_RETRY"}) {
      running.push_back(json::object{{"Variable", lifecycle}, {"StringEquals", st}});
    }
    states[status] = json::object{
        {"Type", "Choice"},
        {"Choices",
         json::array{json::object{{"Or", std::move(running)}, {"Next", wait}},
                     json::object{{"And", json::array{json::object{{"Variable", result},
                                                                   {"IsPresent", true}},
                                                      json::object{{"Variable", result},
                                                                   {"StringEquals", "SUCCESS"}}}}}}},
        {"Default", failed}};
    f.exits.push_back({status, Exit::Kind::kChoiceRule, 1});
    FailState(scope, failed, "Databricks.RunFailed", json::value(data + ".state.state_message"),
              true, states);
    return f;
  }
  if (const auto* w = std::get_if<WaitStep>(&step.spec)) {
    json::object s{{"Type", "Wait"}};
    if (w->seconds.is_path()) {
      s["SecondsPath"] = w->seconds.expression();
    } else if (w->seconds.is_expression()) {
      Fail(fmt::format("step \"{}\": seconds must be a number or a parameter, not a computed value",
                       name));
    } else if (!w->seconds.literal().is_number()) {
      Fail(fmt::format("step \"{}\": seconds must be a number", name));
    } else {
      s["Seconds"] = w->seconds.literal();
    }
    states[name] = std::move(s);
    return {name, {{name, Exit::Kind::kNext, 0}}};
  }
  if (const auto* p = std::get_if<PassStep>(&step.spec)) {
    states[name] = json::object{{"Type", "Pass"}, {"Result", p->result},
                                {"ResultPath", StepResultPath(name)}};
    return {name, {{name, Exit::Kind::kNext, 0}}};
  }
  if (const auto* fs = std::get_if<FailStep>(&step.spec)) {
    json::object s{{"Type", "Fail"}};
    if (!fs->error.empty()) s["Error"] = fs->error;
    if (!fs->cause.empty()) s["Cause"] = fs->cause;
    states[name] = std::move(s);
    return {name, {}};
  }
  if (const auto* r = std::get_if<RawState>(&step.spec)) {
    const json::object* o = r->state.if_object();
    const json::value* type = o != nullptr ? o->if_contains("Type") : nullptr;
    if (type == nullptr || !type->is_string()) {
      Fail(fmt::format("step \"{}\": a raw state is a JSON object with a \"Type\"", name));
      return {name, {}};
    }
    if (o->contains("Next") || o->contains("End")) {
      Fail(fmt::format("step \"{}\": a raw state has no Next or End; zflow links it", name));
    }
    std::string_view t = type->as_string();
    json::object s = *o;
    if (t == "Fail") {
      states[name] = std::move(s);
      return {name, {}};
    }
    if (t != "Pass" && t != "Task" && t != "Wait" && t != "Parallel" && t != "Map") {
      Fail(fmt::format("step \"{}\": a raw state is a Pass, Task, Wait, Parallel, Map or Fail "
                       "state, not {}",
                       name, t));
    }
    Fragment f{name, {{name, Exit::Kind::kNext, 0}}};
    if (t == "Task" || t == "Parallel" || t == "Map") AddCatchers(step, scope, name, s, f.exits);
    states[name] = std::move(s);
    return f;
  }
  if (const auto* fe = std::get_if<ForEach>(&step.spec)) {
    if (!fe->items.is_path()) {
      Fail(fmt::format("step \"{}\": items must be a parameter or a step's result (a path)", name));
    }
    if (fe->max_concurrency < 0) {
      Fail(fmt::format("step \"{}\": max_concurrency must be 0 (no limit) or more", name));
    }
    const Pipeline& body = *fe->body;
    const Schedule* schedule = nullptr;
    for (const auto& [p, s] : schedules_) {
      if (p == &body) schedule = &s;
    }
    json::object body_states;
    std::string collect = name + ": collect";
    Fragment inner{collect, {}};
    if (schedule != nullptr && !body.steps_.empty()) {
      std::vector<int> done;
      inner = EmitNode(schedule->root, {&body, false}, body_states, done);
      Link(inner, collect, body_states);
    }
    // Each iteration's result: its own steps' results.
    json::object results;
    for (const auto& b : body.steps_) {
      if (HasResult(*b)) results[b->name() + ".$"] = StepResultPath(b->name());
    }
    body_states[collect] = json::object{{"Type", "Pass"}, {"Parameters", std::move(results)},
                                        {"End", true}};
    json::object s{{"Type", "Map"},
                   {"ItemSelector", json::object{{"params.$", "$.params"},
                                                 {"steps.$", "$.steps"},
                                                 {"item.$", "$$.Map.Item.Value"}}},
                   {"ItemProcessor", json::object{{"ProcessorConfig",
                                                   json::object{{"Mode", "INLINE"}}},
                                                  {"StartAt", inner.entry},
                                                  {"States", std::move(body_states)}}},
                   {"ResultPath", StepResultPath(name)}};
    if (fe->items.is_path()) s["ItemsPath"] = fe->items.expression();
    if (fe->max_concurrency > 0) s["MaxConcurrency"] = fe->max_concurrency;
    const std::optional<RetryPolicy>& retry = step.retry;
    if (retry) s["Retry"] = json::array{RetryObject(*retry)};
    Fragment f{name, {{name, Exit::Kind::kNext, 0}}};
    AddCatchers(step, scope, name, s, f.exits);
    states[name] = std::move(s);
    return f;
  }
  Fail(fmt::format("step \"{}\": unknown step kind", name));
  return {name, {}};
}

}  // namespace zflow::pipeline
