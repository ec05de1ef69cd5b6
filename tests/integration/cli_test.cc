// Drives the zflow binary as a user would: exit codes, output formats, bad input.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/subprocess.h"
#include "zflow/json.h"

namespace zflow {
namespace {

namespace fs = std::filesystem;

const std::string kZflow = std::string(ZFLOW_BINARY_DIR) + "/zflow";
const std::string kExamples = std::string(ZFLOW_SOURCE_DIR) + "/examples/";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("zflow-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  ProcessResult Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), kZflow);
    auto r = RunProcess(args, stdin_text);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ProcessResult{};
  }

  fs::path dir_;
};

TEST_F(CliTest, ValidExamplesExitZero) {
  ProcessResult r = Run({"validate", kExamples + "hello/hello.asl.json",
                         kExamples + "ml-training/training.asl.json"});
  EXPECT_EQ(r.exit_code, 0) << r.stdout_text << r.stderr_text;
  EXPECT_NE(r.stdout_text.find("training.asl.json: ok (8 states)"), std::string::npos);
}

TEST_F(CliTest, InvalidFileExitsOneWithLocatedDiagnostics) {
  ProcessResult r = Run({"validate", kExamples + "invalid/broken.asl.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stdout_text.find("broken.asl.json:12:15: E_UNKNOWN_STATE: Next \"Charge_Card\" "
                               "names no state (did you mean \"ChargeCard\"?)"),
            std::string::npos)
      << r.stdout_text;
}

TEST_F(CliTest, JsonOutputIsMachineReadable) {
  ProcessResult r = Run({"validate", "--json", kExamples + "invalid/broken.asl.json",
                         kExamples + "hello/hello.asl.json"});
  EXPECT_EQ(r.exit_code, 1);
  auto doc = ParseJson(r.stdout_text);
  ASSERT_TRUE(doc.ok()) << r.stdout_text;
  const json::array& items = doc->value.as_array();
  ASSERT_EQ(items.size(), 3u);
  const json::object& first = items[0].as_object();
  for (const char* key : {"file", "path", "line", "column", "code", "message"}) {
    EXPECT_TRUE(first.contains(key)) << key;
  }
  EXPECT_EQ(first.at("code").as_string(), "E_STATES_ALL_POSITION");
  EXPECT_EQ(first.at("path").as_string(), "/States/Charge/Retry/0/ErrorEquals/0");
  EXPECT_EQ(first.at("line").as_int64(), 9);
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Run({}).exit_code, 2);
  EXPECT_EQ(Run({"validate"}).exit_code, 2);
  EXPECT_EQ(Run({"validate", "--bogus", "x"}).exit_code, 2);
  ProcessResult missing = Run({"validate", (dir_ / "nope.json").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.stderr_text.find("No such file"), std::string::npos) << missing.stderr_text;
  EXPECT_EQ(Run({"validate", dir_.string()}).exit_code, 2);
}

// The command loads its HTTP module (zflow-http.so) only to serve or call; without it, the
// commands that need it say so and the others work.
TEST_F(CliTest, HttpModuleIsLoadedOnlyWhenNeededAndNamedWhenMissing) {
  const std::string definition = Write("m.json", R"({"StartAt":"A","States":{"A":{"Type":"Succeed"}}})");
  ProcessOptions missing;
  missing.env["ZFLOW_HTTP_MODULE"] = (dir_ / "zflow-http.so").string();
  auto validate = RunProcess({kZflow, "validate", definition}, "", missing);
  ASSERT_TRUE(validate.ok());
  EXPECT_EQ(validate->exit_code, 0) << validate->stderr_text;
  auto run = RunProcess({kZflow, "run", definition, "-q"}, "", missing);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 0) << run->stderr_text;

  auto list = RunProcess({kZflow, "executions", "list", "--endpoint-url", "http://127.0.0.1:1"},
                         "", missing);
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->exit_code, 0);
  EXPECT_NE(list->stderr_text.find("cannot load its HTTP module"), std::string::npos)
      << list->stderr_text;
  EXPECT_NE(list->stderr_text.find(missing.env["ZFLOW_HTTP_MODULE"]), std::string::npos)
      << list->stderr_text;

  // With the module beside the binary: the call is made, and fails for the closed port.
  ProcessResult found = Run({"executions", "list", "--endpoint-url", "http://127.0.0.1:1"});
  EXPECT_NE(found.exit_code, 0);
  EXPECT_NE(found.stderr_text.find("cannot reach zflow serve"), std::string::npos)
      << found.stderr_text;
  EXPECT_EQ(found.stderr_text.find("HTTP module"), std::string::npos) << found.stderr_text;
}

TEST_F(CliTest, ReadsStandardInput) {
  ProcessResult r = Run({"validate", "-"}, R"({"StartAt":"A","States":{"A":{"Type":"Succeed"}}})");
  EXPECT_EQ(r.exit_code, 0) << r.stdout_text;
}

TEST_F(CliTest, BadInputNeverCrashes) {
  struct Bad {
    std::string name, content, code;
  };
  std::vector<Bad> cases = {
      {"malformed.json", "{\"StartAt\": \"A\",, }", "E_JSON_SYNTAX"},
      {"empty.json", "", "E_JSON_SYNTAX"},
      {"utf8.json", "{\"StartAt\": \"A\xff\", \"States\": {}}", "E_JSON_SYNTAX"},
      {"deep.json", std::string(10000, '[') + std::string(10000, ']'), "E_JSON_SYNTAX"},
      {"deep-objects.json", [] {
         std::string s;
         for (int i = 0; i < 10000; ++i) s += "{\"a\":";
         s += "1";
         s += std::string(10000, '}');
         return s;
       }(), "E_JSON_SYNTAX"},
      {"types.json", R"({"StartAt": 5, "States": []})", "E_TYPE"},
      {"unknown.json", R"({"StartAt": "A", "States": {"A": {"Type": "Succeed", "Foo": 1}}})",
       "E_UNKNOWN_FIELD"},
      {"cycle.json", R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}})",
       "E_NO_TERMINAL_STATE"},
      {"nul.json", std::string("{\"StartAt\": \"A\0\"}", 17), "E_JSON_SYNTAX"},
  };
  for (const Bad& c : cases) {
    ProcessResult r = Run({"validate", Write(c.name, c.content)});
    EXPECT_EQ(r.exit_code, 1) << c.name << "\n" << r.stdout_text << r.stderr_text;
    EXPECT_NE(r.stdout_text.find(c.code), std::string::npos) << c.name << "\n" << r.stdout_text;
    EXPECT_NE(r.stdout_text.find(c.name + ":1:"), std::string::npos) << r.stdout_text;
  }
}

TEST_F(CliTest, HundredMebibyteFileIsRefusedWithoutLoadingIt) {
  std::string path = (dir_ / "huge.json").string();
  {
    std::ofstream out(path, std::ios::binary);
    std::string chunk(1 << 20, ' ');
    for (int i = 0; i < 100; ++i) out << chunk;
  }
  ProcessResult r = Run({"validate", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stdout_text.find("huge.json:1:1: E_DEFINITION_TOO_LARGE: the definition is "
                               "104857600 bytes"),
            std::string::npos)
      << r.stdout_text;
}

TEST_F(CliTest, FmtSaysWhatToDoWithAPipelineSpec) {
  ProcessResult r = Run({"fmt", kExamples + "fraud-detection/fraud_pipeline.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("is a pipeline spec: fmt formats ASL state machines (.json)"),
            std::string::npos)
      << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("zflow compile"), std::string::npos);
}

TEST_F(CliTest, FmtPrintsCanonicalFormAndCheckDetectsDrift) {
  std::string path = Write("m.json", R"({"States":{"A":{"End":true,"Type":"Pass"}},"StartAt":"A"})");
  ProcessResult r = Run({"fmt", path});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_text,
            "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\n      \"Type\": \"Pass\",\n"
            "      \"End\": true\n    }\n  }\n}\n");
  EXPECT_EQ(Run({"fmt", "--check", path}).exit_code, 1);
  EXPECT_EQ(Run({"fmt", "-w", path}).exit_code, 0);
  EXPECT_EQ(Run({"fmt", "--check", path}).exit_code, 0);
  EXPECT_EQ(Run({"fmt", kExamples + "invalid/broken.asl.json"}).exit_code, 1);
  EXPECT_EQ(Run({"fmt", "-w", "-"}, "{}").exit_code, 2);
}

}  // namespace
}  // namespace zflow

namespace zflow {
namespace {

class RunCliTest : public CliTest {};

json::value LastJsonLine(const std::string& out) {
  std::string_view text(out);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::size_t nl = text.rfind('\n');
  auto doc = ParseJson(nl == std::string_view::npos ? text : text.substr(nl + 1));
  return doc.ok() ? std::move(doc->value) : json::value(nullptr);
}

TEST_F(RunCliTest, ExampleSucceedsWithMocksAndPrintsResultJson) {
  ProcessResult r = Run({"run", kExamples + "ml-training/training.asl.json", "--input-file",
                         kExamples + "ml-training/input.json", "--mock-config",
                         kExamples + "ml-training/mocks.json", "--test-case", "GoodModel",
                         "--virtual-clock", "--result-json", "--history",
                         (dir_ / "h.json").string()});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  json::value last = LastJsonLine(r.stdout_text);
  ASSERT_TRUE(last.is_object()) << r.stdout_text;
  EXPECT_EQ(last.at("status").as_string(), "SUCCEEDED");
  std::ifstream in(dir_ / "h.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto history = ParseJson(text);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->value.at("events").as_array().front().at("type").as_string(),
            "ExecutionStarted");
}

// A JSONata expression that fails: the state, the field and a caret under the place, in the
// output and (as "position") in the EvaluationFailed event.
TEST_F(RunCliTest, FailingJsonataExpressionIsShownWithItsPosition) {
  std::string machine = Write("jsonata.json", R"({"QueryLanguage": "JSONata", "StartAt": "Add",
    "States": {"Add": {"Type": "Pass", "Output": {"sum": "{% $states.input.a + 1 %}"},
    "End": true}}})");
  ProcessResult r = Run({"run", machine, "--input", R"({"a": "x"})", "--history",
                         (dir_ / "h.json").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("── state \"Add\", field 'Output/sum', character 17:\n"
                               "  $states.input.a + 1\n"
                               "                  ^\n"),
            std::string::npos)
      << r.stderr_text;
  std::ifstream in(dir_ / "h.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto history = ParseJson(text);
  ASSERT_TRUE(history.ok());
  bool found = false;
  for (const json::value& e : history->value.at("events").as_array()) {
    if (e.at("type") != "EvaluationFailed") continue;
    const json::value& d = e.at("evaluationFailedEventDetails");
    EXPECT_EQ(d.at("location"), "Output/sum");
    EXPECT_EQ(d.at("state"), "Add");
    EXPECT_EQ(d.at("position"), 17);
    found = true;
  }
  EXPECT_TRUE(found) << text;
}

// `zflow compile --query-language JSONata` on an ASL file writes the converted definition,
// which runs with the same result.
TEST_F(RunCliTest, CompileConvertsAnAslFileToJsonata) {
  std::string machine = Write("m.asl.json", R"j({"StartAt": "P", "States": {"P": {"Type": "Pass",
    "Parameters": {"greeting.$": "States.Format('hello {}', $.name)"}, "ResultPath": "$.out",
    "End": true}}})j");
  ProcessResult c = Run({"compile", machine, "-o", (dir_ / "out").string(), "--query-language",
                         "JSONata"});
  ASSERT_EQ(c.exit_code, 0) << c.stderr_text;
  std::ifstream in(dir_ / "out/statemachine.asl.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"QueryLanguage\": \"JSONata\""), std::string::npos) << text;
  for (const std::string& file : {machine, (dir_ / "out/statemachine.asl.json").string()}) {
    ProcessResult r = Run({"run", file, "--input", R"({"name": "zflow"})", "--result-json", "-q"});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
    EXPECT_EQ(LastJsonLine(r.stdout_text).at("output"),
              (json::object{{"name", "zflow"}, {"out", json::object{{"greeting", "hello zflow"}}}}));
  }
}

TEST_F(RunCliTest, FailedAndTimedOutExitCodes) {
  ProcessResult failed = Run({"run", kExamples + "ml-training/training.asl.json",
                              "--input-file", kExamples + "ml-training/input.json",
                              "--mock-config", kExamples + "ml-training/mocks.json",
                              "--test-case", "TrainingKeepsFailing", "--virtual-clock",
                              "--result-json"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_EQ(LastJsonLine(failed.stdout_text).at("error").as_string(), "Training.Failed");
  std::string slow = Write("slow.json", R"({"StartAt": "W", "TimeoutSeconds": 5, "States": {
    "W": {"Type": "Wait", "Seconds": 3600, "End": true}}})");
  ProcessResult timed_out = Run({"run", slow, "--virtual-clock", "--result-json"});
  EXPECT_EQ(timed_out.exit_code, 3);
  EXPECT_EQ(LastJsonLine(timed_out.stdout_text).at("status").as_string(), "TIMED_OUT");
}

TEST_F(RunCliTest, InvalidDefinitionOrInputIsRefusedWithExitTwo) {
  ProcessResult invalid = Run({"run", kExamples + "invalid/broken.asl.json"});
  EXPECT_EQ(invalid.exit_code, 2);
  EXPECT_NE(invalid.stderr_text.find("E_UNKNOWN_STATE"), std::string::npos);
  ProcessResult bad_input = Run({"run", kExamples + "hello/hello.asl.json", "--input", "{nope"});
  EXPECT_EQ(bad_input.exit_code, 2);
  EXPECT_NE(bad_input.stderr_text.find("--input"), std::string::npos) << bad_input.stderr_text;
}

TEST_F(RunCliTest, LocalCommandTasksAndLambdaStyleErrors) {
  std::string machine = Write("m.json", R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"x.$": "$.x"},
    "Catch": [{"ErrorEquals": ["Score.Failed"], "Next": "Caught"}], "End": true},
    "Caught": {"Type": "Pass", "End": true}}})");
  ProcessResult echo = Run({"run", machine, "--input", R"({"x": 41})", "--task",
                            "arn:aws:states:::lambda:invoke=cat", "--result-json"});
  EXPECT_EQ(echo.exit_code, 0) << echo.stderr_text;
  EXPECT_EQ(LastJsonLine(echo.stdout_text).at("output"), json::value(json::object{{"x", 41}}));
  std::string script = Write("fail.sh",
                             "#!/bin/sh\ncat >/dev/null\necho '{\"errorType\": \"Score.Failed\", "
                             "\"errorMessage\": \"model missing\"}'\nexit 1\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  ProcessResult caught = Run({"run", machine, "--input", R"({"x": 1})", "--task",
                              "arn:aws:states:::lambda:invoke=" + script, "--result-json"});
  EXPECT_EQ(caught.exit_code, 0) << caught.stderr_text;
  EXPECT_EQ(LastJsonLine(caught.stdout_text).at("output").at("Error").as_string(),
            "Score.Failed");
  ProcessResult unserved = Run({"run", machine, "--input", R"({"x": 1})", "--result-json"});
  EXPECT_EQ(unserved.exit_code, 1);
  EXPECT_EQ(LastJsonLine(unserved.stdout_text).at("error").as_string(), "States.Runtime");
}

}  // namespace
}  // namespace zflow

namespace zflow {
namespace {

TEST_F(RunCliTest, TaskTimeoutKillsTheCommandAndTheRunEnds) {
  std::string machine = Write("t.json", R"({"StartAt": "T", "States": {"T": {"Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 1,
    "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "Done"}],
    "End": true}, "Done": {"Type": "Succeed"}}})");
  // Without the kill the process would only exit when `sleep 600` does.
  ProcessResult r = Run({"run", machine, "--task", "arn:aws:states:::lambda:invoke=sleep 600",
                         "--result-json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(LastJsonLine(r.stdout_text).at("output").at("timeout").at("Error").as_string(),
            "States.Timeout");
}

}  // namespace
}  // namespace zflow

namespace zflow {
namespace {

TEST_F(CliTest, GraphWritesDotMermaidAndSvg) {
  ProcessResult dot = Run({"graph", kExamples + "ml-training/training.asl.json"});
  EXPECT_EQ(dot.exit_code, 0);
  EXPECT_EQ(dot.stdout_text.rfind("digraph", 0), 0u);
  ProcessResult mermaid =
      Run({"graph", kExamples + "ml-training/training.asl.json", "--format", "mermaid"});
  EXPECT_EQ(mermaid.stdout_text.rfind("flowchart TD", 0), 0u);
  std::string svg = (dir_ / "g.svg").string();
  ProcessResult written = Run({"graph", kExamples + "ml-training/training.asl.json", "--format",
                               "svg", "-o", svg});
  EXPECT_EQ(written.exit_code, 0) << written.stderr_text;
  std::ifstream in(svg);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_EQ(Run({"graph", kExamples + "invalid/broken.asl.json"}).exit_code, 1);
  EXPECT_EQ(Run({"graph", kExamples + "hello/hello.asl.json", "--format", "png"}).exit_code, 2);
}

// A pipeline draws as its steps by default, as its state machine on request.
TEST_F(CliTest, GraphDrawsAPipelinesStepsOrItsStates) {
  const std::string spec = kExamples + "fraud-detection/fraud_pipeline.yaml";
  ProcessResult steps = Run({"graph", spec});
  ASSERT_EQ(steps.exit_code, 0) << steps.stderr_text;
  EXPECT_EQ(steps.stdout_text.rfind("digraph \"fraud-scoring\"", 0), 0u) << steps.stdout_text;
  EXPECT_NE(steps.stdout_text.find(R"([label="train\ntraining"])"), std::string::npos);
  EXPECT_NE(steps.stdout_text.find(R"([label="deploy (if)\nendpoint", style="rounded,dashed"])"),
            std::string::npos)
      << steps.stdout_text;
  EXPECT_EQ(steps.stdout_text.find("find endpoint"), std::string::npos) << "no states";
  ProcessResult mermaid = Run({"graph", spec, "--format", "mermaid"});
  EXPECT_NE(mermaid.stdout_text.find("s3[\"train<br/>training\"]"), std::string::npos)
      << mermaid.stdout_text;
  ProcessResult states = Run({"graph", spec, "--level", "states"});
  EXPECT_EQ(states.exit_code, 0);
  EXPECT_NE(states.stdout_text.find("deploy: find endpoint"), std::string::npos);
  ProcessResult asl = Run({"graph", kExamples + "hello/hello.asl.json", "--level", "steps"});
  EXPECT_EQ(asl.exit_code, 2);
  EXPECT_NE(asl.stderr_text.find("it has states, not pipeline steps"), std::string::npos);
  const std::string program = std::string(ZFLOW_BINARY_DIR) + "/examples/fraud_pipeline";
  auto cxx = RunProcess({program, "graph"});
  ASSERT_TRUE(cxx.ok());
  EXPECT_EQ(cxx->stdout_text, steps.stdout_text) << "the C++ and YAML forms draw the same";
}

}  // namespace
}  // namespace zflow

namespace zflow {
namespace {

// A pipeline declared in C++ gets the subcommands through zflow::Main.
TEST_F(CliTest, CxxPipelineValidatesCompilesAndRuns) {
  const std::string program = std::string(ZFLOW_BINARY_DIR) + "/examples/fraud_pipeline";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), program);
    auto r = RunProcess(args);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ProcessResult{};
  };
  ProcessResult validate = run({"validate"});
  EXPECT_EQ(validate.exit_code, 0) << validate.stderr_text;
  EXPECT_NE(validate.stdout_text.find("ok: fraud-scoring: 39 states, schedule cron(0 6 * * ? *), IAM: "),
            std::string::npos)
      << validate.stdout_text;
  EXPECT_NE(validate.stdout_text.find("sagemaker:CreateTrainingJob"), std::string::npos);
  ProcessResult compile = run({"compile", "-o", (dir_ / "out").string()});
  EXPECT_EQ(compile.exit_code, 0) << compile.stderr_text;
  // What compile writes is a valid definition for the zflow command too.
  EXPECT_EQ(Run({"validate", (dir_ / "out/statemachine.asl.json").string()}).exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out/graph.svg"));
  ProcessResult executed =
      run({"run", "--mock-config", kExamples + "fraud-detection/mocks.json", "--test-case",
           "HappyPath", "--virtual-clock", "--result-json", "--input", R"({"day": "2026-11-20"})"});
  EXPECT_EQ(executed.exit_code, 0) << executed.stderr_text;
  std::string_view out = executed.stdout_text;
  EXPECT_NE(out.find(R"("status":"SUCCEEDED")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("day":"2026-11-20")"), std::string::npos) << out;
  EXPECT_NE(out.find("model.tar.gz"), std::string::npos) << out;
}

}  // namespace
}  // namespace zflow

namespace zflow {
namespace {

// A YAML pipeline of Lambda functions mapped to Python files by a profile: real processes.
TEST_F(CliTest, YamlPipelineRunsPythonLambdasFromTheProfile) {
  const std::string example = std::string(ZFLOW_SOURCE_DIR) + "/examples/local-lambda";
  ProcessResult r = Run({"run", example + "/pipeline.yaml", "--profile",
                         example + "/zflow.profile.yaml", "--result-json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.stdout_text << r.stderr_text;
  auto result = ParseJson(r.stdout_text.substr(r.stdout_text.find("{\"status\"")));
  ASSERT_TRUE(result.ok()) << r.stdout_text;
  const json::value& steps = result->value.at("output").at("steps");
  EXPECT_EQ(steps.at("summarize").at("Payload").at("rows"), 1000);
  EXPECT_EQ(steps.at("score").as_array().size(), 4u);
  EXPECT_EQ(steps.at("alert").at("Payload").at("alerted"), true);
  // With a threshold nothing passes, the alert is skipped.
  r = Run({"run", example + "/pipeline.yaml", "--profile", example + "/zflow.profile.yaml",
           "--input", R"({"threshold": 0.9})", "--result-json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.stdout_text << r.stderr_text;
  result = ParseJson(r.stdout_text.substr(r.stdout_text.find("{\"status\"")));
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->value.at("output").at("steps").at("alert").is_null());
}

}  // namespace
}  // namespace zflow

namespace zflow {
namespace {

// What a task printed: streamed with --logs, kept under the work directory, and its last lines
// shown when the run fails.
TEST_F(CliTest, RunShowsWhatTasksPrinted) {
  std::ofstream(dir_ / "prep.py") << "def handler(event, context):\n"
                                     "    print('loading rows for', event['day'])\n"
                                     "    if event['day'] == 'bad':\n"
                                     "        print('row 7 is empty')\n"
                                     "        raise ValueError('cannot sum the rows')\n"
                                     "    return 6\n";
  std::ofstream(dir_ / "p.yaml") << "pipeline: logs\nparameters:\n  day: '2026-12-01'\nsteps:\n"
                                    "  - name: prepare\n    lambda:\n      function_name: prep\n"
                                    "      payload: {day: '{{ params.day }}'}\n";
  std::ofstream(dir_ / "zflow.profile.yaml")
      << "work_dir: " << (dir_ / "work").string() << "\nlambda:\n  prep: {python: prep.py}\n";
  const std::string profile = (dir_ / "zflow.profile.yaml").string();
  ProcessResult ok = Run({"run", (dir_ / "p.yaml").string(), "--profile", profile, "--logs",
                          "--name", "good"});
  ASSERT_EQ(ok.exit_code, 0) << ok.stderr_text;
  EXPECT_NE(ok.stderr_text.find(") printed:\nloading rows for 2026-12-01\n"), std::string::npos)
      << ok.stderr_text;
  EXPECT_EQ(ok.stderr_text.find("── prepare (event "), 0u) << ok.stderr_text;
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_ / "work/logs/good")) {
    EXPECT_TRUE(f.path().filename().string().ends_with("-prepare.log")) << f.path();
    ++files;
  }
  EXPECT_EQ(files, 1);
  ProcessResult failed = Run({"run", (dir_ / "p.yaml").string(), "--profile", profile,
                              "--input", R"({"day": "bad"})", "--name", "bad"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.stderr_text.find("── the last 2 lines prepare printed (all of it: "),
            std::string::npos)
      << failed.stderr_text;
  EXPECT_NE(failed.stderr_text.find("   row 7 is empty\n"), std::string::npos) << failed.stderr_text;
  EXPECT_EQ(failed.stderr_text.find("── prepare (event"), std::string::npos) << "no --logs";
}

// Lambda functions implemented in C++ in the pipeline's own program, called in-process by run.
TEST_F(CliTest, CxxNativePipelineCallsItsOwnFunctions) {
  const std::string program = std::string(ZFLOW_BINARY_DIR) + "/examples/native_pipeline";
  auto r = RunProcess({program, "run", "--result-json", "-q"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->stdout_text << r->stderr_text;
  auto result = ParseJson(r->stdout_text.substr(r->stdout_text.find("{\"status\"")));
  ASSERT_TRUE(result.ok()) << r->stdout_text;
  const json::value& steps = result->value.at("output").at("steps");
  EXPECT_EQ(steps.at("profile-all").as_array().size(), 6u);
  EXPECT_EQ(steps.at("page-oncall").at("Payload").at("paged"), true);
  // A function's typed error fails the step with that error name.
  r = RunProcess({program, "run", "--input", R"({"sensors": 0})", "--result-json", "-q"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_NE(r->stdout_text.find(R"("error":"InvalidInput")"), std::string::npos) << r->stdout_text;
}

}  // namespace
}  // namespace zflow

namespace zflow {
namespace {

// A pipeline's input may name only its parameters; the mistake is caught before anything runs.
TEST_F(CliTest, PipelineInputNamingNoParameterIsRefused) {
  std::string pipeline = Write("p.yaml",
                               "pipeline: p\nparameters: {day: \"2026-11-21\", min_auc: 0.7}\n"
                               "steps:\n  - name: w\n    wait: {seconds: 1}\n");
  ProcessResult r = Run({"run", pipeline, "--input", R"({"dya": "2026-11-22"})"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("--input: \"dya\" is not a parameter of the pipeline (did you mean "
                               "\"day\"?); its parameters are day, min_auc; nothing was run"),
            std::string::npos)
      << r.stderr_text;
  r = Run({"run", pipeline, "--input", "[1]"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_text.find("a pipeline's input is an object of its parameters"),
            std::string::npos)
      << r.stderr_text;
  r = Run({"run", pipeline, "--input", R"({"day": "2026-11-22"})", "--virtual-clock", "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  // The YAML validate --json output has the place in its own fields.
  std::string bad = Write("bad.yaml", "pipeline: p\nsteps:\n  - name: a\n    wait: {seconds: x}\n");
  r = Run({"validate", "--json", bad});
  EXPECT_EQ(r.exit_code, 1);
  auto diagnostics = ParseJson(r.stdout_text);
  ASSERT_TRUE(diagnostics.ok()) << r.stdout_text;
  const json::object& d = diagnostics->value.as_array().at(0).as_object();
  EXPECT_EQ(d.at("line").as_int64(), 4);
  EXPECT_EQ(d.at("column").as_int64(), 21);
  EXPECT_EQ(d.at("message").as_string(), "step \"a\": wait.seconds: expected a number, got \"x\"");
}

}  // namespace
}  // namespace zflow
