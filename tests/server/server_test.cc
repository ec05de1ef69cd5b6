// zflow serve in-process, driven over HTTP as a client would: the Step Functions JSON protocol,
// its errors, recovery after a restart, authentication and metrics.
#include "zflow/server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "cloud/sigv4.h"
#include "zflow/json.h"

namespace zflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kRole = "arn:aws:iam::123456789012:role/test";
constexpr std::string_view kMachinePrefix = "arn:aws:states:us-east-1:123456789012:stateMachine:";

struct Reply {
  int status = 0;
  json::value body;
  std::string type() const {
    const json::value* t = body.is_object() ? body.as_object().if_contains("__type") : nullptr;
    if (t == nullptr) return "";
    std::string_view s = t->as_string();
    return std::string(s.substr(s.find('#') + 1));
  }
  std::string Str(std::string_view key) const {
    const json::value* v = body.as_object().if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("zflow-server-test-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    StartServer({});
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void StartServer(ServerOptions options) {
    options.port = 0;
    options.data_dir = (dir_ / "data").string();
    auto s = Server::Start(options);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
  }

  Reply Raw(std::string_view target, std::string body,
            httplib::Headers headers = {}) {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(70, 0);
    if (!target.empty()) headers.emplace("X-Amz-Target", std::string(target));
    auto res = client.Post("/", headers, body, "application/x-amz-json-1.0");
    Reply out;
    if (!res) return out;
    out.status = res->status;
    auto parsed = ParseJson(res->body);
    if (parsed.ok()) out.body = std::move(parsed->value);
    return out;
  }

  Reply Call(std::string_view action, const json::object& in) {
    return Raw(fmt::format("AWSStepFunctions.{}", action), ToJsonText(in));
  }

  std::string CreateMachine(std::string_view name, std::string_view definition,
                            std::string_view type = "STANDARD") {
    Reply r = Call("CreateStateMachine", {{"name", name},
                                          {"definition", definition},
                                          {"roleArn", kRole},
                                          {"type", type}});
    EXPECT_EQ(r.status, 200) << ToJsonText(r.body);
    return r.Str("stateMachineArn");
  }

  std::string Start(std::string_view machine, std::string_view name, std::string_view input = "{}") {
    Reply r = Call("StartExecution", {{"stateMachineArn", machine}, {"name", name}, {"input", input}});
    EXPECT_EQ(r.status, 200) << ToJsonText(r.body);
    return r.Str("executionArn");
  }

  // Polls DescribeExecution until the execution leaves RUNNING (bounded).
  Reply AwaitEnd(std::string_view execution) {
    Reply r;
    for (int i = 0; i < 2000; ++i) {
      r = Call("DescribeExecution", {{"executionArn", execution}});
      if (r.Str("status") != "RUNNING") return r;
      std::this_thread::sleep_for(5ms);
    }
    return r;
  }

  // The first history event of `type`, once it is there (bounded).
  json::object AwaitEvent(std::string_view execution, std::string_view type) {
    for (int i = 0; i < 2000; ++i) {
      Reply r = Call("GetExecutionHistory", {{"executionArn", execution}, {"maxResults", 1000}});
      for (const json::value& e : r.body.as_object().at("events").as_array()) {
        if (e.as_object().at("type").as_string() == type) return e.as_object();
      }
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no " << type << " event in " << execution;
    return {};
  }

  // The token a .waitForTaskToken task passed in its parameters ({"token.$": "$$.Task.Token"}).
  std::string AwaitToken(std::string_view execution) {
    json::object scheduled = AwaitEvent(execution, "TaskScheduled");
    if (scheduled.empty()) return "";
    auto params = ParseJson(scheduled.at("taskScheduledEventDetails").as_object().at("parameters")
                                .as_string());
    const json::object& p = params->value.as_object();
    const json::value& body = p.contains("MessageBody") ? p.at("MessageBody") : params->value;
    return std::string(body.as_object().at("token").as_string());
  }

  fs::path dir_;
  std::unique_ptr<Server> server_;
};

constexpr std::string_view kPass =
    R"({"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"got.$":"$.x"},"Next":"Q"},
        "Q":{"Type":"Pass","End":true}}})";
// Waits for an answer: nothing local serves SQS, so the token goes out in the history only.
constexpr std::string_view kToken =
    R"({"StartAt":"Ask","States":{"Ask":{"Type":"Task",
        "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters":{"QueueUrl":"https://sqs/q","MessageBody":{"token.$":"$$.Task.Token"}},
        "End":true}}})";

TEST_F(ServerTest, RunsAnExecutionAndPagesThroughItsHistory) {
  std::string machine = CreateMachine("pass", kPass);
  EXPECT_EQ(machine, std::string(kMachinePrefix) + "pass");
  Reply described = Call("DescribeStateMachine", {{"stateMachineArn", machine}});
  EXPECT_EQ(described.Str("definition"), kPass);
  EXPECT_EQ(described.Str("status"), "ACTIVE");
  std::string execution = Start(machine, "first", R"({"x":42})");
  Reply end = AwaitEnd(execution);
  EXPECT_EQ(end.Str("status"), "SUCCEEDED");
  EXPECT_EQ(end.Str("output"), R"({"got":42})");
  EXPECT_TRUE(end.body.as_object().at("startDate").is_double());

  // Forward in pages of 2, then backward: the same 6 events.
  std::vector<std::string> forward;
  std::string token;
  do {
    json::object in{{"executionArn", execution}, {"maxResults", 2}};
    if (!token.empty()) in["nextToken"] = token;
    Reply page = Call("GetExecutionHistory", in);
    ASSERT_EQ(page.status, 200) << ToJsonText(page.body);
    for (const json::value& e : page.body.as_object().at("events").as_array()) {
      forward.emplace_back(e.as_object().at("type").as_string());
      EXPECT_TRUE(e.as_object().at("timestamp").is_double());
    }
    token = page.Str("nextToken");
  } while (!token.empty());
  EXPECT_EQ(forward, (std::vector<std::string>{"ExecutionStarted", "PassStateEntered",
                                               "PassStateExited", "PassStateEntered",
                                               "PassStateExited", "ExecutionSucceeded"}));
  Reply reverse = Call("GetExecutionHistory",
                       {{"executionArn", execution}, {"reverseOrder", true}, {"maxResults", 1}});
  EXPECT_EQ(reverse.body.as_object().at("events").as_array()[0].as_object().at("type").as_string(),
            "ExecutionSucceeded");
  Reply list = Call("ListExecutions", {{"stateMachineArn", machine}, {"statusFilter", "SUCCEEDED"}});
  ASSERT_EQ(list.body.as_object().at("executions").as_array().size(), 1u);
  Reply none = Call("ListExecutions", {{"stateMachineArn", machine}, {"statusFilter", "FAILED"}});
  EXPECT_TRUE(none.body.as_object().at("executions").as_array().empty());
}

TEST_F(ServerTest, ListsExecutionsNewestFirstInPages) {
  std::string machine = CreateMachine("many", kPass);
  for (int i = 0; i < 7; ++i) AwaitEnd(Start(machine, fmt::format("e{}", i), R"({"x":1})"));
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    json::object in{{"stateMachineArn", machine}, {"maxResults", 3}};
    if (!token.empty()) in["nextToken"] = token;
    Reply page = Call("ListExecutions", in);
    ASSERT_EQ(page.status, 200);
    for (const json::value& e : page.body.as_object().at("executions").as_array()) {
      names.emplace_back(e.as_object().at("name").as_string());
    }
    token = page.Str("nextToken");
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"e6", "e5", "e4", "e3", "e2", "e1", "e0"}));
}

TEST_F(ServerTest, AnswersBadRequestsWithAwsErrors) {
  std::string machine = CreateMachine("m", kPass);
  EXPECT_EQ(Raw("AWSStepFunctions.NoSuchThing", "{}").type(), "UnknownOperationException");
  EXPECT_EQ(Raw("", "{}").type(), "UnknownOperationException");
  EXPECT_EQ(Raw("AWSStepFunctions.ListStateMachines", "{not json").type(), "SerializationException");
  EXPECT_EQ(Raw("AWSStepFunctions.ListStateMachines", "[1,2]").type(), "SerializationException");
  EXPECT_EQ(Call("ListStateMachines", {{"maxResults", "ten"}}).type(), "SerializationException");
  EXPECT_EQ(Call("ListStateMachines", {{"maxResults", 5000}}).type(), "ValidationException");
  EXPECT_EQ(Call("ListStateMachines", {{"nextToken", std::string(5000, 'a')}}).type(),
            "ValidationException");
  EXPECT_EQ(Call("ListStateMachines", {{"nextToken", "forged"}}).type(), "InvalidToken");
  Reply missing = Call("DescribeExecution",
                       {{"executionArn", "arn:aws:states:us-east-1:123456789012:execution:m:nope"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.type(), "ExecutionDoesNotExist");
  EXPECT_NE(missing.Str("message").find("execution:m:nope"), std::string::npos);
  EXPECT_EQ(Call("DescribeExecution", {{"executionArn", "not-an-arn"}}).type(), "InvalidArn");
  EXPECT_EQ(Call("DescribeExecution", {{"executionArn", machine}}).type(), "InvalidArn");
  EXPECT_EQ(Call("DescribeStateMachine", {{"stateMachineArn", machine + "x"}}).type(),
            "StateMachineDoesNotExist");
  EXPECT_EQ(Call("DescribeExecution", json::object{}).type(), "ValidationException");
  Reply invalid = Call("CreateStateMachine", {{"name", "bad"},
                                              {"definition", R"({"StartAt":"Nope","States":{}})"},
                                              {"roleArn", kRole}});
  EXPECT_EQ(invalid.type(), "InvalidDefinition");
  EXPECT_NE(invalid.Str("message").find("Invalid State Machine Definition"), std::string::npos);
  EXPECT_EQ(Call("CreateStateMachine",
                 {{"name", "has space"}, {"definition", kPass}, {"roleArn", kRole}})
                .type(),
            "InvalidName");
  EXPECT_EQ(Call("CreateStateMachine", {{"name", "m"}, {"definition", kToken}, {"roleArn", kRole}})
                .type(),
            "StateMachineAlreadyExists");
  EXPECT_EQ(Call("StartExecution", {{"stateMachineArn", machine}, {"input", "{oops"}}).type(),
            "InvalidExecutionInput");
  Start(machine, "once", R"({"x":1})");
  EXPECT_EQ(Call("StartExecution",
                 {{"stateMachineArn", machine}, {"name", "once"}, {"input", R"({"x":2})"}})
                .type(),
            "ExecutionAlreadyExists");
  // The server still answers.
  EXPECT_EQ(Call("ListStateMachines", {}).status, 200);
}

TEST_F(ServerTest, TaskTokensStopAndRedrive) {
  std::string machine = CreateMachine("token", kToken);
  std::string execution = Start(machine, "t1");
  std::string token = AwaitToken(execution);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(Call("SendTaskSuccess", {{"taskToken", token}, {"output", "{nope"}}).type(),
            "InvalidOutput");
  EXPECT_EQ(Call("SendTaskSuccess", {{"taskToken", "garbage"}, {"output", "{}"}}).type(),
            "InvalidToken");
  ASSERT_EQ(Call("SendTaskSuccess", {{"taskToken", token}, {"output", R"({"ok":1})"}}).status, 200);
  EXPECT_EQ(AwaitEnd(execution).Str("output"), R"({"ok":1})");
  EXPECT_EQ(Call("SendTaskSuccess", {{"taskToken", token}, {"output", "{}"}}).type(),
            "TaskDoesNotExist");

  // Stop: ABORTED as soon as StopExecution returns.
  std::string stopped = Start(machine, "t2");
  AwaitToken(stopped);
  Reply stop = Call("StopExecution",
                    {{"executionArn", stopped}, {"error", "Manual"}, {"cause", "testing"}});
  ASSERT_EQ(stop.status, 200);
  Reply described = Call("DescribeExecution", {{"executionArn", stopped}});
  EXPECT_EQ(described.Str("status"), "ABORTED");
  EXPECT_EQ(described.Str("error"), "Manual");
  EXPECT_EQ(described.Str("redriveStatus"), "REDRIVABLE");

  // Redrive: the Ask task runs again, and this time it is answered.
  Reply redrive = Call("RedriveExecution", {{"executionArn", stopped}});
  ASSERT_EQ(redrive.status, 200) << ToJsonText(redrive.body);
  EXPECT_EQ(Call("DescribeExecution", {{"executionArn", stopped}}).Str("status"), "RUNNING");
  std::string again;
  for (int i = 0; i < 2000 && (again.empty() || again == token); ++i) {
    Reply h = Call("GetExecutionHistory", {{"executionArn", stopped}, {"reverseOrder", true}});
    for (const json::value& e : h.body.as_object().at("events").as_array()) {
      if (e.as_object().at("type").as_string() != "TaskScheduled") continue;
      auto p = ParseJson(e.as_object().at("taskScheduledEventDetails").as_object().at("parameters")
                             .as_string());
      again = std::string(p->value.as_object().at("MessageBody").as_object().at("token").as_string());
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(Call("SendTaskSuccess", {{"taskToken", again}, {"output", "{}"}}).status, 200);
  Reply end = AwaitEnd(stopped);
  EXPECT_EQ(end.Str("status"), "SUCCEEDED");
  EXPECT_EQ(end.body.as_object().at("redriveCount").as_int64(), 1);
  EXPECT_EQ(Call("RedriveExecution", {{"executionArn", stopped}}).type(), "ExecutionNotRedrivable");
}

TEST_F(ServerTest, ResumesRunningExecutionsAfterARestart) {
  std::string machine = CreateMachine("token", kToken);
  std::string execution = Start(machine, "survivor");
  std::string token = AwaitToken(execution);
  ASSERT_FALSE(token.empty());
  server_.reset();  // as a stop would; the kill loop (tests/integration) uses SIGKILL
  StartServer({});
  EXPECT_EQ(server_->recovered(), 1u);
  // The resumed execution waits for the same token.
  ASSERT_EQ(Call("SendTaskSuccess", {{"taskToken", token}, {"output", R"({"after":"restart"})"}})
                .status,
            200);
  Reply end = AwaitEnd(execution);
  EXPECT_EQ(end.Str("status"), "SUCCEEDED");
  EXPECT_EQ(end.Str("output"), R"({"after":"restart"})");
  // One ExecutionStarted, one TaskScheduled: nothing ran twice.
  Reply h = Call("GetExecutionHistory", {{"executionArn", execution}});
  int started = 0, scheduled = 0;
  for (const json::value& e : h.body.as_object().at("events").as_array()) {
    started += e.as_object().at("type").as_string() == "ExecutionStarted";
    scheduled += e.as_object().at("type").as_string() == "TaskScheduled";
  }
  EXPECT_EQ(started, 1);
  EXPECT_EQ(scheduled, 1);
}

TEST_F(ServerTest, VersionsAndAliasesRouteExecutions) {
  std::string machine = CreateMachine("versioned", kPass);
  Reply v1 = Call("PublishStateMachineVersion", {{"stateMachineArn", machine}, {"description", "one"}});
  ASSERT_EQ(v1.status, 200) << ToJsonText(v1.body);
  EXPECT_EQ(v1.Str("stateMachineVersionArn"), machine + ":1");
  Reply alias = Call("CreateStateMachineAlias",
                     {{"name", "prod"},
                      {"routingConfiguration",
                       json::array{json::object{{"stateMachineVersionArn", machine + ":1"},
                                                {"weight", 100}}}}});
  ASSERT_EQ(alias.status, 200) << ToJsonText(alias.body);
  EXPECT_EQ(alias.Str("stateMachineAliasArn"), machine + ":prod");
  // The machine changes; the alias still runs version 1.
  constexpr std::string_view kV2 =
      R"({"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v2","End":true}}})";
  ASSERT_EQ(Call("UpdateStateMachine", {{"stateMachineArn", machine}, {"definition", kV2}}).status,
            200);
  Reply through = AwaitEnd(Start(machine + ":prod", "via-alias", R"({"x":"v1"})"));
  EXPECT_EQ(through.Str("output"), R"({"got":"v1"})");
  EXPECT_EQ(through.Str("stateMachineAliasArn"), machine + ":prod");
  EXPECT_EQ(through.Str("stateMachineVersionArn"), machine + ":1");
  EXPECT_EQ(AwaitEnd(Start(machine, "latest")).Str("output"), R"("v2")");
  Reply v2 = Call("PublishStateMachineVersion", {{"stateMachineArn", machine}});
  EXPECT_EQ(v2.Str("stateMachineVersionArn"), machine + ":2");
  ASSERT_EQ(Call("UpdateStateMachineAlias",
                 {{"stateMachineAliasArn", machine + ":prod"},
                  {"routingConfiguration",
                   json::array{json::object{{"stateMachineVersionArn", machine + ":2"},
                                            {"weight", 100}}}}})
                .status,
            200);
  EXPECT_EQ(AwaitEnd(Start(machine + ":prod", "via-alias-2")).Str("output"), R"("v2")");
  Reply versions = Call("ListStateMachineVersions", {{"stateMachineArn", machine}});
  EXPECT_EQ(versions.body.as_object().at("stateMachineVersions").as_array().size(), 2u);
  EXPECT_EQ(Call("DeleteStateMachineVersion", {{"stateMachineVersionArn", machine + ":2"}}).type(),
            "ConflictException");
  Reply by_version = Call("ListExecutions", {{"stateMachineArn", machine + ":1"}});
  EXPECT_EQ(by_version.body.as_object().at("executions").as_array().size(), 1u);
  Reply described = Call("DescribeStateMachine", {{"stateMachineArn", machine + ":1"}});
  EXPECT_EQ(described.Str("definition"), kPass);
}

TEST_F(ServerTest, ActivitiesHandTasksToWorkers) {
  Reply activity = Call("CreateActivity", {{"name", "review"}});
  ASSERT_EQ(activity.status, 200);
  std::string arn = activity.Str("activityArn");
  std::string machine = CreateMachine(
      "with-activity",
      fmt::format(R"({{"StartAt":"Review","States":{{"Review":{{"Type":"Task","Resource":"{}",
          "End":true}}}}}})",
                  arn));
  std::string execution = Start(machine, "a1", R"({"doc":7})");
  Reply task = Call("GetActivityTask", {{"activityArn", arn}, {"workerName", "w"}});
  ASSERT_EQ(task.status, 200);
  EXPECT_EQ(task.Str("input"), R"({"doc":7})");
  ASSERT_EQ(Call("SendTaskSuccess", {{"taskToken", task.Str("taskToken")}, {"output", R"("ok")"}})
                .status,
            200);
  EXPECT_EQ(AwaitEnd(execution).Str("output"), R"("ok")");
  EXPECT_EQ(Call("DescribeActivity", {{"activityArn", arn}}).Str("name"), "review");
}

TEST_F(ServerTest, StartSyncExecutionRunsExpressMachines) {
  std::string express = CreateMachine("fast", kPass, "EXPRESS");
  Reply r = Call("StartSyncExecution", {{"stateMachineArn", express}, {"input", R"({"x":5})"}});
  ASSERT_EQ(r.status, 200) << ToJsonText(r.body);
  EXPECT_EQ(r.Str("status"), "SUCCEEDED");
  EXPECT_EQ(r.Str("output"), R"({"got":5})");
  std::string standard = CreateMachine("slow", kPass);
  EXPECT_EQ(Call("StartSyncExecution", {{"stateMachineArn", standard}}).type(),
            "StateMachineTypeNotSupported");
}

TEST_F(ServerTest, ValidatesDefinitionsAndTestsStates) {
  Reply ok = Call("ValidateStateMachineDefinition", {{"definition", kPass}});
  EXPECT_EQ(ok.Str("result"), "OK");
  Reply bad = Call("ValidateStateMachineDefinition",
                   {{"definition", R"({"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}})"}});
  EXPECT_EQ(bad.Str("result"), "FAIL");
  ASSERT_FALSE(bad.body.as_object().at("diagnostics").as_array().empty());

  Reply pass = Call("TestState", {{"definition", R"({"Type":"Pass","Parameters":{"y.$":"$.x"},
                                                     "Next":"Later"})"},
                                  {"input", R"({"x":3})"}});
  ASSERT_EQ(pass.status, 200) << ToJsonText(pass.body);
  EXPECT_EQ(pass.Str("status"), "SUCCEEDED");
  EXPECT_EQ(pass.Str("output"), R"({"y":3})");
  EXPECT_EQ(pass.Str("nextState"), "Later");
  Reply choice = Call("TestState",
                      {{"definition", R"({"Type":"Choice","Choices":[{"Variable":"$.n",
                           "NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"})"},
                       {"input", R"({"n":5})"}});
  EXPECT_EQ(choice.Str("nextState"), "Big");
  Reply fail = Call("TestState", {{"definition", R"({"Type":"Fail","Error":"E","Cause":"C"})"}});
  EXPECT_EQ(fail.Str("status"), "FAILED");
  EXPECT_EQ(fail.Str("error"), "E");
}

TEST_F(ServerTest, TagsMachines) {
  std::string machine = CreateMachine("tagged", kPass);
  ASSERT_EQ(Call("TagResource", {{"resourceArn", machine},
                                 {"tags", json::array{json::object{{"key", "team"}, {"value", "ml"}},
                                                      json::object{{"key", "env"}, {"value", "dev"}}}}})
                .status,
            200);
  ASSERT_EQ(Call("UntagResource", {{"resourceArn", machine}, {"tagKeys", json::array{"env"}}}).status,
            200);
  Reply tags = Call("ListTagsForResource", {{"resourceArn", machine}});
  EXPECT_EQ(ToJsonText(tags.body), R"({"tags":[{"key":"team","value":"ml"}]})");
  EXPECT_EQ(Call("ListTagsForResource", {{"resourceArn", machine + "-gone"}}).type(),
            "ResourceNotFound");
}

TEST_F(ServerTest, KeepsWhatTasksPrint) {
  server_.reset();
  fs::create_directories(dir_);
  {
    std::ofstream(dir_ / "noisy.py") << "def handler(event, context):\n"
                                         "    print('scoring batch', event['batch'])\n"
                                         "    return {'scored': event['batch']}\n";
    std::ofstream(dir_ / "zflow.profile.yaml")
        << "lambda:\n  noisy: {python: " << (dir_ / "noisy.py").string() << "}\n";
  }
  StartServer({.profile = (dir_ / "zflow.profile.yaml").string()});
  std::string machine = CreateMachine(
      "noisy", R"({"StartAt":"Score","States":{"Score":{"Type":"Task",
          "Resource":"arn:aws:states:::lambda:invoke",
          "Parameters":{"FunctionName":"noisy","Payload":{"batch.$":"$.batch"}},
          "ResultSelector":{"scored.$":"$.Payload.scored"},"End":true}}})");
  std::string execution = Start(machine, "n1", R"({"batch":7})");
  ASSERT_EQ(AwaitEnd(execution).Str("output"), R"({"scored":7})");
  httplib::Client client("127.0.0.1", server_->port());
  auto res = client.Get("/zflow/task-logs?executionArn=" + execution);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto logs = ParseJson(res->body);
  ASSERT_TRUE(logs.ok());
  const json::array& list = logs->value.as_object().at("logs").as_array();
  ASSERT_EQ(list.size(), 1u) << res->body;
  EXPECT_EQ(list[0].as_object().at("stateName").as_string(), "Score");
  EXPECT_EQ(list[0].as_object().at("log").as_string(), "scoring batch 7\n");
  auto missing = client.Get("/zflow/task-logs?executionArn=" + execution + "x");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400);
}

TEST_F(ServerTest, ServesPrometheusMetrics) {
  std::string machine = CreateMachine("measured", kPass);
  AwaitEnd(Start(machine, "m1", R"({"x":1})"));
  httplib::Client client("127.0.0.1", server_->port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("zflow_executions{status=\"SUCCEEDED\"} 1"), std::string::npos);
  EXPECT_NE(res->body.find("zflow_state_transitions_total 2"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("zflow_state_duration_seconds_count 2"), std::string::npos);
  EXPECT_NE(res->body.find("zflow_api_requests_total{action=\"StartExecution\",error=\"\"} 1"),
            std::string::npos);
}

TEST_F(ServerTest, RequiresSignaturesWhenItHasCredentials) {
  server_.reset();
  StartServer({.access_key_id = "AKIDZFLOW", .secret_access_key = "s3cret"});
  EXPECT_TRUE(server_->authenticated());
  Reply unsigned_reply = Call("ListStateMachines", {});
  EXPECT_EQ(unsigned_reply.status, 403);
  EXPECT_EQ(unsigned_reply.type(), "MissingAuthenticationToken");

  auto signed_call = [&](std::string_view secret) {
    std::string body = "{}";
    cloud::SigV4Request request{
        .method = "POST",
        .path = "/",
        .headers = {{"Host", fmt::format("127.0.0.1:{}", server_->port())},
                    {"Content-Type", "application/x-amz-json-1.0"},
                    {"X-Amz-Target", "AWSStepFunctions.ListStateMachines"}},
        .body = body};
    EXPECT_TRUE(cloud::SignRequest(request, {"AKIDZFLOW", std::string(secret), ""},
                                   {.region = "us-east-1", .service = "states"},
                                   SystemClock().Now())
                    .ok());
    httplib::Headers headers;
    for (const auto& [k, v] : request.headers) {
      if (k != "Host" && k != "Content-Type") headers.emplace(k, v);
    }
    return Raw("", body, headers);
  };
  EXPECT_EQ(signed_call("s3cret").status, 200);
  Reply wrong = signed_call("guess");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.type(), "InvalidSignatureException");
}

TEST_F(ServerTest, ConcurrentClientsGetConsistentAnswers) {
  std::string machine = CreateMachine("busy", kPass);
  constexpr int kClients = 8;
  constexpr int kRounds = 60;
  std::atomic<int> bad{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kRounds; ++i) {
        std::string name = fmt::format("c{}-{}", c, i);
        Reply started = Call("StartExecution", {{"stateMachineArn", machine}, {"name", name},
                                                {"input", R"({"x":1})"}});
        if (started.status != 200) ++bad;
        Reply described = Call("DescribeExecution", {{"executionArn", started.Str("executionArn")}});
        if (described.status != 200 || described.Str("name") != name) ++bad;
        if (Call("ListExecutions", {{"stateMachineArn", machine}, {"maxResults", 5}}).status != 200) {
          ++bad;
        }
        if (Raw("AWSStepFunctions.StartExecution", "{\"broken").type() != "SerializationException") {
          ++bad;
        }
        if (Call("SendTaskSuccess", {{"taskToken", "zflow-nope"}, {"output", "{}"}}).type() !=
            "TaskDoesNotExist") {
          ++bad;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(bad.load(), 0);
  // Every execution is there, and each ends.
  int succeeded = 0;
  std::string token;
  do {
    json::object in{{"stateMachineArn", machine}, {"maxResults", 1000}};
    if (!token.empty()) in["nextToken"] = token;
    Reply page = Call("ListExecutions", in);
    for (const json::value& e : page.body.as_object().at("executions").as_array()) {
      succeeded += AwaitEnd(e.as_object().at("executionArn").as_string()).Str("status") == "SUCCEEDED";
    }
    token = page.Str("nextToken");
  } while (!token.empty());
  EXPECT_EQ(succeeded, kClients * kRounds);
}

TEST(ServerStart, RefusesToListenBeyondLoopbackWithoutCredentials) {
  auto s = Server::Start({.host = "0.0.0.0", .port = 0, .data_dir = "/nonexistent/never"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("without credentials"), std::string::npos);
}

TEST(ServerStart, SaysWhenThePortIsTaken) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("zflow-port-{}", ::getpid());
  auto first = Server::Start({.port = 0, .data_dir = (dir / "a").string()});
  ASSERT_TRUE(first.ok());
  auto second = Server::Start({.port = (*first)->port(), .data_dir = (dir / "b").string()});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
  first->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace zflow
