#include "asl/payload_template.h"

#include <gtest/gtest.h>

namespace zflow::asl {
namespace {

json::value Parse(std::string_view text) { return std::move(ParseJson(text)->value); }

class PayloadTemplateTest : public ::testing::Test {
 protected:
  json::value input_ = Parse(R"j({"name": "fraud", "rows": [1, 2, 3], "cfg": {"depth": 6}})j");
  json::value context_ = Parse(R"j({"Execution": {"Name": "run-7"}})j");
  EvaluationContext Ctx() {
    EvaluationContext ctx;
    ctx.input = &input_;
    ctx.context = &context_;
    return ctx;
  }
};

TEST_F(PayloadTemplateTest, SubstitutesPathsContextAndIntrinsics) {
  auto t = PayloadTemplate::Compile(Parse(R"j({
    "JobName.$": "States.Format('{}-{}', $.name, $$.Execution.Name)",
    "Static": {"a": [1, {"b": true}]},
    "Nested": {"depth.$": "$.cfg.depth", "list": [{"n.$": "$.rows[1]"}]},
    "All.$": "$.rows[*]",
    "Count.$": "States.ArrayLength($.rows)"})j"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_FALSE(t->is_constant());
  auto out = t->Evaluate(Ctx(), errors::kParameterPathFailure);
  ASSERT_TRUE(out.ok()) << out.error().cause;
  EXPECT_EQ(*out, Parse(R"j({
    "JobName": "fraud-run-7",
    "Static": {"a": [1, {"b": true}]},
    "Nested": {"depth": 6, "list": [{"n": 2}]},
    "All": [1, 2, 3],
    "Count": 3})j"));
}

TEST_F(PayloadTemplateTest, ConstantTemplateIsReturnedAsIs) {
  auto t = PayloadTemplate::Compile(Parse(R"j({"a": 1, "b.c": [true]})j"));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_constant());
  EXPECT_EQ(*t->Evaluate(Ctx(), errors::kParameterPathFailure), Parse(R"j({"a": 1, "b.c": [true]})j"));
}

TEST_F(PayloadTemplateTest, MissingPathFailsWithTheGivenErrorNamingKeyAndPath) {
  auto t = PayloadTemplate::Compile(Parse(R"j({"x": {"model.$": "$.training.model"}})j"));
  ASSERT_TRUE(t.ok());
  auto out = t->Evaluate(Ctx(), errors::kParameterPathFailure);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().error, "States.ParameterPathFailure");
  EXPECT_NE(out.error().cause.find("'$.training.model'"), std::string::npos);
  EXPECT_NE(out.error().cause.find("'model.$'"), std::string::npos);
}

TEST_F(PayloadTemplateTest, IntrinsicFailureKeepsItsName) {
  auto t = PayloadTemplate::Compile(Parse(R"j({"n.$": "States.ArrayLength($.name)"})j"));
  ASSERT_TRUE(t.ok());
  auto out = t->Evaluate(Ctx(), errors::kParameterPathFailure);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().error, "States.IntrinsicFailure");
}

TEST(PayloadTemplate, CompileRejectsBadDynamicValues) {
  EXPECT_FALSE(PayloadTemplate::Compile(Parse(R"j({"a.$": 5})j")).ok());
  EXPECT_FALSE(PayloadTemplate::Compile(Parse(R"j({"a.$": "$.x["})j")).ok());
  auto bad = PayloadTemplate::Compile(Parse(R"j({"a": {"b.$": "States.Nope(1)"}})j"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("b.$"), std::string::npos);
}

}  // namespace
}  // namespace zflow::asl
