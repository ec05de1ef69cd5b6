#include "zflow/asl_parser.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace zflow::asl {
namespace {

bool HasCode(const ParseReport& r, std::string_view code) {
  return std::any_of(r.diagnostics.begin(), r.diagnostics.end(),
                     [&](const Diagnostic& d) { return d.code == code; });
}

TEST(Parser, BuildsTypedModelForEveryStateType) {
  constexpr std::string_view kText = R"({
  "Comment": "all types",
  "StartAt": "P",
  "TimeoutSeconds": 60,
  "States": {
    "P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "T"},
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "TimeoutSeconds": 30,
          "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2, "BackoffRate": 1.5,
                     "JitterStrategy": "FULL"}],
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", "ResultPath": "$.error"}],
          "Next": "C"},
    "C": {"Type": "Choice", "Choices": [
            {"And": [{"Variable": "$.a", "NumericGreaterThan": 1},
                     {"Not": {"Variable": "$.b", "IsPresent": true}}], "Next": "W"}],
          "Default": "S"},
    "W": {"Type": "Wait", "Seconds": 5, "Next": "Par"},
    "Par": {"Type": "Parallel", "Branches": [
              {"StartAt": "B1", "States": {"B1": {"Type": "Succeed"}}}], "Next": "M"},
    "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
          "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I",
                            "States": {"I": {"Type": "Pass", "End": true}}},
          "End": true},
    "S": {"Type": "Succeed"},
    "F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}
  }
})";
  ParseReport r = ParseStateMachineText(kText);
  ASSERT_TRUE(r.diagnostics.empty()) << r.diagnostics[0].message;
  const StateMachine& m = *r.machine;
  EXPECT_EQ(m.start_at(), "P");
  EXPECT_EQ(m.timeout_seconds, 60);
  ASSERT_EQ(m.states().size(), 8u);
  const State* t = m.top().Find("T");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, StateType::kTask);
  EXPECT_EQ(t->task().resource, "arn:aws:states:::lambda:invoke");
  ASSERT_EQ(t->retry.size(), 1u);
  EXPECT_EQ(t->retry[0].max_attempts, 2);
  EXPECT_EQ(t->retry[0].jitter_strategy, JitterStrategy::kFull);
  ASSERT_EQ(t->catch_.size(), 1u);
  EXPECT_EQ(t->catch_[0].result_path, PathField::Of("$.error"));
  const State* c = m.top().Find("C");
  ASSERT_EQ(c->choice().choices.size(), 1u);
  EXPECT_EQ(c->choice().choices[0].kind, ChoiceRule::Kind::kAnd);
  EXPECT_EQ(c->choice().choices[0].children[1].kind, ChoiceRule::Kind::kNot);
  EXPECT_EQ(c->choice().choices[0].children[1].children[0].op, ComparisonOperator::kIsPresent);
  const State* map = m.top().Find("M");
  ASSERT_TRUE(map->map().item_processor.has_value());
  EXPECT_EQ(map->map().item_processor->mode, ProcessorMode::kInline);
  // States do not keep their JSON pointer (a string per state); branches do.
  EXPECT_EQ(map->map().item_processor->pointer, "/States/M/ItemProcessor");
}

// A distributed Map's ItemReader, ItemBatcher and ResultWriter are read into typed parts once;
// the JSON as written stays for the serializer.
TEST(Parser, ReadsItemReaderBatcherAndWriterIntoTypedParts) {
  constexpr std::string_view kText = R"({"StartAt": "M", "States": {"M": {
    "Type": "Map", "End": true,
    "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                   "Parameters": {"Bucket": "b", "Key.$": "$.key"},
                   "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
                                    "CSVHeaders": ["a", "b"], "CSVDelimiter": "TAB",
                                    "MaxItemsPath": "$.max"}},
    "ItemBatcher": {"MaxItemsPerBatch": 3, "MaxInputBytesPerBatchPath": "$.bytes",
                    "BatchInput": {"k": 1}},
    "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                     "Parameters": {"Bucket": "out", "Prefix": "p"}},
    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                      "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}})";
  auto parsed = ParseStateMachine(kText);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const MapFields& m = parsed->top().states[0].map();
  ASSERT_TRUE(m.reader.has_value());
  EXPECT_EQ(m.reader->resource, "arn:aws:states:::s3:getObject");
  EXPECT_EQ(m.reader->input_type, "CSV");
  EXPECT_EQ(m.reader->csv_header_location, "GIVEN");
  EXPECT_EQ(m.reader->csv_headers, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.reader->csv_delimiter, "TAB");
  EXPECT_FALSE(m.reader->max_items.has_value());
  ASSERT_TRUE(m.reader->max_items_path.has_value());
  EXPECT_EQ(*m.reader->max_items_path, "$.max");
  ASSERT_TRUE(m.reader->parameters.has_value());
  EXPECT_EQ(ToJsonText(*m.reader->parameters), R"({"Bucket":"b","Key.$":"$.key"})");
  ASSERT_TRUE(m.batcher.has_value());
  EXPECT_EQ(m.batcher->max_items_per_batch, 3);
  EXPECT_FALSE(m.batcher->max_input_bytes_per_batch.has_value());
  ASSERT_TRUE(m.batcher->max_input_bytes_per_batch_path.has_value());
  EXPECT_EQ(*m.batcher->max_input_bytes_per_batch_path, "$.bytes");
  ASSERT_TRUE(m.batcher->batch_input.has_value());
  EXPECT_EQ(ToJsonText(*m.batcher->batch_input), R"({"k":1})");
  ASSERT_TRUE(m.writer.has_value());
  EXPECT_EQ(m.writer->resource, "arn:aws:states:::s3:putObject");
  ASSERT_TRUE(m.writer->parameters.has_value());
  EXPECT_EQ(ToJsonText(*m.writer->parameters), R"({"Bucket":"out","Prefix":"p"})");
  // As written, for the serializer.
  ASSERT_TRUE(m.item_reader.has_value());
  EXPECT_TRUE(m.item_reader->as_object().contains("ReaderConfig"));
  // A Map without them has none.
  auto inline_map = ParseStateMachine(R"({"StartAt": "M", "States": {"M": {
    "Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I",
    "States": {"I": {"Type": "Pass", "End": true}}}}}})");
  ASSERT_TRUE(inline_map.ok());
  EXPECT_FALSE(inline_map->top().states[0].map().reader.has_value());
  EXPECT_FALSE(inline_map->top().states[0].map().batcher.has_value());
  EXPECT_FALSE(inline_map->top().states[0].map().writer.has_value());
}

// A payload template may not hold both "x" and "x.$": both would set "x" (ASL specification).
TEST(Parser, RejectsATemplateFieldGivenBothAsValueAndAsPath) {
  auto report = ParseStateMachineText(R"({"StartAt": "T", "States": {"T": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
    "Parameters": {"FunctionName": "f", "Payload": {"list": [{"a": 1, "a.$": "$.a"}],
                                                    "b.$": "$.b", "c": 1}},
    "ResultSelector": {"x.$": "$.x", "x": 2}}}})");
  std::vector<std::string> found;
  for (const Diagnostic& d : report.diagnostics) {
    if (d.code == diag::kInvalidValue) found.push_back(d.pointer);
  }
  EXPECT_EQ(found, (std::vector<std::string>{"/States/T/Parameters/Payload/list/0/a.$",
                                             "/States/T/ResultSelector/x.$"}));
  // One of the two alone is fine.
  auto fine = ParseStateMachineText(R"({"StartAt": "T", "States": {"T": {
    "Type": "Pass", "End": true, "Parameters": {"a.$": "$.a", "ab": 1, "b": {"a": 1}}}}})");
  EXPECT_TRUE(fine.diagnostics.empty()) << fine.diagnostics.front().message;
}

TEST(Parser, TaskCredentialsNeedARoleArn) {
  auto definition = [](std::string_view credentials) {
    return std::string(R"({"StartAt": "T", "States": {"T": {"Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Credentials": )") +
           std::string(credentials) + "}}}";
  };
  auto missing = ParseStateMachineText(definition(R"({"Role": "arn:aws:iam::1:role/r"})"));
  ASSERT_TRUE(HasCode(missing, diag::kMissingField));
  EXPECT_EQ(missing.diagnostics.front().pointer, "/States/T/Credentials");
  EXPECT_TRUE(HasCode(ParseStateMachineText(definition("{}")), diag::kMissingField));
  EXPECT_TRUE(
      ParseStateMachineText(definition(R"({"RoleArn": "arn:aws:iam::1:role/r"})")).diagnostics.empty());
  EXPECT_TRUE(ParseStateMachineText(definition(R"({"RoleArn.$": "$.role"})")).diagnostics.empty());
}

TEST(Parser, ReportsJsonSyntaxErrorWithLocation) {
  ParseReport r = ParseStateMachineText("{\n  \"StartAt\": \"A\",\n  \"States\": {,}\n}");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "E_JSON_SYNTAX");
  EXPECT_EQ(r.diagnostics[0].location.line, 3u);
  EXPECT_EQ(r.diagnostics[0].location.column, 14u);
  EXPECT_FALSE(r.machine.has_value());
}

TEST(Parser, ReportsUnknownFieldWithSuggestionAtKeyLocation) {
  ParseReport r = ParseStateMachineText(
      "{\"StartAt\": \"A\", \"States\": {\n  \"A\": {\"Type\": \"Pass\", \"Nxt\": \"B\", "
      "\"End\": true}}}");
  ASSERT_TRUE(HasCode(r, "E_UNKNOWN_FIELD"));
  const Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.pointer, "/States/A/Nxt");
  EXPECT_EQ(d.location.line, 2u);
  EXPECT_EQ(d.location.column, 25u);
  EXPECT_NE(d.message.find("did you mean \"Next\""), std::string::npos) << d.message;
}

TEST(Parser, RejectsFieldOfOtherQueryLanguage) {
  ParseReport r = ParseStateMachineText(R"({"QueryLanguage": "JSONata", "StartAt": "A",
    "States": {"A": {"Type": "Pass", "InputPath": "$.x", "End": true}}})");
  EXPECT_TRUE(HasCode(r, "E_FIELD_NOT_ALLOWED"));
}

TEST(Parser, RejectsRetryOnPass) {
  ParseReport r = ParseStateMachineText(R"({"StartAt": "A",
    "States": {"A": {"Type": "Pass", "Retry": [], "End": true}}})");
  ASSERT_TRUE(HasCode(r, "E_FIELD_NOT_ALLOWED"));
  EXPECT_NE(r.diagnostics[0].message.find("only Task, Parallel and Map"), std::string::npos);
}

TEST(Parser, ReportsWrongTypes) {
  ParseReport r = ParseStateMachineText(R"({"StartAt": "A",
    "States": {"A": {"Type": "Task", "Resource": "x", "TimeoutSeconds": "10", "End": true}}})");
  ASSERT_TRUE(HasCode(r, "E_TYPE"));
  EXPECT_EQ(r.diagnostics[0].pointer, "/States/A/TimeoutSeconds");
}

TEST(Parser, ReportsChoiceRuleProblems) {
  ParseReport r = ParseStateMachineText(R"({"StartAt": "C", "States": {
    "C": {"Type": "Choice", "Choices": [
      {"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1, "Next": "D"},
      {"Not": {"Variable": "$.x", "IsNull": true, "Next": "D"}, "Next": "D"},
      {"Variable": "$.x", "BooleanEquals": "true", "Next": "D"},
      {"Variable": "$.x", "StringEquals": "a"}]},
    "D": {"Type": "Succeed"}}})");
  int choice_errors = 0;
  for (const Diagnostic& d : r.diagnostics) choice_errors += d.code == "E_INVALID_CHOICE_RULE";
  EXPECT_EQ(choice_errors, 4);
}

TEST(Parser, RejectsNonObjectDocument) {
  ParseReport r = ParseStateMachineText("[1,2]");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "E_TYPE");
}

TEST(Parser, RefusesOversizedDefinitionBeforeParsing) {
  std::string big(std::size_t{1} << 21, ' ');
  ParseReport r = ParseStateMachineText(big);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "E_DEFINITION_TOO_LARGE");
}

TEST(Parser, DeepNestingIsADiagnosticNotACrash) {
  std::string deep = "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Result\":";
  deep += std::string(10000, '[');
  deep += std::string(10000, ']');
  deep += ",\"End\":true}}}";
  ParseReport r = ParseStateMachineText(deep);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].code, "E_JSON_SYNTAX");
  EXPECT_NE(r.diagnostics[0].message.find("deeper than"), std::string::npos);
}

}  // namespace
}  // namespace zflow::asl
