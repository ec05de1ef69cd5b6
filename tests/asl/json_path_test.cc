#include "asl/json_path.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace zflow::asl {
namespace {

json::value Parse(std::string_view text) { return std::move(ParseJson(text)->value); }

class JsonPathTest : public ::testing::Test {
 protected:
  json::value input_ = Parse(R"({
    "store": {"book": [
      {"title": "A", "price": 8.95, "tags": ["x"]},
      {"title": "B", "price": 12.99},
      {"title": "C", "price": 22, "isbn": "123"}],
      "bicycle": {"color": "red", "price": 19.95}},
    "n": 5, "weird key": 1, "a.b": 2})");
  json::value context_ = Parse(R"({"Execution": {"Id": "arn:x", "Name": "run-1"}})");
  json::value var_ = Parse(R"({"limit": 10})");

  EvaluationContext Ctx() {
    EvaluationContext ctx;
    ctx.input = &input_;
    ctx.context = &context_;
    ctx.variables = [this](std::string_view name) -> const json::value* {
      return name == "cfg" ? &var_ : nullptr;
    };
    return ctx;
  }

  json::value Eval(std::string_view path) {
    auto p = JsonPath::Compile(path);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return nullptr;
    auto r = p->Evaluate(Ctx());
    EXPECT_TRUE(r.ok()) << path << ": " << (r.ok() ? "" : r.error().cause);
    return r.ok() ? *r : json::value(nullptr);
  }
};

TEST_F(JsonPathTest, DefinitePathsSelectOneNode) {
  EXPECT_EQ(Eval("$.store.book[0].title"), json::value("A"));
  EXPECT_EQ(Eval("$['store']['bicycle']['color']"), json::value("red"));
  EXPECT_EQ(Eval("$.store.book[-1].title"), json::value("C"));
  EXPECT_EQ(Eval("$['weird key']"), json::value(1));
  EXPECT_EQ(Eval("$['a.b']"), json::value(2));
  EXPECT_EQ(Eval("$"), input_);
  EXPECT_EQ(Eval("$$.Execution.Name"), json::value("run-1"));
  EXPECT_EQ(Eval("$cfg.limit"), json::value(10));
}

TEST_F(JsonPathTest, IndefinitePathsYieldArrays) {
  EXPECT_EQ(Eval("$.store.book[*].title"), Parse(R"(["A","B","C"])"));
  EXPECT_EQ(Eval("$.store.book[0,2].title"), Parse(R"(["A","C"])"));
  EXPECT_EQ(Eval("$.store.book[1:].title"), Parse(R"(["B","C"])"));
  EXPECT_EQ(Eval("$.store.book[:2].title"), Parse(R"(["A","B"])"));
  EXPECT_EQ(Eval("$.store.book[-2:].title"), Parse(R"(["B","C"])"));
  // Jayway slice semantics (what AWS uses): a negative "to" in [from:to] selects nothing.
  EXPECT_EQ(Eval("$.store.book[1:-1].title"), Parse("[]"));
  EXPECT_EQ(Eval("$.store.book[:-1].title"), Parse(R"(["A","B"])"));
  EXPECT_EQ(Eval("$.store.book[1:10].title"), Parse(R"(["B","C"])"));
  EXPECT_EQ(Eval("$.store.book[-5:].title"), Parse(R"(["A","B","C"])"));
  EXPECT_EQ(Eval("$.store.book[-2:2].title"), Parse(R"(["B","C","A","B"])"));
  EXPECT_EQ(Eval("$.store.book[1:9223372036854775807].title"), Parse(R"(["B","C"])"));
  EXPECT_EQ(Eval("$.store.book[-9223372036854775807:1].title"), Parse(R"(["A","B","C","A"])"));
  EXPECT_EQ(Eval("$.store.['bicycle'].color"), json::value("red"));
  EXPECT_EQ(Eval("$.store.book[?(@.price > 1e-5 && @.price < 1E+1)].title"), Parse(R"(["A"])"));
  // A deep-scan filter tests every object, including ones that are not array elements.
  EXPECT_EQ(Eval("$..[?(@.color)].price"), Parse("[19.95]"));
  EXPECT_EQ(Eval("$..price"), Parse(R"([8.95,12.99,22,19.95])"));
  EXPECT_EQ(Eval("$.store.*.color"), Parse(R"(["red"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.price < 10)].title"), Parse(R"(["A"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.price >= 12.99 && @.title != 'C')].title"),
            Parse(R"(["B"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.isbn)].title"), Parse(R"(["C"])"));
  EXPECT_EQ(Eval("$.store.book[?(!@.isbn)].title"), Parse(R"(["A","B"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.price > $.n || @.title == \"A\")].title"),
            Parse(R"(["A","B","C"])"));
  EXPECT_EQ(Eval("$..book[?(@.price == 22)].title"), Parse(R"(["C"])"));
  EXPECT_EQ(Eval("$.store.book[*].missing"), Parse("[]"));
  EXPECT_EQ(Eval("$.store['book','nope']"), Parse("[" + ToJsonText(input_.at("store").at("book")) + "]"));
}

TEST_F(JsonPathTest, MissingDefinitePathIsRuntimeErrorNamingThePath) {
  auto p = JsonPath::Compile("$.store.nope[0]");
  ASSERT_TRUE(p.ok());
  auto r = p->Evaluate(Ctx());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, "States.Runtime");
  EXPECT_EQ(r.error().cause,
            "Invalid path '$.store.nope[0]' : No results for path: $['store']['nope'][0]");
  EXPECT_EQ(p->Find(Ctx()), nullptr);
}

TEST_F(JsonPathTest, UndefinedVariableIsRuntimeError) {
  auto r = JsonPath::Compile("$nope.x")->Evaluate(Ctx());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().cause.find("variable 'nope'"), std::string::npos);
}

TEST(JsonPath, ClassifiesReferencePaths) {
  EXPECT_TRUE(JsonPath::Compile("$.a.b[0]")->is_reference_path());
  EXPECT_TRUE(JsonPath::Compile("$$.Map.Item.Value")->is_reference_path());
  EXPECT_FALSE(JsonPath::Compile("$.a[*]")->is_reference_path());
  EXPECT_FALSE(JsonPath::Compile("$..a")->is_reference_path());
  EXPECT_FALSE(JsonPath::Compile("$.a[0:1]")->is_reference_path());
  EXPECT_FALSE(JsonPath::Compile("$.a[?(@.x)]")->is_reference_path());
  EXPECT_FALSE(JsonPath::CompileReferencePath("$.a[0,1]").ok());
  EXPECT_EQ(JsonPath::Compile("$$")->root(), JsonPath::Root::kContext);
  EXPECT_EQ(JsonPath::Compile("$x")->root(), JsonPath::Root::kVariable);
  EXPECT_TRUE(JsonPath::Compile("$")->is_root_only());
}

TEST(JsonPath, RejectsMalformedPathsWithPosition) {
  for (std::string_view bad : {"", "a.b", "$.", "$..", "$[", "$.a[", "$.a[1", "$['a",
                               "$.a[?(@.x ==)]", "$.a[?(@.x]", "$.a b", "$[1:2:0]", "$.a[x]",
                               "$[::2]", "$[:]", "$[0:4:2]"}) {
    auto p = JsonPath::Compile(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_NE(p.status().message().find("at character"), std::string::npos);
    }
  }
}

TEST(JsonPath, LongFilterChainsAreCappedNotRecursedThrough) {
  std::string chain = "$[?(@";
  for (int i = 0; i < 200; ++i) chain += " || @";
  chain += ")]";
  EXPECT_TRUE(JsonPath::Compile(chain).ok());
  std::string huge = "$[?(@";
  for (int i = 0; i < 100000; ++i) huge += "||@";
  huge += ")]";
  auto p = JsonPath::Compile(huge);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("more than 256 terms"), std::string::npos);
}

TEST(JsonPath, FiltersNestedInsideFiltersAreBoundedAsAWhole) {
  // Each filter alone is shallow; nested in each other's operands they were not bounded
  // together, and a 3 KB path overflowed the stack (shared/fuzz-findings).
  std::string nested = "$";
  for (int i = 0; i < 200; ++i) nested += "[?((@";
  for (int i = 0; i < 200; ++i) nested += "))]";
  auto p = JsonPath::Compile(nested);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("nested too deeply"), std::string::npos);
  std::string shallow = "$.a[?(((@.d == 1) && !(@.e)))]";
  EXPECT_TRUE(JsonPath::Compile(shallow).ok()) << JsonPath::Compile(shallow).status().ToString();
  std::ifstream in(ZFLOW_SOURCE_DIR "/fuzz/corpus/json_path_fuzzer/json_path_fuzzer-stack-overflow");
  std::string finding((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(finding.size(), 3000u);
  EXPECT_FALSE(JsonPath::Compile(finding).ok());
}

TEST(JsonPath, AssignCreatesIntermediateObjects) {
  auto p = JsonPath::CompileReferencePath("$.a.b.c");
  ASSERT_TRUE(p.ok());
  auto r = p->Assign(Parse(R"({"a": {"x": 1}})"), json::value(7));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Parse(R"({"a": {"x": 1, "b": {"c": 7}}})"));
  EXPECT_EQ(*JsonPath::Compile("$")->Assign(Parse("{}"), json::value(1)), json::value(1));
  auto idx = JsonPath::Compile("$.list[1]")->Assign(Parse(R"({"list": [1, 2]})"), json::value(9));
  EXPECT_EQ(*idx, Parse(R"({"list": [1, 9]})"));
}

TEST(JsonPath, AssignIntoNonObjectFails) {
  auto r = JsonPath::Compile("$.a.b")->Assign(Parse(R"({"a": 5})"), json::value(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error, "States.ResultPathMatchFailure");
  auto r2 = JsonPath::Compile("$.a")->Assign(Parse("[1]"), json::value(1));
  ASSERT_FALSE(r2.ok());
}

}  // namespace
}  // namespace zflow::asl
