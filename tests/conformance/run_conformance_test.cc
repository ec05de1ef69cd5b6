// Data-driven execution conformance: every tests/conformance/run/*.json case (JSONPath) and
// tests/conformance/run-jsonata/*.json case (JSONata) (definition, input, optional mock
// configuration, expected status and output or error) runs on the engine under virtual time,
// with "arn:aws:states:::zflow:echo" tasks echoing their input.
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>

#include "integrations/local_handlers.h"
#include "zflow/asl_convert.h"
#include "zflow/asl_parser.h"
#include "zflow/runtime.h"
#include "zflow/validator.h"

namespace zflow {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(ZFLOW_SOURCE_DIR) / "tests/conformance";

// Case names are paths below tests/conformance: "run/001-....json".
std::vector<std::string> Cases() {
  std::vector<std::string> out;
  for (const char* sub : {"run", "run-jsonata"}) {
    if (!fs::exists(kDir / sub)) continue;
    for (const auto& e : fs::directory_iterator(kDir / sub)) {
      if (e.path().extension() == ".json") {
        out.push_back(std::string(sub) + "/" + e.path().filename().string());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Numbers compare by value (1 == 1.0), as JSON does.
bool SameJson(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!SameJson(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& x = a.get_object();
    const auto& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const json::value* other = y.if_contains(kv.key());
      if (other == nullptr || !SameJson(kv.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

std::string ReadCase(const std::string& name) {
  std::ifstream in(kDir / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A case file and its state machine.
struct Case {
  json::value doc;
  std::optional<asl::StateMachine> machine;
  std::string error;  // why it could not be loaded
  const json::object& fields() const { return doc.as_object(); }
};

Case LoadCase(const std::string& name) {
  Case out;
  auto doc = ParseJson(ReadCase(name));
  if (!doc.ok()) {
    out.error = doc.status().ToString();
    return out;
  }
  out.doc = std::move(doc->value);
  auto parsed = asl::ParseStateMachineValue(out.fields().at("definition"));
  if (!parsed.machine.has_value() || HasErrors(parsed.diagnostics)) {
    out.error = parsed.diagnostics.empty() ? "no machine" : parsed.diagnostics[0].message;
    return out;
  }
  out.machine = std::move(parsed.machine);
  return out;
}

// The case's tasks: "arn:aws:states:::zflow:echo" echoes; with a mock configuration, mocked
// states answer from the case's test case and the others echo. False (with a failure) when the
// mock configuration is malformed.
bool SetUpTasks(const json::object& c, runtime::IntegrationRegistry& registry) {
  registry.Register(std::string(integrations::kEchoResource), integrations::MakeEchoHandler());
  if (const json::value* mock = c.if_contains("mock_config")) {
    auto handler = integrations::MockHandler::Create(
        *mock, "Machine", std::string_view(c.at("test_case").as_string()),
        integrations::MakeEchoHandler());
    EXPECT_TRUE(handler.ok()) << handler.status().ToString();
    if (!handler.ok()) return false;
    registry = runtime::IntegrationRegistry();
    registry.SetFallback(*handler);
  }
  return true;
}

class RunConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(RunConformance, MatchesExpectation) {
  Case loaded = LoadCase(GetParam());
  ASSERT_TRUE(loaded.machine.has_value()) << loaded.error;
  const json::object& c = loaded.fields();
  std::optional<asl::StateMachine>& parsed_machine = loaded.machine;

  runtime::IntegrationRegistry registry;
  ASSERT_TRUE(SetUpTasks(c, registry));
  runtime::Engine engine({.integrations = &registry, .virtual_time = true});
  runtime::ExecutionOptions options;
  if (const json::value* input = c.if_contains("input")) options.input = *input;
  auto result = engine.Run(*parsed_machine, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();

  const json::object& expect = c.at("expect").as_object();
  std::string status(expect.at("status").as_string());
  EXPECT_EQ(runtime::ExecutionStatusName(result->status), status)
      << "error: " << result->error << ": " << result->cause
      << "\noutput: " << ToJsonText(result->output);
  if (const json::value* output = expect.if_contains("output")) {
    EXPECT_TRUE(SameJson(result->output, *output))
        << "expected " << ToJsonText(*output) << "\n     got " << ToJsonText(result->output);
  }
  if (const json::value* error = expect.if_contains("error")) {
    // null: the execution failed without an error name (a Fail state without Error).
    std::string_view want = error->is_string() ? std::string_view(error->get_string()) : "";
    EXPECT_EQ(result->error, want) << result->cause;
  }
  if (const json::value* cause = expect.if_contains("cause_contains")) {
    EXPECT_NE(result->cause.find(std::string_view(cause->as_string())), std::string::npos)
        << result->cause;
  }
}

std::string Name(const ::testing::TestParamInfo<std::string>& info) {
  std::string file = info.param.substr(info.param.find('/') + 1);
  std::string n = file.substr(0, file.find('.'));
  for (char& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return (info.param.starts_with("run-jsonata/") ? "j" : "c") + n;
}

INSTANTIATE_TEST_SUITE_P(Cases, RunConformance, ::testing::ValuesIn(Cases()), Name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RunConformance);

// Every case whose run is determined by its definition and input: not the ones answered by a
// mock configuration (a mock counts the invocations of each state, and a resumed run does not
// invoke what its history already answered) nor those that draw States.UUID.
std::vector<std::string> DeterministicCases() {
  std::vector<std::string> out;
  for (const std::string& c : Cases()) {
    std::string text = ReadCase(c);
    if (text.find("\"mock_config\"") == std::string::npos &&
        text.find("States.UUID") == std::string::npos && text.find("$uuid") == std::string::npos &&
        text.find("$random()") == std::string::npos) {
      out.push_back(c);
    }
  }
  return out;
}

std::string Prefix(const json::value& full, std::size_t n) {
  const json::array& all = full.at("events").as_array();
  return ToJsonText(json::object{
      {"events", json::array(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n))}});
}

// Cases whose JSONata conversion is expected to fail or to run differently, with the reason:
// tests/conformance/jsonata_conversion_exceptions.txt, lines "run/NNN-....json  no-form|differs
// reason". Everything else must convert, validate and meet the case's own expectation.
std::map<std::string, std::string> ConversionExceptions() {
  std::map<std::string, std::string> out;
  std::ifstream in(kDir / "jsonata_conversion_exceptions.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name, kind;
    fields >> name >> kind;
    out[name] = kind;
  }
  return out;
}

std::vector<std::string> JsonPathCases() {
  std::vector<std::string> out;
  for (const std::string& c : Cases()) {
    if (c.starts_with("run/")) out.push_back(c);
  }
  return out;
}

class JsonataConversion : public ::testing::TestWithParam<std::string> {};

// The JSONPath case converted to JSONata (asl::ConvertToJsonata) is valid and ends as the case
// expects: same status, same output, same error name (or States.QueryEvaluationError for a
// failing path, intrinsic or ResultPath).
TEST_P(JsonataConversion, ConvertedMachineRunsTheSame) {
  Case loaded = LoadCase(GetParam());
  ASSERT_TRUE(loaded.machine.has_value()) << loaded.error;
  const json::object& c = loaded.fields();
  const auto exceptions = ConversionExceptions();
  auto listed = exceptions.find(GetParam());
  const std::string kind = listed == exceptions.end() ? "" : listed->second;

  auto converted = asl::ConvertToJsonata(c.at("definition"));
  if (kind == "no-form") {
    EXPECT_FALSE(converted.ok()) << "listed as having no JSONata form, but converts to "
                                 << ToJsonText(*converted);
    return;
  }
  ASSERT_TRUE(converted.ok()) << converted.status().ToString();
  auto parsed = asl::ParseStateMachineValue(*converted);
  ASSERT_TRUE(parsed.machine.has_value()) << ToJsonText(*converted);
  std::vector<Diagnostic> diagnostics = parsed.diagnostics;
  if (!HasErrors(diagnostics)) diagnostics = asl::ValidateStateMachine(*parsed.machine);
  for (const Diagnostic& d : diagnostics) {
    EXPECT_NE(d.severity, Severity::kError)
        << d.message << " at " << d.pointer << "\n" << ToJsonText(*converted);
  }
  if (HasErrors(diagnostics)) return;

  runtime::IntegrationRegistry registry;
  ASSERT_TRUE(SetUpTasks(c, registry));
  runtime::Engine engine({.integrations = &registry, .virtual_time = true});
  runtime::ExecutionOptions options;
  if (const json::value* input = c.if_contains("input")) options.input = *input;
  auto result = engine.Run(*parsed.machine, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  if (kind == "differs") return;  // converted and valid; the run differs for the listed reason

  const json::object& expect = c.at("expect").as_object();
  EXPECT_EQ(runtime::ExecutionStatusName(result->status), std::string_view(expect.at("status").as_string()))
      << "error: " << result->error << ": " << result->cause
      << "\noutput: " << ToJsonText(result->output) << "\nconverted: " << ToJsonText(*converted);
  if (const json::value* output = expect.if_contains("output")) {
    EXPECT_TRUE(SameJson(result->output, *output))
        << "expected " << ToJsonText(*output) << "\n     got " << ToJsonText(result->output)
        << "\nconverted: " << ToJsonText(*converted);
  }
  if (const json::value* error = expect.if_contains("error")) {
    std::string_view want = error->is_string() ? std::string_view(error->get_string()) : "";
    // A JSONata state reports a failing expression as States.QueryEvaluationError where a
    // JSONPath state names the path, intrinsic or ResultPath failure.
    if ((want == "States.Runtime" || want == "States.IntrinsicFailure" ||
         want == "States.ResultPathMatchFailure") &&
        result->error == "States.QueryEvaluationError") {
      return;
    }
    EXPECT_EQ(result->error, want) << result->cause << "\nconverted: " << ToJsonText(*converted);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, JsonataConversion, ::testing::ValuesIn(JsonPathCases()), Name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(JsonataConversion);

class ResumeConformance : public ::testing::TestWithParam<std::string> {};

// The case stopped after each of its events (see below for long histories) and resumed from the
// history so far (through its JSON text) ends as the uninterrupted run did, with the same events.
TEST_P(ResumeConformance, ResumedAfterEveryEventEndsTheSame) {
  Case loaded = LoadCase(GetParam());
  ASSERT_TRUE(loaded.machine.has_value()) << loaded.error;
  const json::object& c = loaded.fields();
  auto prepared = runtime::Prepare(std::move(*loaded.machine));
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  runtime::IntegrationRegistry registry;
  registry.Register(std::string(integrations::kEchoResource), integrations::MakeEchoHandler());
  ManualClock clock(TimePoint(std::chrono::seconds(1'800'000'000)));
  runtime::EngineOptions options{.integrations = &registry, .clock = &clock,
                                 .virtual_time = true};
  runtime::ExecutionOptions execution{.name = "conformance", .seed = "seed"};
  if (const json::value* input = c.if_contains("input")) execution.input = *input;
  runtime::Engine engine(options);
  auto ref = engine.Run(**prepared, execution);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  const json::value full = ref->history.ToJson();
  const std::string full_text = ToJsonText(full);
  // Every event of histories up to 200 events; for longer ones (a 1,000-item Map has 4,000)
  // the first and last 50 and 100 spread between: each resume replays the whole prefix, so
  // every event of those would cost minutes.
  const std::size_t n = ref->history.size();
  std::vector<std::size_t> cuts;
  for (std::size_t k = 1; k < n; ++k) {
    if (n <= 200 || k <= 50 || k + 50 >= n || k % ((n - 100) / 100 + 1) == 0) cuts.push_back(k);
  }
  for (std::size_t k : cuts) {
    auto stored = ParseJson(Prefix(full, k));
    ASSERT_TRUE(stored.ok());
    auto history = runtime::History::FromJson(stored->value);
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    runtime::Engine again(options);
    auto r = again.Resume(**prepared, *history, ref->info);
    ASSERT_TRUE(r.ok()) << "stopped after event " << k << ": " << r.status().ToString();
    EXPECT_EQ(r->status, ref->status) << "stopped after event " << k;
    EXPECT_EQ(r->output, ref->output) << "stopped after event " << k;
    EXPECT_EQ(r->error, ref->error) << "stopped after event " << k;
    ASSERT_EQ(ToJsonText(r->history.ToJson()), full_text) << "stopped after event " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ResumeConformance, ::testing::ValuesIn(DeterministicCases()),
                         Name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ResumeConformance);

}  // namespace
}  // namespace zflow
