#include "zflow/json.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/json_careful.h"

namespace zflow {
namespace {

// ParseJsonOrError tries a fast parser first; it must give exactly what the careful parser
// gives: the same document (kinds of numbers included) or the same located error.
void ExpectSameAsCareful(std::string_view text, const JsonParseOptions& options = {}) {
  JsonParseOutcome fast = ParseJsonOrError(text, options);
  JsonParseOutcome careful = ParseJsonCarefully(text, options);
  ASSERT_EQ(fast.error.has_value(), careful.error.has_value()) << text;
  if (fast.error) {
    EXPECT_EQ(fast.error->location, careful.error->location) << text;
    EXPECT_EQ(fast.error->message, careful.error->message) << text;
  } else {
    EXPECT_EQ(ToJsonText(fast.document->value), ToJsonText(careful.document->value)) << text;
  }
}

TEST(Json, FastPathAgreesWithTheCarefulParser) {
  for (std::string_view text :
       {"0", "-0", "-0.0", "1e2", "1E+2", "1e-400", "1e400", "-1e400", "18446744073709551615",
        "18446744073709551616", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "0.1", "123456789012345678901234567890",
        "[1, 2.5, -3]", "{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}",
        "{\"a\": 1, \"b\": {\"c\": 1, \"c\": 2}}", "[{\"x\": 1, \"x\": 1}]",
        "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"\xED\x9F\xBF\"", "\"\xED\xA0\x80\"",
        "\"\xF4\x90\x80\x80\"", "\"\xC0\xAF\"", "\xEF\xBB\xBF{}", "{} ", " {}\n\t", "{} x",
        "[] []", "tru", "nul", "\"a\\/b\"", "\"\\u0000\"", "\"tab\there\"", "[1,]",
        "{\"k\":}", "\"\x7F\"", "/* c */ 1", "[\"\\u00e9\", \"\xC3\xA9\"]", "-", "-a", "1.",
        ".5", "1e", "+1", "0x10", "00", "[-0, 0e0, 0E-0]"}) {
    ExpectSameAsCareful(text);
  }
  // The depth limit, both sides of it.
  for (std::size_t depth : {63u, 64u, 65u}) {
    ExpectSameAsCareful(std::string(depth, '[') + std::string(depth, ']'), {.max_depth = 64});
  }
  // Duplicate names found at any depth, also when an object has many members.
  std::string wide = "{";
  for (int i = 0; i < 1000; ++i) wide += fmt::format("\"k{}\": {}, ", i, i);
  ExpectSameAsCareful(wide + "\"k500\": 0}");
  ExpectSameAsCareful(wide + "\"end\": 0}");
}

TEST(Json, FastPathAgreesOnEveryJsonFileInTheTests) {
  std::size_t files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(ZFLOW_SOURCE_DIR "/tests")) {
    if (entry.path().string().find("node_modules") != std::string::npos) continue;
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    ExpectSameAsCareful(text.str());
    ++files;
  }
  EXPECT_GT(files, 100u);
}

TEST(Json, ParsesAndRecordsLocations) {
  auto doc = ParseJson("{\n  \"a\": [1, {\"b/c\": true}],\n  \"é\": \"x\"\n}");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->value.at("a").at(1).at("b/c").as_bool(), true);
  EXPECT_EQ(doc->locations.ValueLocation("/a"), (SourceLocation{2, 8}));
  EXPECT_EQ(doc->locations.KeyLocation("/a"), (SourceLocation{2, 3}));
  EXPECT_EQ(doc->locations.ValueLocation("/a/1/b~1c"), (SourceLocation{2, 20}));
  // Column counts code points: "é" is two bytes but one column.
  EXPECT_EQ(doc->locations.ValueLocation("/\xC3\xA9"), (SourceLocation{3, 8}));
  EXPECT_EQ(doc->locations.Nearest("/a/1/missing"), (SourceLocation{2, 12}));
}

// Where byte `offset` of a one-line `text` is, counted independently of the parser: columns in
// code points, after a byte order mark.
SourceLocation OnLineOne(std::string_view text, std::size_t offset) {
  std::size_t start = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  std::uint32_t column = 1;
  for (std::size_t i = start; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return {1, column};
}

// Locations are found from the text when asked: escaped member names, a byte order mark,
// multi-byte characters in long lines, duplicate names (the last wins, as in the value), array
// indexes written only in their canonical form, and many lookups into one large document.
TEST(Json, FindsLocationsFromTheTextWhenAsked) {
  const std::string text =
      "\xEF\xBB\xBF{\"\\u0041\\n\": 1, \"d\": 2, \"d\": [[], {\"x\": \"\xC3\xA9\xC3\xA9\"}, 3]}";
  auto doc = ParseJson(text, {.reject_duplicate_keys = false});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const SourceMap& m = doc->locations;
  EXPECT_EQ(m.KeyLocation("/A\n"), OnLineOne(text, text.find("\"\\u0041")));
  EXPECT_EQ(m.ValueLocation("/d"), OnLineOne(text, text.find("[[]")));
  EXPECT_EQ(m.KeyLocation("/d"), OnLineOne(text, text.rfind("\"d\"")));
  EXPECT_EQ(m.ValueLocation("/d/2"), OnLineOne(text, text.find("3]")));
  EXPECT_EQ(m.ValueLocation("/d/1/x"), OnLineOne(text, text.find("\"\xC3\xA9")));
  EXPECT_EQ(m.ValueLocation("/d/02"), (SourceLocation{}));
  EXPECT_EQ(m.ValueLocation("/d/3"), (SourceLocation{}));
  EXPECT_EQ(m.Nearest("/d/1/y"), OnLineOne(text, text.find("{\"x\"")));
  EXPECT_EQ(m.ValueLocation(""), OnLineOne(text, 3));
  EXPECT_EQ(m.ValueLocation("d"), (SourceLocation{}));

  std::string big = "{\"States\": {";
  for (int i = 0; i < 20000; ++i) {
    big += fmt::format("{}\"S{}\": {{\"Comment\": \"\xC3\xA9\", \"Type\": \"Pass\"}}",
                       i ? ", " : "", i);
  }
  big += "}}";
  auto large = ParseJson(big);
  ASSERT_TRUE(large.ok());
  const SourceMap& map = large->locations;
  // Every state is looked up (one scan of "States", then cached); every 100th is checked
  // against the independent count, the others only for order.
  std::size_t from = 0;
  std::uint32_t previous = 0;
  for (int i = 0; i < 20000; ++i) {
    SourceLocation at = map.ValueLocation(fmt::format("/States/S{}/Type", i));
    ASSERT_EQ(at.line, 1u);
    ASSERT_GT(at.column, previous) << i;
    previous = at.column;
    if (i % 100 == 0) {
      std::size_t key = big.find(fmt::format("\"S{}\":", i), from);
      std::size_t type = big.find("\"Pass\"", key);
      ASSERT_EQ(at, OnLineOne(big, type)) << i;
      ASSERT_EQ(map.KeyLocation(fmt::format("/States/S{}", i)), OnLineOne(big, key)) << i;
      from = type;
    }
  }
  // Copies share the text.
  SourceMap copy = map;
  EXPECT_EQ(copy.KeyLocation("/States/S0"), OnLineOne(big, big.find("\"S0\"")));
}

TEST(Json, KeepsIntegersAndDoubles) {
  auto doc = ParseJson(R"([1, -2, 18446744073709551615, 1.5, 1e2, 1e-400])");
  ASSERT_TRUE(doc.ok());
  const auto& a = doc->value.as_array();
  EXPECT_TRUE(a[0].is_int64());
  EXPECT_EQ(a[1].as_int64(), -2);
  EXPECT_TRUE(a[2].is_uint64());
  EXPECT_DOUBLE_EQ(a[3].as_double(), 1.5);
  EXPECT_TRUE(a[4].is_double());
  EXPECT_DOUBLE_EQ(a[5].as_double(), 0.0);
}

TEST(Json, DecodesEscapesAndSurrogatePairs) {
  auto doc = ParseJson(R"("a\n\u00e9\ud83d\ude00\/")");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(std::string_view(doc->value.as_string()), "a\n\xC3\xA9\xF0\x9F\x98\x80/");
}

struct BadCase {
  const char* text;
  std::uint32_t line;
  std::uint32_t column;
  const char* fragment;
};

class JsonErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(JsonErrors, ReportsWhereAndWhat) {
  const BadCase& c = GetParam();
  JsonParseOutcome out = ParseJsonOrError(c.text);
  ASSERT_TRUE(out.error.has_value()) << c.text;
  EXPECT_EQ(out.error->location, (SourceLocation{c.line, c.column})) << out.error->message;
  EXPECT_NE(out.error->message.find(c.fragment), std::string::npos) << out.error->message;
}

INSTANTIATE_TEST_SUITE_P(
    Json, JsonErrors,
    ::testing::Values(BadCase{"", 1, 1, "empty"}, BadCase{"{\"a\": 1,}", 1, 9, "trailing comma"},
                      BadCase{"[1 2]", 1, 4, "expected ','"},
                      BadCase{"{\"a\":1, \"a\":2}", 1, 9, "duplicate member name"},
                      BadCase{"\"\xC3\x28\"", 1, 2, "invalid UTF-8"},
                      BadCase{"\"\xED\xA0\x80\"", 1, 2, "surrogate"},
                      BadCase{"\"a\nb\"", 1, 3, "line break"},
                      BadCase{"01", 1, 2, "leading zeros"}, BadCase{"1e999", 1, 1, "too large"},
                      BadCase{"{\"a\": tru}", 1, 7, "expected a JSON value"},
                      BadCase{"\"\\x\"", 1, 2, "invalid escape"},
                      BadCase{"\"\\ud800x\"", 1, 8, "low surrogate"},
                      BadCase{"{} x", 1, 4, "after the end"},
                      BadCase{"// c\n{}", 1, 1, "expected a JSON value"}));

TEST(Json, RejectsDeepNestingWithoutRecursingForever) {
  std::string deep(100000, '[');
  JsonParseOutcome out = ParseJsonOrError(deep);
  ASSERT_TRUE(out.error.has_value());
  EXPECT_NE(out.error->message.find("deeper than 512"), std::string::npos);
}

TEST(Json, RejectsOversizedInput) {
  JsonParseOutcome out = ParseJsonOrError("[1, 2, 3]", {.max_bytes = 4});
  ASSERT_TRUE(out.error.has_value());
  EXPECT_NE(out.error->message.find("limit"), std::string::npos);
}

TEST(Json, PrettyPrintKeepsMemberOrder) {
  auto doc = ParseJson(R"({"b":1,"a":[true,{}],"c":[]})");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(ToPrettyJsonText(doc->value),
            "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    {}\n  ],\n  \"c\": []\n}");
  EXPECT_EQ(ToJsonText(doc->value), R"({"b":1,"a":[true,{}],"c":[]})");
}

TEST(Json, PointerEscaping) {
  EXPECT_EQ(JsonPointerAppend("/a", "b/c~d"), "/a/b~1c~0d");
  EXPECT_EQ(JsonPointerAppend("", std::size_t{3}), "/3");
}

}  // namespace
}  // namespace zflow

namespace zflow {
namespace {

TEST(Json, SerializesDoublesSoTheyStayDoubles) {
  json::array a{2.0, 1.5, 1e300, 0.1, -0.0, 100.0, 3, -7, 1e-7};
  EXPECT_EQ(ToJsonText(a), "[2.0,1.5,1.0E300,0.1,-0.0,100.0,3,-7,1.0E-7]");
  EXPECT_EQ(FormatJsonDouble(12345678.9), "1.23456789E7");
  EXPECT_EQ(FormatJsonDouble(0.001), "0.001");
  auto back = ParseJson(ToJsonText(a));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->value, json::value(a));
}

TEST(Json, EscapesStringsAndKeepsUtf8) {
  json::value v = json::object{{"k\"\\", "a\n\t\x01\xC3\xA9"}};
  EXPECT_EQ(ToJsonText(v), "{\"k\\\"\\\\\":\"a\\n\\t\\u0001\xC3\xA9\"}");
  auto back = ParseJson(ToJsonText(v));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->value, v);
}

TEST(Json, WritesIntoABufferOrSpillsWhenItDoesNotFit) {
  auto doc = ParseJson(R"({"name":"a\"b","list":[1,2.5,null,true],"nested":{"k":"v"}})");
  ASSERT_TRUE(doc.ok());
  const std::string expected = ToJsonText(doc->value);
  // Every capacity from none to more than enough: the text either stays in the buffer or is
  // moved whole to the spill string, never cut or doubled.
  for (std::size_t capacity = 0; capacity <= expected.size() + 4; ++capacity) {
    std::vector<char> buffer(capacity + 1, '#');
    std::string spill = "stale";
    std::string_view text = WriteJsonText(doc->value, buffer.data(), capacity, spill);
    EXPECT_EQ(text, expected) << "capacity " << capacity;
    bool in_buffer = text.data() == buffer.data();
    EXPECT_EQ(in_buffer, capacity >= expected.size()) << "capacity " << capacity;
    if (!in_buffer) {
      EXPECT_EQ(spill, expected);
    }
    EXPECT_EQ(buffer[capacity], '#') << "wrote past the buffer at capacity " << capacity;
  }
}

}  // namespace
}  // namespace zflow

TEST(ValidUtf8, KeepsWellFormedTextAndReplacesTheRest) {
  EXPECT_EQ(zflow::ValidUtf8("plain é € 𝄞"), "plain é € 𝄞");
  EXPECT_EQ(zflow::ValidUtf8("a\xf8z"), "a\xEF\xBF\xBDz");              // not a lead byte
  EXPECT_EQ(zflow::ValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(zflow::ValidUtf8("\xED\xA0\x80"),                           // a surrogate
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(zflow::ValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
  EXPECT_TRUE(zflow::ParseJson(zflow::ToJsonText(zflow::json::value(
                                   zflow::ValidUtf8("x\xff\xfe\x80y"))))
                  .ok());
}
