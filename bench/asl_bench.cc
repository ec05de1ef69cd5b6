// ASL core benchmarks: parse+validate, JSONPath, intrinsics, payload templates.
//   build/bench/asl_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include "asl/intrinsics.h"
#include "asl/json_path.h"
#include "asl/payload_template.h"
#include "definition_generator.h"
#include "zflow/validator.h"

namespace zflow::bench {
namespace {

// Just under AWS's 1 MiB definition limit.
const std::string& Definition() {
  static const std::string text = MakeDefinition((std::size_t{1} << 20) - 4096);
  return text;
}

void BM_ParseAndValidate1MiB(benchmark::State& state) {
  const std::string& text = Definition();
  for (auto _ : state) {
    asl::ValidationReport r = asl::ValidateDefinition(text);
    if (!r.ok()) state.SkipWithError(r.diagnostics[0].message.c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseAndValidate1MiB)->Unit(benchmark::kMillisecond);

void BM_ParseOnly1MiB(benchmark::State& state) {
  const std::string& text = Definition();
  for (auto _ : state) {
    auto r = asl::ParseStateMachineText(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseOnly1MiB)->Unit(benchmark::kMillisecond);

// The JSON text alone, as the definition parser reads it (locations kept, duplicates refused).
void BM_JsonParse1MiB(benchmark::State& state) {
  const std::string& text = Definition();
  for (auto _ : state) {
    auto r = ParseJsonOrError(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_JsonParse1MiB)->Unit(benchmark::kMillisecond);

json::value BenchInput() {
  json::array rows;
  for (int i = 0; i < 100; ++i) {
    rows.push_back(json::object{{"id", i}, {"amount", i * 1.5}, {"fraud", i % 17 == 0}});
  }
  return json::object{{"batch", json::object{{"rows", std::move(rows)}, {"day", "2026-11-21"}}},
                      {"model", json::object{{"uri", "s3://b/k/model.tar.gz"}}}};
}

void BM_JsonPath(benchmark::State& state, const char* path_text) {
  json::value input = BenchInput();
  auto path = asl::JsonPath::Compile(path_text);
  if (!path.ok()) {
    state.SkipWithError(path.status().message().c_str());
    return;
  }
  asl::EvaluationContext ctx;
  ctx.input = &input;
  for (auto _ : state) {
    auto r = path->Evaluate(ctx);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_JsonPath, reference, "$.model.uri");
BENCHMARK_CAPTURE(BM_JsonPath, index, "$.batch.rows[42].amount");
BENCHMARK_CAPTURE(BM_JsonPath, wildcard_100, "$.batch.rows[*].id");
BENCHMARK_CAPTURE(BM_JsonPath, filter_100, "$.batch.rows[?(@.fraud == true)].id");
BENCHMARK_CAPTURE(BM_JsonPath, recursive_100, "$..amount");

void BM_JsonPathCompile(benchmark::State& state) {
  for (auto _ : state) {
    auto p = asl::JsonPath::Compile("$.batch.rows[?(@.amount > 10 && @.fraud)].id");
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_JsonPathCompile);

void BM_Intrinsic(benchmark::State& state, const char* text) {
  json::value input = BenchInput();
  json::value context = json::object{{"Execution", json::object{{"Name", "run-1"}}}};
  auto call = asl::IntrinsicCall::Parse(text);
  if (!call.ok()) {
    state.SkipWithError(call.status().message().c_str());
    return;
  }
  asl::EvaluationContext ctx;
  ctx.input = &input;
  ctx.context = &context;
  for (auto _ : state) {
    auto r = call->Evaluate(ctx);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_Intrinsic, format, "States.Format('job-{}-{}', $$.Execution.Name, $.batch.day)");
BENCHMARK_CAPTURE(BM_Intrinsic, array_range_100, "States.ArrayRange(1, 100, 1)");
BENCHMARK_CAPTURE(BM_Intrinsic, array_length, "States.ArrayLength($.batch.rows)");
BENCHMARK_CAPTURE(BM_Intrinsic, hash_sha256, "States.Hash($.model.uri, 'SHA-256')");
BENCHMARK_CAPTURE(BM_Intrinsic, nested, "States.MathAdd(States.ArrayLength($.batch.rows), 1)");
BENCHMARK_CAPTURE(BM_Intrinsic, uuid, "States.UUID()");

void BM_IntrinsicParse(benchmark::State& state) {
  for (auto _ : state) {
    auto c = asl::IntrinsicCall::Parse(
        "States.Format('{}-{}', States.ArrayGetItem($.a, 0), $$.Execution.Name)");
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_IntrinsicParse);

void BM_PayloadTemplate(benchmark::State& state) {
  json::value input = BenchInput();
  json::value context = json::object{{"Execution", json::object{{"Name", "run-1"}}}};
  auto t = asl::PayloadTemplate::Compile(std::move(ParseJson(R"j({
    "TrainingJobName.$": "States.Format('train-{}', $$.Execution.Name)",
    "HyperParameters": {"max_depth": "6", "eta": "0.2"},
    "InputDataConfig": [{"ChannelName": "train",
      "DataSource": {"S3DataSource": {"S3Uri.$": "$.model.uri"}}}],
    "Day.$": "$.batch.day"})j")->value));
  asl::EvaluationContext ctx;
  ctx.input = &input;
  ctx.context = &context;
  for (auto _ : state) {
    auto r = t->Evaluate(ctx, asl::errors::kParameterPathFailure);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_PayloadTemplate);

}  // namespace
}  // namespace zflow::bench
