// Transforms (~> |pattern|update, delete|) of input read in place.
#include <gtest/gtest.h>

#include "zflow/jsonata.h"
#include "zflow/json.h"

namespace zflow::jsonata {
namespace {

json::value Eval(std::string_view text, const json::value& input) {
  auto e = Expression::Compile(text);
  EXPECT_TRUE(e.ok()) << e.error().ToString();
  if (!e.ok()) return nullptr;
  auto r = e->Evaluate(&input);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.ok() && r->has_value() ? **r : json::value("<undefined>");
}

// Transforms of input read in place copy its JSON once, with the changes made while copying;
// the results below are the reference implementation's (jsonata 2.x) for the same input.
TEST(JsonataExpression, TransformsOfInputReadInPlace) {
  const json::value input =
      ParseJson(R"({"a": {"b": {"c": 1, "d": 2}, "e": [{"f": 1}, {"f": 2, "g": {"f": 3}}]},
                    "h": "x"})")
          ->value;
  auto expect = [&](std::string_view expr, std::string_view want) {
    EXPECT_EQ(Eval(expr, input), ParseJson(want)->value) << expr;
  };
  // Set in place, append, leave an undefined member out, delete.
  expect(R"($ ~> |a.b|{"c": undefined, "z": 0}|)",
         R"({"a": {"b": {"c": 1, "d": 2, "z": 0}, "e": [{"f": 1}, {"f": 2, "g": {"f": 3}}]},
             "h": "x"})");
  expect(R"($ ~> |a|{}, "b"|)", R"({"a": {"e": [{"f": 1}, {"f": 2, "g": {"f": 3}}]}, "h": "x"})");
  expect(R"($ ~> |a.e[0]|{"f": [1,2]}|)",
         R"({"a": {"b": {"c": 1, "d": 2}, "e": [{"f": [1, 2]}, {"f": 2, "g": {"f": 3}}]},
             "h": "x"})");
  // A match inside another one, and a transform of a transform's result.
  expect(R"($ ~> |(a.b; a.e[1])|{"q": 1}|)",
         R"({"a": {"b": {"c": 1, "d": 2}, "e": [{"f": 1}, {"f": 2, "g": {"f": 3}, "q": 1}]},
             "h": "x"})");
  expect(R"($ ~> |a.e|{"f": f + 1}| ~> |a.e|{"f": f * 2}|)",
         R"({"a": {"b": {"c": 1, "d": 2}, "e": [{"f": 4}, {"f": 6, "g": {"f": 3}}]}, "h": "x"})");
  expect(R"($ ~> |a|{"n": 1}| ~> |a.b|{"m": 2}|)",
         R"({"a": {"b": {"c": 1, "d": 2, "m": 2}, "e": [{"f": 1}, {"f": 2, "g": {"f": 3}}],
             "n": 1}, "h": "x"})");
  // The same object matched twice: the second update sees the first.
  expect(R"($ ~> |[a.b, a.b]|{"x": x ? x + 1 : 1}|)",
         R"({"a": {"b": {"c": 1, "d": 2, "x": 2}, "e": [{"f": 1}, {"f": 2, "g": {"f": 3}}]},
             "h": "x"})");
  // A result read further, and the input left as it was.
  expect(R"(($t := $ ~> |a.e|{"k": f}|; [$t.a.e.k, $t.h]))", R"([1, 2, "x"])");
  EXPECT_EQ(input.at("a").at("b"), ParseJson(R"({"c": 1, "d": 2})")->value);
}

}  // namespace
}  // namespace zflow::jsonata
