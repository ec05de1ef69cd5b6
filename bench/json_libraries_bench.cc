// The JSON library choice, measured: zflow's located parser (builds Boost.JSON values plus a
// line:column map), Boost.JSON's own parser, nlohmann::json and RapidJSON on the same 1 MiB
// definition, plus serialization.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "definition_generator.h"
#include "zflow/json.h"

#if ZFLOW_BENCH_NLOHMANN
#include <nlohmann/json.hpp>
#endif
#if ZFLOW_BENCH_RAPIDJSON
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#endif

namespace zflow::bench {
namespace {

const std::string& Text() {
  static const std::string text = MakeDefinition((std::size_t{1} << 20) - 4096);
  return text;
}

void SetBytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * Text().size()));
}

void BM_Parse_ZflowLocated(benchmark::State& state) {
  for (auto _ : state) {
    auto r = ParseJson(Text());
    benchmark::DoNotOptimize(r);
  }
  SetBytes(state);
}
BENCHMARK(BM_Parse_ZflowLocated)->Unit(benchmark::kMillisecond);

void BM_Parse_ZflowNoLocations(benchmark::State& state) {
  for (auto _ : state) {
    auto r = ParseJson(Text(), {.record_locations = false});
    benchmark::DoNotOptimize(r);
  }
  SetBytes(state);
}
BENCHMARK(BM_Parse_ZflowNoLocations)->Unit(benchmark::kMillisecond);

void BM_Parse_BoostJson(benchmark::State& state) {
  boost::json::parse_options opt;
  opt.max_depth = 512;
  for (auto _ : state) {
    boost::system::error_code ec;
    auto v = boost::json::parse(Text(), ec, {}, opt);
    benchmark::DoNotOptimize(v);
  }
  SetBytes(state);
}
BENCHMARK(BM_Parse_BoostJson)->Unit(benchmark::kMillisecond);

#if ZFLOW_BENCH_NLOHMANN
void BM_Parse_Nlohmann(benchmark::State& state) {
  for (auto _ : state) {
    auto v = nlohmann::ordered_json::parse(Text(), nullptr, false);
    benchmark::DoNotOptimize(v);
  }
  SetBytes(state);
}
BENCHMARK(BM_Parse_Nlohmann)->Unit(benchmark::kMillisecond);
#endif

#if ZFLOW_BENCH_RAPIDJSON
void BM_Parse_RapidJson(benchmark::State& state) {
  for (auto _ : state) {
    rapidjson::Document d;
    d.Parse(Text().c_str(), Text().size());
    benchmark::DoNotOptimize(d);
  }
  SetBytes(state);
}
BENCHMARK(BM_Parse_RapidJson)->Unit(benchmark::kMillisecond);
#endif

void BM_Serialize_BoostJson(benchmark::State& state) {
  json::value v = std::move(ParseJson(Text())->value);
  for (auto _ : state) {
    std::string s = json::serialize(v);
    benchmark::DoNotOptimize(s);
  }
  SetBytes(state);
}
BENCHMARK(BM_Serialize_BoostJson)->Unit(benchmark::kMillisecond);

#if ZFLOW_BENCH_NLOHMANN
void BM_Serialize_Nlohmann(benchmark::State& state) {
  auto v = nlohmann::ordered_json::parse(Text());
  for (auto _ : state) {
    std::string s = v.dump();
    benchmark::DoNotOptimize(s);
  }
  SetBytes(state);
}
BENCHMARK(BM_Serialize_Nlohmann)->Unit(benchmark::kMillisecond);
#endif

#if ZFLOW_BENCH_RAPIDJSON
void BM_Serialize_RapidJson(benchmark::State& state) {
  rapidjson::Document d;
  d.Parse(Text().c_str(), Text().size());
  for (auto _ : state) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    d.Accept(w);
    benchmark::DoNotOptimize(buf.GetString());
  }
  SetBytes(state);
}
BENCHMARK(BM_Serialize_RapidJson)->Unit(benchmark::kMillisecond);
#endif

}  // namespace
}  // namespace zflow::bench

namespace zflow::bench {
namespace {

// The evaluators' hot operations on each library's DOM: a member/index lookup chain (what a
// reference path does) and a deep copy of a payload (what InputPath/ResultPath do).
constexpr char kPayload[] = R"({"batch": {"day": "2026-11-21", "rows": [
  {"id": 0, "amount": 1.5, "fraud": false}, {"id": 1, "amount": 2.5, "fraud": true},
  {"id": 2, "amount": 3.5, "fraud": false}, {"id": 3, "amount": 4.5, "fraud": false}]},
  "model": {"uri": "s3://bucket/key/model.tar.gz", "metrics": {"auc": 0.93}}})";

void BM_Lookup_BoostJson(benchmark::State& state) {
  json::value v = std::move(ParseJson(kPayload)->value);
  for (auto _ : state) {
    const json::value* x = v.as_object().if_contains("batch");
    x = x->as_object().if_contains("rows");
    x = &x->as_array()[2];
    x = x->as_object().if_contains("amount");
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_Lookup_BoostJson);

void BM_Copy_BoostJson(benchmark::State& state) {
  json::value v = std::move(ParseJson(kPayload)->value);
  for (auto _ : state) {
    json::value copy = v;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_Copy_BoostJson);

#if ZFLOW_BENCH_NLOHMANN
void BM_Lookup_Nlohmann(benchmark::State& state) {
  auto v = nlohmann::ordered_json::parse(kPayload);
  for (auto _ : state) {
    const auto& x = v["batch"]["rows"][2]["amount"];
    benchmark::DoNotOptimize(&x);
  }
}
BENCHMARK(BM_Lookup_Nlohmann);

void BM_Copy_Nlohmann(benchmark::State& state) {
  auto v = nlohmann::ordered_json::parse(kPayload);
  for (auto _ : state) {
    auto copy = v;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_Copy_Nlohmann);
#endif

#if ZFLOW_BENCH_RAPIDJSON
void BM_Lookup_RapidJson(benchmark::State& state) {
  rapidjson::Document d;
  d.Parse(kPayload);
  for (auto _ : state) {
    const rapidjson::Value& x = d["batch"]["rows"][2]["amount"];
    benchmark::DoNotOptimize(&x);
  }
}
BENCHMARK(BM_Lookup_RapidJson);

void BM_Copy_RapidJson(benchmark::State& state) {
  rapidjson::Document d;
  d.Parse(kPayload);
  for (auto _ : state) {
    rapidjson::Document copy;
    copy.CopyFrom(d, copy.GetAllocator());
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_Copy_RapidJson);
#endif

}  // namespace
}  // namespace zflow::bench
