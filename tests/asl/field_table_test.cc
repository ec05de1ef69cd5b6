#include "asl/field_table.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zflow/asl_parser.h"
#include "zflow/asl_serializer.h"

namespace zflow::asl {
namespace {

constexpr StateType kAllTypes[] = {StateType::kPass,    StateType::kTask,  StateType::kChoice,
                                   StateType::kWait,    StateType::kSucceed, StateType::kFail,
                                   StateType::kParallel, StateType::kMap};

TEST(FieldTable, NamesAreUniqueAndFound) {
  std::set<std::string_view> names;
  for (const FieldSpec& f : StateFields()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_EQ(FindStateField(f.name), &f);
    EXPECT_NE(f.types, 0) << f.name;
  }
  EXPECT_EQ(FindStateField("Nope"), nullptr);
  EXPECT_EQ(names.size(), 48u);
}

// Every field that is not structure has both accessors, they reach the same member, and the
// member is of the kind its shape says.
TEST(FieldTable, SlotsReachTheSameMember) {
  for (const FieldSpec& f : StateFields()) {
    if (f.shape == FieldShape::kStructure) {
      EXPECT_EQ(f.slot, nullptr) << f.name;
      continue;
    }
    ASSERT_NE(f.slot, nullptr) << f.name;
    ASSERT_NE(f.const_slot, nullptr) << f.name;
    for (StateType t : kAllTypes) {
      if (!f.AllowedOn(t)) continue;
      State s;
      s.type = t;
      FieldSlot w = f.slot(s);
      ConstFieldSlot r = f.const_slot(static_cast<const State&>(s));
      switch (f.shape) {
        case FieldShape::kText:
        case FieldShape::kReferencePath:
        case FieldShape::kPathOrIntrinsic:
          ASSERT_NE(w.text, nullptr) << f.name;
          *w.text = std::string(f.name);
          ASSERT_TRUE(r.text->has_value()) << f.name;
          EXPECT_EQ(**r.text, f.name);
          break;
        case FieldShape::kIoPath:
          ASSERT_NE(w.path, nullptr) << f.name;
          *w.path = PathField::Of("$.x");
          EXPECT_EQ(r.path->path(), "$.x") << f.name;
          break;
        default:
          ASSERT_NE(w.json, nullptr) << f.name;
          *w.json = json::value(f.name);
          ASSERT_TRUE(r.json->has_value()) << f.name;
          EXPECT_EQ(**r.json, json::value(f.name));
          break;
      }
    }
  }
}

bool ReadsContextOf(const std::string& state_json, std::string_view name = "S") {
  std::string text = R"({"StartAt": "S", "States": {"S": )" + state_json +
                     R"(, "E": {"Type": "Succeed"}}})";
  ParseReport r = ParseStateMachineText(text);
  EXPECT_TRUE(r.machine.has_value()) << text;
  if (!r.machine) return false;
  const State* s = r.machine->top().Find(name);
  EXPECT_NE(s, nullptr);
  return s != nullptr && ReadsContext(*s);
}

TEST(FieldTable, TellsWhichStatesReadTheContextObject) {
  EXPECT_FALSE(ReadsContextOf(R"j({"Type": "Pass", "Parameters": {"a.$": "$.a"}, "Next": "E"})j"));
  EXPECT_TRUE(ReadsContextOf(
      R"j({"Type": "Pass", "Parameters": {"a.$": "$$.Execution.Id"}, "Next": "E"})j"));
  EXPECT_TRUE(ReadsContextOf(R"j({"Type": "Pass", "InputPath": "$$.Execution", "Next": "E"})j"));
  EXPECT_TRUE(ReadsContextOf(
      R"j({"Type": "Pass", "Assign": {"id.$": "States.Format('{}', $$.State.Name)"}, "Next": "E"})j"));
  EXPECT_TRUE(ReadsContextOf(R"j({"Type": "Wait", "SecondsPath": "$$.Execution.Input.s", "Next": "E"})j"));
  EXPECT_TRUE(ReadsContextOf(
      R"j({"Type": "Fail", "CausePath": "States.Format('{}', $$.Execution.Name)"})j"));
  EXPECT_TRUE(ReadsContextOf(
      R"j({"Type": "Choice", "Choices": [{"Not": {"Variable": "$$.Execution.Name", "IsPresent": true}, "Next": "E"}], "Default": "E"})j"));
  EXPECT_TRUE(ReadsContextOf(
      R"j({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"at.$": "$$.State.Name"}, "Next": "E"}]})j"));
  EXPECT_TRUE(ReadsContextOf(
      R"j({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Credentials": {"RoleArn.$": "$$.Execution.Input.role"}})j"));
  EXPECT_TRUE(ReadsContextOf(
      R"j({"Type": "Map", "ItemsPath": "$$.Execution.Input.items", "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}})j"));
  // A literal that merely contains "$$" in a Pass Result is not read as a path.
  EXPECT_FALSE(ReadsContextOf(R"j({"Type": "Pass", "Result": {"price": "$$5"}, "Next": "E"})j"));
}

// The serializer writes a state's fields in the table's order, whatever order the text had.
TEST(FieldTable, SerializerFollowsTheTableOrder) {
  std::string text = R"({"StartAt": "S", "States": {"S": {"Next": "E", "Retry": [],
    "ResultPath": "$.r", "TimeoutSeconds": 5, "Parameters": {"a": 1}, "Comment": "c",
    "Resource": "arn:aws:states:::lambda:invoke", "Type": "Task"}, "E": {"Type": "Succeed"}}})";
  ParseReport r = ParseStateMachineText(text);
  ASSERT_TRUE(r.machine.has_value());
  json::value out = StateMachineToJson(*r.machine);
  std::vector<std::string_view> written;
  for (const auto& kv : out.at("States").at("S").as_object()) written.push_back(kv.key());
  std::vector<std::string_view> expected;
  for (const FieldSpec& f : StateFields()) {
    if (out.at("States").at("S").as_object().contains(f.name)) expected.push_back(f.name);
  }
  EXPECT_EQ(written, expected);
  EXPECT_EQ(written.size(), 8u);
}

}  // namespace
}  // namespace zflow::asl
