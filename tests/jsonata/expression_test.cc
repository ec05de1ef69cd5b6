// The public API of the JSONata module beyond what the reference suite covers: errors and
// their positions, borrowed variables, the lookup, native functions, withheld built-ins,
// the evaluation's clock, limits and facts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/json/parse.hpp>

#include "zflow/jsonata.h"

namespace zflow::jsonata {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

json::value Eval(std::string_view text, const json::value* input = nullptr,
                 const EvaluateOptions& options = {}) {
  auto e = Expression::Compile(text);
  EXPECT_TRUE(e.ok()) << e.error().ToString();
  auto r = e->Evaluate(input, options);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.ok() && r->has_value() ? **r : json::value("<undefined>");
}

TEST(JsonataExpression, CompileErrorsCarryCodeAndCharacterPosition) {
  auto e = Expression::Compile("é + (1 +");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, "S0207");
  ASSERT_TRUE(e.error().position.has_value());
  EXPECT_EQ(*e.error().position, 8u);  // characters, not bytes ("é" is two bytes)
  EXPECT_THAT(e.error().ToString(), HasSubstr("S0207 at 8: Unexpected end of expression"));
}

TEST(JsonataExpression, EvaluationErrorsNameTheOperator) {
  auto e = Expression::Compile("1 + 'a'");
  ASSERT_TRUE(e.ok());
  auto r = e->Evaluate(nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "T2002");
  EXPECT_EQ(r.error().message, "The right side of the \"+\" operator must evaluate to a number");
}

TEST(JsonataExpression, UndefinedIsNullopt) {
  auto e = Expression::Compile("nothing.here");
  json::value input = json::parse(R"({"a": 1})");
  auto r = e->Evaluate(&input);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(JsonataExpression, BorrowedVariablesAndLookup) {
  json::value input = json::parse(R"({"n": 2})");
  json::value context = json::parse(R"({"State": {"Name": "S"}})");
  const std::pair<std::string_view, const json::value*> members[] = {{"input", &input},
                                                                     {"context", &context},
                                                                     {"result", nullptr}};
  const BorrowedVariable states[] = {{.name = "states", .members = members}};
  json::value rate = 10;
  EvaluateOptions options;
  options.borrowed = states;
  options.lookup = [&](std::string_view name) -> const json::value* {
    return name == "rate" ? &rate : nullptr;
  };
  EXPECT_EQ(Eval("$states.input.n * $rate", nullptr, options), json::value(20));
  EXPECT_EQ(Eval("$states.context.State.Name", nullptr, options), json::value("S"));
  EXPECT_EQ(Eval("$exists($states.result)", nullptr, options), json::value(false));
  // An expression's own bindings win over the lookup; built-ins stay reachable.
  EXPECT_EQ(Eval("($rate := 1; $rate)", nullptr, options), json::value(1));
  EXPECT_EQ(Eval("$sum([1, $rate])", nullptr, options), json::value(11));
}

TEST(JsonataExpression, NativeFunctionsAndWithheldBuiltins) {
  auto library = FunctionLibrary::Create(
      {{"twice", "<n:n>",
        [](std::span<const std::optional<json::value>> args,
           const void*) -> Outcome<std::optional<json::value>> {
          return std::optional<json::value>(json::value(args[0]->to_number<double>() * 2));
        }},
       {"boom", "<:x>",
        [](std::span<const std::optional<json::value>>,
           const void*) -> Outcome<std::optional<json::value>> {
          return Error{"D3137", "it went boom", std::nullopt, {}};
        }}},
      {"eval"});
  ASSERT_TRUE(library.ok());
  EvaluateOptions options;
  options.functions = &*library;
  EXPECT_EQ(Eval("$twice(21)", nullptr, options), json::value(42));
  EXPECT_EQ(Eval("$map([1, 2], $twice)", nullptr, options), json::parse("[2, 4]"));
  auto wrong = Expression::Compile("$twice('a')")->Evaluate(nullptr, options);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "T0410");
  auto boom = Expression::Compile("$boom()")->Evaluate(nullptr, options);
  ASSERT_FALSE(boom.ok());
  EXPECT_EQ(boom.error().message, "it went boom");
  auto eval = Expression::Compile("$eval('1')")->Evaluate(nullptr, options);
  ASSERT_FALSE(eval.ok());
  EXPECT_EQ(eval.error().code, "T1006");  // $eval is undefined: not a function
  EXPECT_FALSE(FunctionLibrary::Create({{"bad", "<a<n>>>", nullptr}}).ok() &&
               FunctionLibrary::Create({{"bad", "<b<n>>", nullptr}}).ok());
}

TEST(JsonataExpression, NowIsTheGivenTimeThroughout) {
  EvaluateOptions options;
  options.now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  EXPECT_EQ(Eval("$millis()", nullptr, options), json::value(1700000000123));
  EXPECT_EQ(Eval("$now()", nullptr, options), json::value("2023-11-14T22:13:20.123Z"));
  EXPECT_EQ(Eval("$now() = $now()", nullptr, options), json::value(true));
}

TEST(JsonataExpression, DepthAndTimeLimitsEndWithU1001) {
  auto deep = Expression::Compile("($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))");
  ASSERT_TRUE(deep.ok());
  auto r = deep->Evaluate(nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "U1001");
  auto slow = Expression::Compile("($f := function($n) { $f($n + 1) }; $f(0))");  // tail calls
  EvaluateOptions options;
  options.time_limit = std::chrono::milliseconds(50);
  auto t = slow->Evaluate(nullptr, options);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "U1001");
  EXPECT_THAT(t.error().message, HasSubstr("timeout"));
}

TEST(JsonataExpression, FactsSayWhatAnExpressionReads) {
  auto facts = Expression::Compile("$states.input.a + $x + $count(items[b > $$.c])")->Facts();
  EXPECT_TRUE(facts.reads_root);
  EXPECT_TRUE(facts.reads_input);  // "items" at the top level
  EXPECT_THAT(facts.variables, UnorderedElementsAre("states", "x", "count"));
  EXPECT_THAT(facts.states_members, ElementsAre("input"));
  auto inner = Expression::Compile("$states.input.items[price > 1].name")->Facts();
  EXPECT_FALSE(inner.reads_input);
  EXPECT_FALSE(inner.reads_root);
}

TEST(JsonataExpression, ConcurrentEvaluationsOfOneExpression) {
  auto e = Expression::Compile("$sum(items.(price * qty))");
  ASSERT_TRUE(e.ok());
  json::value input = json::parse(R"({"items": [{"price": 2, "qty": 3}, {"price": 1, "qty": 4}]})");
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto r = e->Evaluate(&input);
        if (r.ok() && r->has_value() && **r == json::value(10)) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 2000);
}

}  // namespace
}  // namespace zflow::jsonata

namespace zflow::jsonata {
namespace {

// Found by fuzzing: an undefined argument after the first reached string() on nothing.
TEST(JsonataExpression, UndefinedLaterArgumentsNeverCrash) {
  json::value input = json::parse(R"({"a": 1, "undefined": 2})");
  for (std::string_view text :
       {"$lookup($, $u)", "$lookup($u)", "$substringBefore('a', $u)", "$substringAfter('a', $u)",
        "$formatNumber(1, $u)", "$formatInteger(1, $u)", "$parseInteger('a', $u)",
        "$replace('a', $u, 'b')", "$split('a', $u)", "$sift($, $u)", "$lookup(\xDC)"}) {
    auto e = Expression::Compile(text);
    ASSERT_TRUE(e.ok()) << text;
    auto r = e->Evaluate(&input);  // a result or an error, never a crash
    if (!r.ok()) {
      EXPECT_FALSE(r.error().code.empty()) << text;
    }
  }
  // As JavaScript reads an undefined key: "undefined".
  auto r = Expression::Compile("$lookup($, $u)")->Evaluate(&input);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, json::value(2));
}

}  // namespace
}  // namespace zflow::jsonata

namespace zflow::jsonata {
namespace {

// Found by fuzzing: nesting deep enough to exhaust the stack while parsing, and ranges whose
// total size ran past the time limit and memory.
TEST(JsonataExpression, DeepNestingIsAnErrorNotACrash) {
  for (const std::string& text :
       {std::string(5000, '-') + "1", std::string(5000, '(') + "1" + std::string(5000, ')'),
        std::string(5000, '['), [] {
          std::string s = "a";
          for (int i = 0; i < 20000; ++i) s += ".a";
          return s;
        }(),
        [] {
          std::string s = "1";
          for (int i = 0; i < 20000; ++i) s += "+1";
          return s;
        }()}) {
    auto e = Expression::Compile(text);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().code, "U1001") << text.substr(0, 20);
  }
  EXPECT_TRUE(Expression::Compile(std::string(100, '(') + "1" + std::string(100, ')')).ok());
}

TEST(JsonataExpression, RangesShareOneBudgetPerEvaluation) {
  auto e = Expression::Compile("$count([1..6000000, 1..6000000])");
  ASSERT_TRUE(e.ok());
  auto r = e->Evaluate(nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "D2014");
}

}  // namespace
}  // namespace zflow::jsonata
