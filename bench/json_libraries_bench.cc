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
