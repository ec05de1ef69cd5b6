#include "asl/intrinsics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "asl/evaluation.h"
#include "zflow/json.h"

namespace zflow::asl {
namespace {

using ::testing::HasSubstr;

json::value Json(std::string_view text) {
  Result<ParsedJson> parsed = ParseJson(text, {.record_locations = false});
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? std::move(parsed->value) : json::value();
}

// Returns the values of `values` in turn, then repeats the last one.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::vector<std::uint64_t> values) : values_(std::move(values)) {}
  std::uint64_t Next() override {
    const std::uint64_t v = values_[next_ < values_.size() ? next_ : values_.size() - 1];
    ++next_;
    return v;
  }
  std::size_t calls() const { return next_; }

 private:
  std::vector<std::uint64_t> values_;
  std::size_t next_ = 0;
};

struct Env {
  json::value input = json::object();
  json::value context = json::object();
  json::object variables;
  RandomSource* random = nullptr;

  EvaluationContext Context() const {
    EvaluationContext ctx;
    ctx.input = &input;
    ctx.context = &context;
    ctx.variables = [this](std::string_view name) { return variables.if_contains(name); };
    ctx.random = random;
    return ctx;
  }
};

Outcome<json::value> RunCall(std::string_view text, const Env& env) {
  Result<IntrinsicCall> call = IntrinsicCall::Parse(text);
  if (!call.ok()) {
    ADD_FAILURE() << "parse failed: " << call.status().ToString();
    return WorkflowError{"parse", call.status().message()};
  }
  return call->Evaluate(env.Context());
}

// Evaluates a call that must succeed.
json::value Eval(std::string_view text, const Env& env = {}) {
  Outcome<json::value> v = RunCall(text, env);
  if (!v.ok()) {
    ADD_FAILURE() << text << " failed: " << v.error().error << ": " << v.error().cause;
    return json::value();
  }
  return std::move(v).value();
}

json::value Eval(std::string_view text, std::string_view input) {
  Env env;
  env.input = Json(input);
  return Eval(text, env);
}

// Evaluates a call that must parse and then fail.
WorkflowError Fail(std::string_view text, std::string_view input = "{}") {
  Env env;
  env.input = Json(input);
  Outcome<json::value> v = RunCall(text, env);
  if (v.ok()) {
    ADD_FAILURE() << text << " succeeded with " << ToJsonText(*v);
    return {};
  }
  return v.error();
}

// The message of a call that must not parse.
std::string ParseError(std::string_view text) {
  Result<IntrinsicCall> call = IntrinsicCall::Parse(text);
  if (call.ok()) {
    ADD_FAILURE() << text << " parsed";
    return "";
  }
  EXPECT_EQ(call.status().code(), StatusCode::kInvalidArgument);
  return call.status().message();
}

// ---- States.Format -------------------------------------------------------------------------

TEST(Intrinsics, FormatsAwsDocExampleWhenTemplateIsLiteralOrPath) {
  constexpr std::string_view kInput = R"({"name": "Arnav", "template": "Hello, my name is {}."})";
  EXPECT_EQ(Eval("States.Format('Hello, my name is {}.', $.name)", kInput),
            json::value("Hello, my name is Arnav."));
  EXPECT_EQ(Eval("States.Format($.template, $.name)", kInput),
            json::value("Hello, my name is Arnav."));
}

TEST(Intrinsics, FormatWritesScalarsAsJsonTextAndStringsRaw) {
  EXPECT_EQ(Eval("States.Format('{}|{}|{}|{}|{}|{}|{}', 42, -7, 1.5, 100.0, true, null, 'x')"),
            json::value("42|-7|1.5|100.0|true|null|x"));
  EXPECT_EQ(Eval("States.Format('{} {}', 1e300, 0.0001)"), json::value("1.0E300 1.0E-4"));
}

TEST(Intrinsics, FormatWritesArraysAndObjectsLikeJavaCollections) {
  EXPECT_EQ(Eval("States.Format('{} and {}', $.a, $.o)", R"({"a": [1, "x", [true]],
                                                            "o": {"k": "v", "n": null}})"),
            json::value("[1, x, [true]] and {k=v, n=null}"));
}

TEST(Intrinsics, FormatKeepsEscapedBracesLiteralWhenCountingPlaceholders) {
  EXPECT_EQ(Eval(R"(States.Format('\{\} is {}; \{a\}', 'set'))"), json::value("{} is set; {a}"));
  EXPECT_EQ(Eval("States.Format('no placeholders')"), json::value("no placeholders"));
}

TEST(Intrinsics, CloudFormationPlaceholdersInStringsStayLiteral) {
  // "${Name}" is replaced by CloudFormation (DefinitionSubstitutions) before AWS parses it.
  EXPECT_EQ(Eval("States.Format('s3://${DataBucket}/runs/{}', 'r1')"),
            json::value("s3://${DataBucket}/runs/r1"));
  // Anything else with braces still needs escapes.
  EXPECT_THAT(ParseError("States.Format('${} {}', 1)"), HasSubstr("has 2 {} placeholders"));
  EXPECT_THAT(ParseError("States.Format('${a-b}', 1)"), HasSubstr("unescaped brace"));
}

TEST(Intrinsics, FormatRejectsPlaceholderMismatchStaticallyWhenTemplateIsLiteral) {
  const std::string message = ParseError("States.Format('{} and {}', 1)");
  EXPECT_THAT(message, HasSubstr("has 2 {} placeholders but 1 value follows"));
  EXPECT_THAT(message, HasSubstr("character 15"));
}

TEST(Intrinsics, FormatFailsAtRunTimeWhenPathTemplateHasWrongPlaceholderCount) {
  const WorkflowError e = Fail("States.Format($.t, 1, 2)", R"({"t": "only {}"})");
  EXPECT_EQ(e.error, "States.IntrinsicFailure");
  EXPECT_THAT(e.cause, HasSubstr("has 1 {} placeholder but 2 values were given"));
}

TEST(Intrinsics, FormatRejectsNonStringTemplate) {
  EXPECT_THAT(ParseError("States.Format(1, 2)"),
              HasSubstr("the 1st argument of States.Format must be a string, but the literal 1 "
                        "at character 15 is a number"));
  EXPECT_THAT(Fail("States.Format($.n)", R"({"n": 3})").cause,
              HasSubstr("The 1st argument of States.Format must be a string, but it is a number"));
}

// ---- JSON conversion -----------------------------------------------------------------------

TEST(Intrinsics, StringToJsonParsesAwsDocExample) {
  EXPECT_EQ(Eval("States.StringToJson($.escapedJsonString)",
                 R"({"escapedJsonString": "{\"foo\": \"bar\"}"})"),
            Json(R"({"foo": "bar"})"));
  EXPECT_EQ(Eval("States.StringToJson('[1, 2.5, null]')"), Json("[1, 2.5, null]"));
  EXPECT_EQ(Eval("States.StringToJson('  ')"), json::value(nullptr));
}

TEST(Intrinsics, StringToJsonFailsWhenTextIsNotJson) {
  const WorkflowError e = Fail("States.StringToJson($.s)", R"({"s": "{not json"})");
  EXPECT_EQ(e.error, "States.IntrinsicFailure");
  EXPECT_THAT(e.cause, HasSubstr("The 1st argument of States.StringToJson is not valid JSON"));
}

TEST(Intrinsics, JsonToStringWritesCompactJson) {
  EXPECT_EQ(Eval("States.JsonToString($.unescapedJson)", R"({"unescapedJson": {"foo": "bar"}})"),
            json::value(R"({"foo":"bar"})"));
  EXPECT_EQ(Eval("States.JsonToString($.v)", R"({"v": [1, 2.5, "a\"b", null, {}]})"),
            json::value(R"([1,2.5,"a\"b",null,{}])"));
}

TEST(Intrinsics, JsonToStringThenStringToJsonRoundTrips) {
  EXPECT_EQ(Eval("States.StringToJson(States.JsonToString($))", R"({"a": [1, {"b": 0.5}]})"),
            Json(R"({"a": [1, {"b": 0.5}]})"));
}

// ---- Arrays --------------------------------------------------------------------------------

TEST(Intrinsics, ArrayCollectsArgumentsInOrder) {
  EXPECT_EQ(Eval("States.Array($.Id)", R"({"Id": 123456})"), Json("[123456]"));
  EXPECT_EQ(Eval("States.Array()"), Json("[]"));
  EXPECT_EQ(Eval("States.Array('a', 1, 2.5, true, false, null, States.Array(1))"),
            Json(R"(["a", 1, 2.5, true, false, null, [1]])"));
}

TEST(Intrinsics, ArrayPartitionChunksAwsDocExample) {
  EXPECT_EQ(Eval("States.ArrayPartition($.inputArray,4)", R"({"inputArray": [1,2,3,4,5,6,7,8,9]})"),
            Json("[[1,2,3,4],[5,6,7,8],[9]]"));
  EXPECT_EQ(Eval("States.ArrayPartition($.a, 2.4)", R"({"a": [1,2,3]})"), Json("[[1,2],[3]]"));
  EXPECT_EQ(Eval("States.ArrayPartition($.a, 10)", R"({"a": []})"), Json("[]"));
}

TEST(Intrinsics, ArrayPartitionFailsWhenChunkSizeIsNotPositive) {
  const WorkflowError e = Fail("States.ArrayPartition($.a, 0)", R"({"a": [1]})");
  EXPECT_EQ(e.error, "States.IntrinsicFailure");
  EXPECT_THAT(e.cause, HasSubstr("must be a positive integer, but it is 0"));
  EXPECT_THAT(Fail("States.ArrayPartition($.a, 1)", R"({"a": {}})").cause,
              HasSubstr("The 1st argument of States.ArrayPartition must be an array, but it is an "
                        "object: {}"));
}

TEST(Intrinsics, ArrayContainsFindsValuesByJsonEquality) {
  constexpr std::string_view kInput = R"({"inputArray": [1,2,3,4,5,6,7,8,9], "lookingFor": 5,
                                          "objects": [{"a": 1, "b": [2]}]})";
  EXPECT_EQ(Eval("States.ArrayContains($.inputArray, $.lookingFor)", kInput), json::value(true));
  EXPECT_EQ(Eval("States.ArrayContains($.inputArray, 10)", kInput), json::value(false));
  EXPECT_EQ(Eval("States.ArrayContains($.inputArray, 5.0)", kInput), json::value(true));
  EXPECT_EQ(Eval("States.ArrayContains($.inputArray, '5')", kInput), json::value(false));
  EXPECT_EQ(Eval("States.ArrayContains($.objects, States.StringToJson('\\{\"b\":[2],\"a\":1\\}'))",
                 kInput),
            json::value(true));
}

TEST(Intrinsics, ArrayRangeIncludesEndAndCountsDownWithNegativeStep) {
  EXPECT_EQ(Eval("States.ArrayRange(1, 9, 2)"), Json("[1,3,5,7,9]"));
  EXPECT_EQ(Eval("States.ArrayRange(0, 9, 3)"), Json("[0,3,6,9]"));
  EXPECT_EQ(Eval("States.ArrayRange(0, 10, 3)"), Json("[0,3,6,9]"));
  EXPECT_EQ(Eval("States.ArrayRange(9, 1, -4)"), Json("[9,5,1]"));
  EXPECT_EQ(Eval("States.ArrayRange(5, 1, 1)"), Json("[]"));
  EXPECT_EQ(Eval("States.ArrayRange(0.6, 2.4, 1)"), Json("[1,2]"));
}

TEST(Intrinsics, ArrayRangeAllowsExactly1000Items) {
  const json::value v = Eval("States.ArrayRange(1, 1000, 1)");
  ASSERT_TRUE(v.is_array());
  EXPECT_EQ(v.get_array().size(), 1000u);
  EXPECT_EQ(v.get_array().back(), json::value(1000));
}

TEST(Intrinsics, ArrayRangeFailsWhenMoreThan1000ItemsOrStepIsZero) {
  WorkflowError e = Fail("States.ArrayRange(0, 1000, 1)");
  EXPECT_EQ(e.error, "States.IntrinsicFailure");
  EXPECT_THAT(e.cause, HasSubstr("would create 1001 items"));
  EXPECT_THAT(Fail("States.ArrayRange(-9223372036854775807, 9223372036854775807, 1)").cause,
              HasSubstr("at most 1000"));
  e = Fail("States.ArrayRange(1, 5, 0)");
  EXPECT_EQ(e.error, "States.IntrinsicFailure");
  EXPECT_THAT(e.cause, HasSubstr("The 3rd argument of States.ArrayRange (the step) must not be 0"));
}

TEST(Intrinsics, ArrayGetItemReturnsItemAtIndex) {
  EXPECT_EQ(Eval("States.ArrayGetItem($.inputArray, $.index)",
                 R"({"inputArray": [1,2,3,4,5,6,7,8,9], "index": 5})"),
            json::value(6));
  EXPECT_EQ(Eval("States.ArrayGetItem(States.Array('a', 'b'), 1.0)"), json::value("b"));
}

TEST(Intrinsics, ArrayGetItemFailsWhenIndexIsOutOfRangeOrFractional) {
  EXPECT_THAT(Fail("States.ArrayGetItem(States.Array(1, 2), 2)").cause,
              HasSubstr("is 2, which is out of range for an array of 2 items"));
  EXPECT_THAT(Fail("States.ArrayGetItem(States.Array(1, 2), -1)").cause, HasSubstr("out of range"));
  EXPECT_THAT(Fail("States.ArrayGetItem(States.Array(1, 2), 0.5)").cause,
              HasSubstr("The 2nd argument of States.ArrayGetItem must be an integer"));
}

TEST(Intrinsics, ArrayLengthCountsItems) {
  EXPECT_EQ(Eval("States.ArrayLength($.inputArray)", R"({"inputArray": [1,2,3,4,5,6,7,8,9]})"),
            json::value(9));
  EXPECT_EQ(Eval("States.ArrayLength(States.Array())"), json::value(0));
}

TEST(Intrinsics, ArrayLengthFailsWhenArgumentIsNotAnArray) {
  const WorkflowError e = Fail("States.ArrayLength($.s)", R"({"s": "abc"})");
  EXPECT_EQ(e.error, "States.IntrinsicFailure");
  EXPECT_EQ(e.cause,
            "The 1st argument of States.ArrayLength must be an array, but it is a string: "
            "\"abc\"");
  EXPECT_THAT(ParseError("States.ArrayLength('abc')"),
              HasSubstr("must be an array, but the literal \"abc\" at character 20 is a string"));
}

TEST(Intrinsics, ArrayUniqueKeepsFirstOccurrences) {
  EXPECT_EQ(Eval("States.ArrayUnique($.inputArray)", R"({"inputArray": [1,2,3,3,3,3,3,3,4]})"),
            Json("[1,2,3,4]"));
  EXPECT_EQ(Eval("States.ArrayUnique($.a)",
                 R"({"a": [3, "3", 1, 1.0, {"x":1,"y":2}, {"y":2,"x":1}, [1], [1], null, null]})"),
            Json(R"([3, "3", 1, {"x":1,"y":2}, [1], null])"));
}

// ---- Encoding and hashing ------------------------------------------------------------------

TEST(Intrinsics, Base64EncodesAndDecodesAwsDocExample) {
  EXPECT_EQ(Eval("States.Base64Encode($.input)", R"({"input": "Data to encode"})"),
            json::value("RGF0YSB0byBlbmNvZGU="));
  EXPECT_EQ(Eval("States.Base64Decode($.base64)", R"({"base64": "RGF0YSB0byBlbmNvZGU="})"),
            json::value("Data to encode"));
  EXPECT_EQ(Eval("States.Base64Encode('héllo')"), json::value("aMOpbGxv"));
  EXPECT_EQ(Eval("States.Base64Decode('aMOpbGxv')"), json::value("héllo"));
  EXPECT_EQ(Eval("States.Base64Encode('ab')"), json::value("YWI="));
  EXPECT_EQ(Eval("States.Base64Decode('YWI')"), json::value("ab"));
  EXPECT_EQ(Eval("States.Base64Encode('')"), json::value(""));
}

TEST(Intrinsics, Base64DecodeFailsOnInvalidInputOrNonUtf8Bytes) {
  EXPECT_THAT(Fail("States.Base64Decode('abc*')").cause,
              HasSubstr("is not valid Base64 (at character 4)"));
  EXPECT_THAT(Fail("States.Base64Decode('/w==')").cause, HasSubstr("not UTF-8 text"));
  EXPECT_THAT(Fail("States.Base64Decode('a')").cause, HasSubstr("is not valid Base64"));
}

TEST(Intrinsics, EncodingAndHashAcceptAtMost10000Characters) {
  Env env;
  env.input = json::object{{"ok", std::string(10'000, 'a')},
                           {"long", std::string(10'001, 'a')},
                           {"wide", std::string(5'000, 'a') + [] {
                              std::string s;
                              for (int i = 0; i < 5'000; ++i) s += "é";
                              return s;
                            }()}};
  EXPECT_TRUE(RunCall("States.Base64Encode($.ok)", env).ok());
  EXPECT_TRUE(RunCall("States.Base64Encode($.wide)", env).ok());  // 10,000 characters, 15,000 bytes
  EXPECT_TRUE(RunCall("States.Hash($.ok, 'MD5')", env).ok());
  for (std::string_view text : {"States.Base64Encode($.long)", "States.Base64Decode($.long)",
                                "States.Hash($.long, 'SHA-256')"}) {
    Outcome<json::value> v = RunCall(text, env);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.error().error, "States.IntrinsicFailure");
    EXPECT_THAT(v.error().cause, HasSubstr("is 10001 characters long")) << text;
  }
}

TEST(Intrinsics, HashComputesEverySupportedAlgorithm) {
  constexpr std::string_view kInput = R"({"Data": "input data", "Algorithm": "SHA-1"})";
  // The AWS guide prints this SHA-1 with a digit missing ("...d18d7485e8..."); this is the real
  // one.
  EXPECT_EQ(Eval("States.Hash($.Data, $.Algorithm)", kInput),
            json::value("aaff4a450a104cd177d28d18d74485e8cae074b7"));
  EXPECT_EQ(Eval("States.Hash($.Data, 'MD5')", kInput),
            json::value("812f45842bc6d66ee14572ce20db8e86"));
  EXPECT_EQ(Eval("States.Hash($.Data, 'SHA-256')", kInput),
            json::value("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"));
  EXPECT_EQ(Eval("States.Hash($.Data, 'SHA-384')", kInput),
            json::value("d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc8"
                        "35ebb27e1fb9e9374a15562"));
  EXPECT_EQ(Eval("States.Hash($.Data, 'SHA-512')", kInput),
            json::value("6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf"
                        "2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"));
  EXPECT_EQ(Eval("States.Hash('', 'SHA-256')"),
            json::value("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

TEST(Intrinsics, HashRejectsUnknownAlgorithm) {
  EXPECT_THAT(ParseError("States.Hash('x', 'SHA256')"),
              HasSubstr("unsupported hash algorithm \"SHA256\" at character 18"));
  EXPECT_THAT(Fail("States.Hash('x', $.alg)", R"({"alg": "sha-1"})").cause,
              HasSubstr("must be one of MD5, SHA-1, SHA-256, SHA-384 or SHA-512, but it is "
                        "\"sha-1\""));
}

// ---- JsonMerge -----------------------------------------------------------------------------

TEST(Intrinsics, JsonMergeIsShallowAndLaterKeysWin) {
  EXPECT_EQ(Eval("States.JsonMerge($.json1, $.json2, false)",
                 R"({"json1": {"a": {"a1": 1, "a2": 2}, "b": 2},
                     "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}})"),
            Json(R"({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3})"));
}

TEST(Intrinsics, JsonMergeRejectsDeepMergeAndNonObjects) {
  EXPECT_THAT(ParseError("States.JsonMerge($.a, $.b, true)"),
              HasSubstr("supports only shallow merging"));
  EXPECT_THAT(ParseError("States.JsonMerge($.a, $.b, 'false')"), HasSubstr("must be a boolean"));
  EXPECT_THAT(Fail("States.JsonMerge($.a, $.a, $.deep)", R"({"a": {}, "deep": true})").cause,
              HasSubstr("must be false"));
  EXPECT_THAT(Fail("States.JsonMerge($.a, $.b, false)", R"({"a": {}, "b": [1]})").cause,
              HasSubstr("The 2nd argument of States.JsonMerge must be an object, but it is an "
                        "array"));
}

// ---- Math ----------------------------------------------------------------------------------

TEST(Intrinsics, MathAddReturnsIntegerSum) {
  const json::value v = Eval("States.MathAdd($.value1, $.step)", R"({"value1": 111, "step": -1})");
  EXPECT_EQ(v, json::value(110));
  EXPECT_TRUE(v.is_int64());
  EXPECT_TRUE(Eval("States.MathAdd(1, 2)").is_int64());
  EXPECT_EQ(Eval("States.MathAdd(2147483647, 2147483647)"), json::value(4294967294));
}

TEST(Intrinsics, MathAddRoundsHalfUpLikeJava) {
  EXPECT_EQ(Eval("States.MathAdd(1.5, 1)"), json::value(3));
  EXPECT_EQ(Eval("States.MathAdd(-1.5, 0)"), json::value(-1));
  EXPECT_EQ(Eval("States.MathAdd(2.4, -2.6)"), json::value(-1));
}

TEST(Intrinsics, MathAddFailsOutsideInt32RangeOrOnNonNumbers) {
  EXPECT_THAT(Fail("States.MathAdd(2147483648, 0)").cause,
              HasSubstr("The 1st argument of States.MathAdd is 2147483648, outside the range"));
  EXPECT_THAT(ParseError("States.MathAdd(1, 'two')"),
              HasSubstr("the 2nd argument of States.MathAdd must be a number"));
  EXPECT_THAT(Fail("States.MathAdd(1, $.s)", R"({"s": "2"})").cause,
              HasSubstr("must be an integer, but it is a string"));
}

TEST(Intrinsics, MathRandomMapsInjectedRandomnessOntoHalfOpenRange) {
  ScriptedRandom low({0});
  Env env;
  env.random = &low;
  EXPECT_EQ(Eval("States.MathRandom(1, 999)", env), json::value(1));
  ScriptedRandom high({~std::uint64_t{0}});
  env.random = &high;
  EXPECT_EQ(Eval("States.MathRandom(1, 999)", env), json::value(998));  // end is exclusive
  ScriptedRandom middle({std::uint64_t{1} << 63});
  env.random = &middle;
  EXPECT_EQ(Eval("States.MathRandom(-10, 10)", env), json::value(0));
  EXPECT_EQ(middle.calls(), 1u);
}

TEST(Intrinsics, MathRandomWithSeedIsDeterministicAndIgnoresInjectedSource) {
  ScriptedRandom random({12345});
  Env env;
  env.random = &random;
  // java.util.Random(42).nextInt(999) == 125 and Random(7).nextInt(100) == 36.
  EXPECT_EQ(Eval("States.MathRandom(1, 1000, 42)", env), json::value(126));
  EXPECT_EQ(Eval("States.MathRandom(0, 100, 7)", env), json::value(36));
  EXPECT_EQ(Eval("States.MathRandom(0, 100, 7.2)", env), json::value(36));
  EXPECT_EQ(random.calls(), 0u);
}

TEST(Intrinsics, MathRandomFailsWhenEndIsNotAboveStart) {
  const WorkflowError e = Fail("States.MathRandom(5, 5)");
  EXPECT_EQ(e.error, "States.IntrinsicFailure");
  EXPECT_THAT(e.cause, HasSubstr("end must be greater than start, but start is 5 and end is 5"));
}

TEST(Intrinsics, MathRandomUsesProcessGeneratorWhenNoneIsInjected) {
  for (int i = 0; i < 50; ++i) {
    const json::value v = Eval("States.MathRandom(10, 13)");
    ASSERT_TRUE(v.is_int64());
    EXPECT_GE(v.get_int64(), 10);
    EXPECT_LT(v.get_int64(), 13);
  }
}

// ---- Strings and ids -----------------------------------------------------------------------

TEST(Intrinsics, StringSplitSplitsOnEveryDelimiterCharacter) {
  EXPECT_EQ(Eval("States.StringSplit($.inputString, $.splitter)",
                 R"({"inputString": "1,2,3,4,5", "splitter": ","})"),
            Json(R"(["1","2","3","4","5"])"));
  EXPECT_EQ(Eval("States.StringSplit($.inputString, $.splitter)",
                 R"({"inputString": "This.is+a,test=string", "splitter": ".+,="})"),
            Json(R"(["This","is","a","test","string"])"));
}

TEST(Intrinsics, StringSplitDropsEmptyParts) {
  EXPECT_EQ(Eval("States.StringSplit(',a,,b,', ',')"), Json(R"(["a","b"])"));
  EXPECT_EQ(Eval("States.StringSplit('abc', '')"), Json(R"(["abc"])"));
  EXPECT_EQ(Eval("States.StringSplit('', ',')"), Json("[]"));
  EXPECT_EQ(Eval("States.StringSplit('aébéc', 'é')"), Json(R"(["a","b","c"])"));
}

TEST(Intrinsics, UuidIsVersion4FromInjectedRandomness) {
  ScriptedRandom random({0x0123456789abcdefULL, 0xfedcba9876543210ULL});
  Env env;
  env.random = &random;
  EXPECT_EQ(Eval("States.UUID()", env), json::value("01234567-89ab-4def-bedc-ba9876543210"));
}

TEST(Intrinsics, UuidFromProcessGeneratorIsVersion4AndVaries) {
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const json::value a = Eval("States.UUID()");
  const json::value b = Eval("States.UUID()");
  ASSERT_TRUE(a.is_string());
  ASSERT_TRUE(b.is_string());
  EXPECT_TRUE(std::regex_match(std::string(a.get_string()), v4)) << a;
  EXPECT_NE(a, b);
}

// ---- Syntax --------------------------------------------------------------------------------

TEST(Intrinsics, ReportsUnknownFunctionWithPositionAndKnownNames) {
  const std::string message = ParseError("States.Foo(1)");
  EXPECT_THAT(message, HasSubstr("unknown intrinsic function States.Foo at character 1; known "
                                 "functions: States.Format, States.StringToJson"));
  EXPECT_THAT(message, HasSubstr("States.UUID"));
  EXPECT_THAT(ParseError("States.Array(States.arraylength($.a))"),
              HasSubstr("unknown intrinsic function States.arraylength at character 14; did you "
                        "mean States.ArrayLength?"));
}

TEST(Intrinsics, RejectsWrongArgumentCounts) {
  EXPECT_THAT(ParseError("States.ArrayLength($.a, $.b)"),
              HasSubstr("States.ArrayLength takes exactly 1 argument, but 2 were given"));
  EXPECT_THAT(ParseError("States.ArrayRange(1, 2)"),
              HasSubstr("States.ArrayRange takes exactly 3 arguments, but 2 were given"));
  EXPECT_THAT(ParseError("States.MathRandom(1)"),
              HasSubstr("States.MathRandom takes 2 to 3 arguments, but 1 was given"));
  EXPECT_THAT(ParseError("States.MathRandom(1, 2, 3, 4)"), HasSubstr("but 4 were given"));
  EXPECT_THAT(ParseError("States.Format()"),
              HasSubstr("States.Format takes at least 1 argument, but 0 were given"));
  EXPECT_THAT(ParseError("States.UUID(1)"),
              HasSubstr("States.UUID takes exactly 0 arguments, but 1 was given"));
  EXPECT_THAT(ParseError("States.Array(States.JsonMerge($.a, $.b))"), HasSubstr("at character 14"));
}

TEST(Intrinsics, ReportsUnbalancedParenthesesAndStrayText) {
  EXPECT_THAT(ParseError("States.Array(1, 2"),
              HasSubstr("missing ')' to close the call of States.Array that starts at character "
                        "1; reached the end of the text at character 18"));
  EXPECT_THAT(ParseError("States.Array(1))"),
              HasSubstr("unexpected ')' after the end of the intrinsic function call at "
                        "character 16"));
  EXPECT_THAT(ParseError("States.Array"), HasSubstr("expected '(' after States.Array"));
  EXPECT_THAT(ParseError("States.Array(1 2)"),
              HasSubstr("expected ',' or ')' in the arguments of States.Array, but found '2' at "
                        "character 16"));
  EXPECT_THAT(ParseError("States.Array(1,)"),
              HasSubstr("missing argument of States.Array before ')' at character 16"));
  EXPECT_THAT(ParseError("States.Array(,1)"), HasSubstr("missing argument"));
  EXPECT_THAT(ParseError("$.x"), HasSubstr("expected an intrinsic function call"));
  EXPECT_THAT(ParseError(""), HasSubstr("the end of the text at character 1"));
  EXPECT_THAT(ParseError("States.Array(foo)"), HasSubstr("unexpected 'foo'"));
}

TEST(Intrinsics, ReportsUnterminatedStringsAndBadEscapes) {
  EXPECT_THAT(ParseError("States.Array('abc)"),
              HasSubstr("unterminated string literal (no closing ') starting at character 14"));
  EXPECT_THAT(ParseError(R"(States.Array('abc\)"), HasSubstr("unterminated string literal"));
  EXPECT_THAT(ParseError(R"(States.Array('a\nb'))"),
              HasSubstr("invalid escape sequence '\\n' in a string literal; only \\', \\{, \\} "
                        "and \\\\ are escapes"));
  EXPECT_THAT(ParseError(R"(States.Array('a\nb'))"), HasSubstr("at character 16"));
}

// AWS runs States.StringToJson('{"k": 1}'): outside the format string of States.Format an
// unescaped brace is a literal character.
TEST(Intrinsics, UnescapedBracesAreLiteralOutsideTheFormatString) {
  EXPECT_EQ(Eval(R"(States.StringToJson('{"k": 1}'))"), Json(R"({"k": 1})"));
  EXPECT_EQ(Eval("States.Array('a{b', 'c}d', '{}')"), Json(R"(["a{b", "c}d", "{}"])"));
  EXPECT_EQ(Eval("States.Format('{} and {}', 'x{', '}y')"), Json(R"("x{ and }y")"));
  EXPECT_THAT(ParseError("States.Format('a {x} {}', 1)"),
              HasSubstr("unescaped brace in the format string of States.Format at character 18"));
  EXPECT_THAT(ParseError("States.Format('a } {}', 1)"), HasSubstr("unescaped brace"));
}

TEST(Intrinsics, DecodesEscapesInStringLiterals) {
  EXPECT_EQ(Eval(R"(States.Array('it\'s', '\\', '\{x\}', 'a,b)c', ''))"),
            Json(R"(["it's", "\\", "{x}", "a,b)c", ""])"));
}

TEST(Intrinsics, CountsPositionsInCharactersNotBytes) {
  EXPECT_THAT(ParseError("States.Array('ééé', x)"), HasSubstr("at character 21"));
}

TEST(Intrinsics, AcceptsWhitespaceAroundTokens) {
  EXPECT_EQ(Eval(" States.Array (\n\t1 ,  'a'\t, $.x\n ) ", R"({"x": true})"),
            Json(R"([1, "a", true])"));
}

TEST(Intrinsics, ParsesNumberLiterals) {
  const json::value v = Eval("States.Array(0, -12, 1.25, -0.5, 1.5e2, 2E-2, 99999999999999999999)");
  ASSERT_TRUE(v.is_array());
  const json::array& a = v.get_array();
  ASSERT_EQ(a.size(), 7u);
  EXPECT_TRUE(a[0].is_int64());
  EXPECT_EQ(a[1], json::value(-12));
  EXPECT_EQ(a[2], json::value(1.25));
  EXPECT_EQ(a[3], json::value(-0.5));
  EXPECT_EQ(a[4], json::value(150.0));
  EXPECT_EQ(a[5], json::value(0.02));
  EXPECT_TRUE(a[6].is_double());
  EXPECT_THAT(ParseError("States.Array(01)"), HasSubstr("leading zeros"));
  EXPECT_THAT(ParseError("States.Array(1.)"), HasSubstr("expected digits after the decimal point"));
  EXPECT_THAT(ParseError("States.Array(-)"), HasSubstr("expected digits after '-'"));
  EXPECT_THAT(ParseError("States.Array(12ab)"),
              HasSubstr("unexpected 'a' after the number that starts at character 14"));
  EXPECT_THAT(ParseError("States.Array(1e999)"), HasSubstr("out of range"));
}

TEST(Intrinsics, AllowsTenCallsButNotEleven) {
  // The AWS guide's nine-call example (with the format string matching its two values).
  EXPECT_EQ(
      Eval("States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
           "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem("
           "States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), "
           "2), '.'), 1))",
           R"({"ImageRecipe": {"Arn":
               "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my-recipe/1.0.2"}})"),
      json::value("1.0"));
  std::string ten = "States.Array(";
  for (int i = 0; i < 9; ++i) ten += "States.Array(), ";
  ten += "1)";
  const json::value v = Eval(ten);
  ASSERT_TRUE(v.is_array());
  EXPECT_EQ(v.get_array().size(), 10u);

  std::string eleven = "States.Array(";
  for (int i = 0; i < 10; ++i) eleven += "States.Array(";
  eleven += std::string(11, ')');
  EXPECT_THAT(ParseError(eleven),
              HasSubstr("too many intrinsic function calls: at most 10 are allowed in one field, "
                        "and call number 11 starts at character 131"));
}

TEST(Intrinsics, ReadsContextObjectAndVariables) {
  Env env;
  env.context = Json(R"({"Execution": {"Id": "arn:exec:1"}})");
  env.variables["count"] = 4;
  EXPECT_EQ(Eval("States.Format('{} ran {} times', $$.Execution.Id, $count)", env),
            json::value("arn:exec:1 ran 4 times"));
}

TEST(Intrinsics, PassesPathErrorsThroughAsRuntimeErrors) {
  const WorkflowError e = Fail("States.ArrayLength($.missing)", R"({"x": 1})");
  EXPECT_EQ(e.error, "States.Runtime");
  EXPECT_THAT(e.cause, HasSubstr("$.missing"));
}

TEST(Intrinsics, AcceptsBracketPathsWithDelimitersInside) {
  EXPECT_EQ(Eval("States.Array($['a, b)'], $.c[0])", R"json({"a, b)": 1, "c": [2]})json"),
            Json("[1,2]"));
}

TEST(Intrinsics, ReportsInvalidPathArguments) {
  EXPECT_THAT(ParseError("States.Array($.a[)"),
              HasSubstr("unclosed '[' in the path argument that starts at character 14; the '[' "
                        "is at character 17"));
  EXPECT_THAT(ParseError("States.Array($['a)"),
              HasSubstr("unterminated quoted name in the path argument, starting at character 16"));
  EXPECT_THAT(ParseError("States.Array($..)"),
              HasSubstr("invalid path argument at character 14: "));
  EXPECT_THAT(ParseError("States.Array($.a])"),
              HasSubstr("invalid path argument at character 14: "));
}

TEST(Intrinsics, RejectsInvalidUtf8) {
  EXPECT_THAT(ParseError("States.Array('\xff')"), HasSubstr("not valid UTF-8 at character 15"));
}

TEST(Intrinsics, CopiesAndMovesKeepTheCall) {
  Result<IntrinsicCall> parsed = IntrinsicCall::Parse("States.MathAdd($.a, 1)");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  IntrinsicCall original = std::move(parsed).value();
  IntrinsicCall copy = original;
  IntrinsicCall moved = std::move(original);
  Env env;
  env.input = Json(R"({"a": 41})");
  EXPECT_EQ(*copy.Evaluate(env.Context()), json::value(42));
  EXPECT_EQ(*moved.Evaluate(env.Context()), json::value(42));
  EXPECT_EQ(copy.text(), "States.MathAdd($.a, 1)");
  copy = moved;
  EXPECT_EQ(*copy.Evaluate(env.Context()), json::value(42));
}

TEST(Intrinsics, LooksLikeIntrinsicOnlyForStatesCalls) {
  EXPECT_TRUE(LooksLikeIntrinsic("States.Array()"));
  EXPECT_TRUE(LooksLikeIntrinsic("  \tStates.Format('x')"));
  EXPECT_FALSE(LooksLikeIntrinsic("$.States.x"));
  EXPECT_FALSE(LooksLikeIntrinsic("States"));
  EXPECT_FALSE(LooksLikeIntrinsic(""));
}

}  // namespace
}  // namespace zflow::asl

namespace zflow::asl {
namespace {

// States.UUID and States.MathRandom share a process-wide generator when no RandomSource is
// injected; it must be safe to use from many threads (run under TSan by `make test`).
TEST(IntrinsicsConcurrency, SharedRandomSourceIsThreadSafe) {
  auto uuid = IntrinsicCall::Parse("States.UUID()");
  auto rnd = IntrinsicCall::Parse("States.MathRandom(1, 1000)");
  ASSERT_TRUE(uuid.ok() && rnd.ok());
  json::value input = json::object();
  std::vector<std::thread> threads;
  std::vector<std::set<std::string>> seen(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      EvaluationContext ctx;
      ctx.input = &input;
      for (int i = 0; i < 500; ++i) {
        auto u = uuid->Evaluate(ctx);
        auto r = rnd->Evaluate(ctx);
        if (u.ok()) seen[t].insert(std::string(u->as_string()));
        EXPECT_TRUE(r.ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (auto& s : seen) all.insert(s.begin(), s.end());
  EXPECT_EQ(all.size(), 2000u);
}

}  // namespace
}  // namespace zflow::asl
