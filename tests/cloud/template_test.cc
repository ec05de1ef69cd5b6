// CloudFormation templates: the least-privilege policy derived from the definition, the stack's
// resources, and the YAML rendering.
#include "zflow/cloud.h"

#include <gtest/gtest.h>

#include <regex>

#include "common/subprocess.h"

namespace zflow::cloud {
namespace {

// A pipeline touching every integration zflow compiles to.
struct Everything {
  Pipeline p{"fraud scoring",
             {.comment = "Daily fraud model",
              .schedule = "cron(0 6 * * ? *)",
              .tags = {{"team", "risk"}}}};
  StringValue role = p.External("SageMakerRoleArn", "Role SageMaker jobs run as",
                                "arn:aws:iam::123456789012:role/local");
  StringValue workspace = p.External("DatabricksUrl", "Databricks workspace URL",
                                     "http://127.0.0.1:9");
  StringValue connection = p.External("DatabricksConnectionArn", "EventBridge connection",
                                      "arn:aws:events:us-east-1:123456789012:connection/dbx/1");
  StepRef prep = p.Add(DatabricksJob{.name = "preprocess", .workspace_url = workspace,
                                     .connection_arn = connection,
                                     .python_file = "dbfs:/prep.py"});
  StepRef train = p.Add(TrainingJob{.name = "train", .image = "gbm:1", .role_arn = role,
                                    .channels = {{"train", "s3://b/train"}},
                                    .output_path = "s3://b/models"})
                      .After(prep);
  StepRef model = p.Add(Model{.name = "model", .image = "gbm:1",
                              .model_data_url = train.ModelArtifacts(), .role_arn = role})
                      .After(train);
  StepRef deploy = p.Add(EndpointDeployment{.name = "deploy", .endpoint_name = "fraud",
                                            .model_name = model.ModelName()})
                       .After(model);
  StepRef notify = p.Add(LambdaFunction{.name = "notify", .function_name = "fraud-notify"})
                       .After(deploy);
};

const json::object& Resource(const json::value& t, std::string_view name) {
  return t.at("Resources").at(name).as_object();
}

json::array Statements(const json::value& t) {
  return Resource(t, "StateMachineRole")
      .at("Properties").at("Policies").at(0).at("PolicyDocument").at("Statement").as_array();
}

const json::object* Find(const json::array& statements, std::string_view sid) {
  for (const auto& s : statements) {
    if (s.at("Sid").as_string() == sid) return &s.as_object();
  }
  return nullptr;
}

TEST(Template, PolicyIsDerivedFromTheIntegrationsAndScoped) {
  Everything e;
  auto t = PipelineTemplate(e.p);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  json::array st = Statements(*t);
  // No wildcard actions anywhere.
  for (const auto& s : st) {
    for (const auto& a : s.at("Action").as_array()) {
      std::string action(a.as_string());
      EXPECT_EQ(action.find('*'), std::string::npos) << action;
      EXPECT_NE(action.find(':'), std::string::npos) << action;
    }
  }
  const json::object* training = Find(st, "SageMakerTrainingJob");
  ASSERT_NE(training, nullptr) << ToJsonText(json::value(st));
  EXPECT_EQ(ToJsonText(training->at("Resource")),
            R"([{"Fn::Sub":"arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:training-job/train-*"}])");
  EXPECT_NE(ToJsonText(training->at("Action")).find("sagemaker:DescribeTrainingJob"),
            std::string::npos);
  const json::object* pass = Find(st, "PassRoleToSageMaker");
  ASSERT_NE(pass, nullptr);
  EXPECT_EQ(ToJsonText(pass->at("Resource")), R"([{"Fn::Sub":"${SageMakerRoleArn}"}])");
  EXPECT_EQ(pass->at("Condition").at("StringEquals").at("iam:PassedToService"),
            "sagemaker.amazonaws.com");
  const json::object* rules = Find(st, "ManagedRulesForSyncTasks");
  ASSERT_NE(rules, nullptr);
  EXPECT_NE(ToJsonText(rules->at("Resource")).find("rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule"),
            std::string::npos);
  const json::object* lambda = Find(st, "InvokeLambdaFunctions");
  ASSERT_NE(lambda, nullptr);
  EXPECT_EQ(ToJsonText(lambda->at("Resource")),
            R"([{"Fn::Sub":"arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:fraud-notify"},{"Fn::Sub":"arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:fraud-notify:*"}])");
  const json::object* endpoints = Find(st, "SageMakerEndpoints");
  ASSERT_NE(endpoints, nullptr);
  std::string er = ToJsonText(endpoints->at("Resource"));
  EXPECT_NE(er.find("endpoint/fraud\""), std::string::npos) << er;
  EXPECT_NE(er.find("endpoint-config/deploy-*"), std::string::npos) << er;
  ASSERT_NE(Find(st, "SdkSagemaker"), nullptr);
  EXPECT_EQ(ToJsonText(Find(st, "SdkSagemaker")->at("Action")), R"(["sagemaker:DescribeEndpoint"])");
  // The HTTP permission is scoped to this state machine, in its own policy.
  const json::object& http = Resource(*t, "StateMachineHttpPolicy");
  std::string h = ToJsonText(http.at("Properties"));
  EXPECT_NE(h.find(R"("Resource":[{"Ref":"StateMachine"}])"), std::string::npos) << h;
  EXPECT_NE(h.find(R"("states:HTTPEndpoint":[{"Fn::Sub":"${DatabricksUrl}/api/2.1/jobs/runs/get"},{"Fn::Sub":"${DatabricksUrl}/api/2.1/jobs/runs/submit"}])"),
            std::string::npos)
      << h;
  EXPECT_NE(h.find(R"("states:HTTPMethod":["GET","POST"])"), std::string::npos) << h;
  EXPECT_NE(ToJsonText(json::value(st)).find("secret:events!connection/*"), std::string::npos);
}

TEST(Template, StackHasTheStateMachineVersionAliasLogsAlarmAndSchedule) {
  Everything e;
  auto t = PipelineTemplate(e.p);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const json::object& machine = Resource(*t, "StateMachine").at("Properties").as_object();
  EXPECT_EQ(machine.at("DefinitionSubstitutions").at("SageMakerRoleArn"),
            (json::object{{"Ref", "SageMakerRoleArn"}}));
  EXPECT_EQ(machine.at("Definition"), *e.p.CompileJson());
  EXPECT_EQ(machine.at("LoggingConfiguration").at("Level"), "ERROR");
  EXPECT_EQ(machine.at("Tags"), (json::array{json::object{{"Key", "team"}, {"Value", "risk"}}}));
  EXPECT_EQ(t->at("Parameters").at("DatabricksUrl").at("Type"), "String");
  EXPECT_EQ(Resource(*t, "Schedule").at("Properties").at("ScheduleExpression"), "cron(0 6 * * ? *)");
  EXPECT_EQ(Resource(*t, "Schedule").at("Properties").at("Target").at("Arn"),
            (json::object{{"Ref", "StateMachineAlias"}}));
  EXPECT_EQ(Resource(*t, "StateMachineAlias").at("Type"), "AWS::StepFunctions::StateMachineAlias");
  EXPECT_EQ(Resource(*t, "FailedExecutionsAlarm").at("Properties").at("MetricName"),
            "ExecutionsFailed");
  EXPECT_EQ(Resource(*t, "StateMachineVersion").at("Type"),
            "AWS::StepFunctions::StateMachineVersion");
  // No hard-coded region or account: the only account ids come from the local stand-in values,
  // which are not part of the template.
  std::string text = ToJsonText(*t);
  EXPECT_FALSE(std::regex_search(text, std::regex("[0-9]{12}"))) << text;
  EXPECT_EQ(text.find("us-east-1"), std::string::npos);
  // Deterministic.
  EXPECT_EQ(text, ToJsonText(*PipelineTemplate(e.p)));
}

TEST(Template, UnscopablePermissionsAreErrorsNamingTheState) {
  Pipeline p("dynamic-role");
  StringValue role = p.Parameter("role", "arn:aws:iam::1:role/x");
  p.Add(TrainingJob{.name = "train", .image = "i", .role_arn = role,
                    .channels = {{"train", "s3://b/t"}}, .output_path = "s3://b/m"});
  auto t = PipelineTemplate(p);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("state \"train\": the role ARN is computed at run time"),
            std::string::npos)
      << t.status().message();
  json::value local = json::object{
      {"StartAt", "E"},
      {"States", json::object{{"E", json::object{{"Type", "Task"},
                                                 {"Resource", "arn:aws:states:::zflow:echo"},
                                                 {"End", true}}}}}};
  auto l = BuildTemplate(local, {.name = "x"});
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("it runs only locally"), std::string::npos);
  auto bad = BuildTemplate(local, {.name = "x", .log_retention_days = 31});
  EXPECT_FALSE(bad.ok());
}

TEST(Template, NestedStatesAndBareLambdaArnsAreCovered) {
  json::value def = json::object{
      {"StartAt", "P"},
      {"States",
       json::object{{"P", json::object{{"Type", "Parallel"},
                                       {"End", true},
                                       {"Branches",
                                        json::array{json::object{
                                            {"StartAt", "L"},
                                            {"States",
                                             json::object{{"L", json::object{
                                                                    {"Type", "Task"},
                                                                    {"Resource", "arn:aws:lambda:eu-west-1:123456789012:function:f"},
                                                                    {"End", true}}}}}}}}}}}}};
  auto st = ExecutionPolicyStatements(def, {.log_level = "OFF"});
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(ToJsonText(json::value(*st)),
            R"([{"Sid":"InvokeLambdaFunctions","Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["arn:aws:lambda:eu-west-1:123456789012:function:f"]}])");
}

TEST(Yaml, ReadsBackAsTheSameDocument) {
  Everything e;
  auto t = PipelineTemplate(e.p);
  ASSERT_TRUE(t.ok());
  json::value doc = *t;
  doc.as_object()["Edge"] = json::object{
      {"empty", json::object()}, {"list", json::array()}, {"yes", "no"}, {"n", 1.5},
      {"big", 1e300}, {"neg", -3}, {"quote", "it's \"x\": y # z"}, {"multi", "a\nb"},
      {"nested", json::array{json::array{1, 2}, json::object{{"a", nullptr}}}},
      {"colon", "a:b"}, {"lead", " x"}, {"num", "123"}, {"bool", "true"}};
  std::string yaml = ToYaml(doc);
  EXPECT_EQ(yaml, ToYaml(doc));
  auto r = RunProcess({"/usr/bin/python3", "-c",
                       "import sys, json, yaml\n"
                       "print(json.dumps(yaml.safe_load(sys.stdin.read()), sort_keys=True))"},
                      yaml);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->stderr_text << "\n" << yaml;
  auto py = RunProcess({"/usr/bin/python3", "-c",
                        "import sys, json\n"
                        "print(json.dumps(json.loads(sys.stdin.read()), sort_keys=True))"},
                       ToJsonText(doc));
  ASSERT_TRUE(py.ok());
  EXPECT_EQ(r->stdout_text, py->stdout_text) << yaml;
}

}  // namespace
}  // namespace zflow::cloud
