// The reference JSONata test suite (tests/jsonata/suite, from jsonata-js; see its TESTSUITE.md),
// one GoogleTest per case: JsonataSuite/SuiteCase.Matches/groups_function_substring_case003.
//
// A case file holds one case or an array of them. A case's id, which failures print and the skip
// list uses, is "group/file" for a single case ("function-substring/case003") and
// "group/file/NNN" for element NNN of an array ("joins/library-joins/003").
//
// The semantics follow jsonata-js's test/run-test-suite.js, with three deliberate differences:
//   - `timelimit` and `depth` each apply on their own (the reference applies them only together,
//     through evaluation hooks zflow does not have), as EvaluateOptions::time_limit and max_depth;
//   - `unordered: true` lets the elements of a top-level array result come in any order (the
//     reference runner ignores the flag; the cases carrying it list object keys, whose order is
//     not part of what they test);
//   - an `error` object is checked on its code, message and token only (zflow's Error has no
//     functionName or value fields).
// Cases that cannot pass yet are listed in suite_skips.txt, each with its reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/file.h"
#include "zflow/json.h"
#include "zflow/jsonata.h"

#ifndef ZFLOW_SOURCE_DIR
#error "ZFLOW_SOURCE_DIR must name the source tree (a compile definition of the test target)"
#endif

namespace zflow::jsonata {
namespace {

namespace fs = std::filesystem;

fs::path SuiteDir() { return fs::path(ZFLOW_SOURCE_DIR) / "tests/jsonata/suite"; }
fs::path SkipFile() { return fs::path(ZFLOW_SOURCE_DIR) / "tests/jsonata/suite_skips.txt"; }

// Cases without a `timelimit` still get one, so that an evaluation that never ends fails its case
// instead of hanging the whole binary. Far above what any case needs (the slowest reference
// cases declare 10 s for themselves).
constexpr std::chrono::milliseconds kSafetyTimeLimit{20'000};

enum class Expect { kResult, kUndefined, kError };

struct SuiteCase {
  std::string id;         // "function-substring/case003", "joins/library-joins/003"
  std::string test_name;  // "groups_function_substring_case003"
  std::string file;       // "groups/function-substring/case003.json"
  std::string description;
  // Why the case could not be read; when set, the fields below are unset and the case fails.
  std::string load_error;

  std::string expression;
  std::shared_ptr<const json::value> input;  // null: undefined input
  std::optional<json::object> bindings;
  std::optional<std::chrono::milliseconds> time_limit;
  std::optional<std::size_t> max_depth;

  Expect expect = Expect::kResult;
  json::value result;  // Expect::kResult
  bool unordered = false;
  std::string code;  // Expect::kError
  std::optional<std::string> token;
  std::optional<std::string> message;
};

// What GetParam() holds: a case of the table AllCases() builds once (gtest copies parameters, and
// some inputs are large).
struct CaseRef {
  const SuiteCase* c;
};

// gtest prints the parameter of a failing test; the id says more than a pointer.
void PrintTo(const CaseRef& ref, std::ostream* os) { *os << ref.c->id; }

Result<std::string> ReadText(const fs::path& path) {
  constexpr std::size_t kMaxBytes = std::size_t{64} << 20;
  ZFLOW_ASSIGN_OR_RETURN(FileContents contents, ReadFileCapped(path.string(), kMaxBytes));
  if (contents.truncated) return InvalidArgumentError(path.string() + " is over 64 MiB");
  return std::move(contents.data);
}

Result<json::value> ReadJson(const fs::path& path) {
  ZFLOW_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  // The reference reads these files with JSON.parse: no duplicate-key check, no locations needed.
  Result<ParsedJson> parsed =
      ParseJson(text, {.record_locations = false, .reject_duplicate_keys = false});
  if (!parsed.ok()) {
    return InvalidArgumentError(path.string() + ": " + parsed.status().ToString());
  }
  return std::move(parsed->value);
}

// Numbers compare by value (1 == 1.0) and object members in any order, as the reference's
// deep equality does for JavaScript values.
bool SameJson(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return a.to_number<double>() == b.to_number<double>();
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const json::array& x = a.get_array();
    const json::array& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!SameJson(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const json::object& x = a.get_object();
    const json::object& y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& member : x) {
      const json::value* other = y.if_contains(member.key());
      if (other == nullptr || !SameJson(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

// SameJson, except that the elements of two top-level arrays may come in any order.
bool SameJsonUnordered(const json::value& a, const json::value& b) {
  if (!a.is_array() || !b.is_array()) return SameJson(a, b);
  const json::array& x = a.get_array();
  const json::array& y = b.get_array();
  if (x.size() != y.size()) return false;
  std::vector<bool> used(y.size(), false);
  for (const json::value& element : x) {
    bool found = false;
    for (std::size_t j = 0; j < y.size() && !found; ++j) {
      if (!used[j] && SameJson(element, y[j])) used[j] = found = true;
    }
    if (!found) return false;
  }
  return true;
}

std::string TestName(std::string_view group, std::string_view stem, std::optional<int> element) {
  std::string name = "groups_";
  name += group;
  name += '_';
  name += stem;
  if (element.has_value()) {
    char index[24];
    std::snprintf(index, sizeof(index), "_%03d", *element);
    name += index;
  }
  // gtest accepts only [A-Za-z0-9_] in parameter names.
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

std::optional<std::string> StringField(const json::object& fields, std::string_view key) {
  const json::value* v = fields.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// Fills the parts of `out` the case object describes; returns why it cannot, or "".
std::string ReadCase(const json::value& doc, const fs::path& group_dir,
                     std::map<std::string, std::shared_ptr<const json::value>>& datasets,
                     SuiteCase& out) {
  if (!doc.is_object()) return "a case is not a JSON object";
  const json::object& c = doc.get_object();
  if (auto d = StringField(c, "description")) out.description = *d;

  if (auto expr = StringField(c, "expr")) {
    out.expression = *expr;
  } else if (auto expr_file = StringField(c, "expr-file")) {
    Result<std::string> text = ReadText(group_dir / *expr_file);
    if (!text.ok()) return text.status().ToString();
    out.expression = std::move(*text);
  } else {
    return "neither \"expr\" nor \"expr-file\"";
  }

  if (const json::value* data = c.if_contains("data")) {
    out.input = std::make_shared<const json::value>(*data);
  } else if (const json::value* dataset = c.if_contains("dataset")) {
    if (!dataset->is_null()) {
      if (!dataset->is_string()) return "\"dataset\" is neither a name nor null";
      std::string name(dataset->get_string());
      auto it = datasets.find(name);
      if (it == datasets.end()) {
        Result<json::value> loaded = ReadJson(SuiteDir() / "datasets" / (name + ".json"));
        if (!loaded.ok()) return "dataset " + name + ": " + loaded.status().ToString();
        it = datasets.emplace(name, std::make_shared<const json::value>(std::move(*loaded))).first;
      }
      out.input = it->second;
    }
  } else {
    return "neither \"data\" nor \"dataset\"";
  }

  if (const json::value* bindings = c.if_contains("bindings")) {
    if (!bindings->is_object()) return "\"bindings\" is not an object";
    out.bindings = bindings->get_object();
  }
  if (const json::value* limit = c.if_contains("timelimit")) {
    if (!limit->is_number()) return "\"timelimit\" is not a number";
    out.time_limit =
        std::chrono::milliseconds(static_cast<std::int64_t>(limit->to_number<double>()));
  }
  if (const json::value* depth = c.if_contains("depth")) {
    if (!depth->is_number()) return "\"depth\" is not a number";
    out.max_depth = static_cast<std::size_t>(depth->to_number<double>());
  }
  if (const json::value* unordered = c.if_contains("unordered")) {
    out.unordered = unordered->is_bool() && unordered->get_bool();
  }

  // Exactly one expectation, in the reference runner's order of precedence.
  if (c.contains("undefinedResult")) {
    out.expect = Expect::kUndefined;
  } else if (const json::value* result = c.if_contains("result")) {
    out.expect = Expect::kResult;
    out.result = *result;
  } else if (const json::value* error = c.if_contains("error")) {
    if (!error->is_object()) return "\"error\" is not an object";
    const json::object& e = error->get_object();
    std::optional<std::string> code = StringField(e, "code");
    if (!code.has_value()) return "\"error\" has no \"code\"";
    out.expect = Expect::kError;
    out.code = *code;
    out.token = StringField(e, "token");
    out.message = StringField(e, "message");
  } else if (auto code = StringField(c, "code")) {
    out.expect = Expect::kError;
    out.code = *code;
    out.token = StringField(c, "token");
  } else {
    return "no expectation (result, undefinedResult, error or code)";
  }
  return "";
}

std::vector<SuiteCase> LoadSuite() {
  std::vector<SuiteCase> cases;
  std::error_code ec;
  if (!fs::is_directory(SuiteDir() / "groups", ec)) return cases;
  std::vector<fs::path> groups;
  for (const auto& entry : fs::directory_iterator(SuiteDir() / "groups")) {
    if (entry.is_directory()) groups.push_back(entry.path());
  }
  std::sort(groups.begin(), groups.end());
  std::map<std::string, std::shared_ptr<const json::value>> datasets;
  for (const fs::path& group_dir : groups) {
    const std::string group = group_dir.filename().string();
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(group_dir)) {
      // .jsonata files beside the cases are expressions that "expr-file" refers to.
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string stem = file.stem().string();
      SuiteCase base;
      base.file = "groups/" + group + "/" + file.filename().string();
      Result<json::value> doc = ReadJson(file);
      if (!doc.ok() || !doc->is_array()) {
        SuiteCase& c = cases.emplace_back(base);
        c.id = group + "/" + stem;
        c.test_name = TestName(group, stem, std::nullopt);
        c.load_error = doc.ok() ? ReadCase(*doc, group_dir, datasets, c) : doc.status().ToString();
        continue;
      }
      const json::array& elements = doc->get_array();
      for (std::size_t i = 0; i < elements.size(); ++i) {
        SuiteCase& c = cases.emplace_back(base);
        char index[24];
        std::snprintf(index, sizeof(index), "/%03zu", i);
        c.id = group + "/" + stem + index;
        c.test_name = TestName(group, stem, static_cast<int>(i));
        c.load_error = ReadCase(elements[i], group_dir, datasets, c);
      }
    }
  }
  // Two ids that differ only in characters gtest does not allow would register one name twice.
  std::set<std::string> names;
  for (SuiteCase& c : cases) {
    while (!names.insert(c.test_name).second) {
      c.test_name += "_dup";
      c.load_error = "its test name collides with another case's; rename one of the files";
    }
  }
  return cases;
}

// Read once, on first use (when gtest registers the cases, after main starts).
const std::vector<SuiteCase>& AllCases() {
  static const std::vector<SuiteCase> cases = LoadSuite();
  return cases;
}

std::vector<CaseRef> CaseRefs() {
  std::vector<CaseRef> refs;
  for (const SuiteCase& c : AllCases()) refs.push_back({&c});
  return refs;
}

struct SkipList {
  std::map<std::string, std::string> reasons;  // case id -> why it is skipped
  std::vector<std::string> problems;           // malformed lines, duplicates, a missing file
};

// One case per line: "group/caseNNN<TAB>reason"; '#' starts a comment line.
SkipList ReadSkipList() {
  SkipList out;
  Result<std::string> text = ReadText(SkipFile());
  if (!text.ok()) {
    out.problems.push_back(text.status().ToString());
    return out;
  }
  std::istringstream lines(*text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    const std::size_t tab = line.find('\t');
    const std::string where = "suite_skips.txt:" + std::to_string(number) + ": ";
    if (tab == std::string::npos || tab == 0 || tab + 1 == line.size()) {
      out.problems.push_back(where + "expected \"group/case<TAB>reason\", got \"" + line + "\"");
      continue;
    }
    std::string id = line.substr(0, tab);
    if (!out.reasons.emplace(id, line.substr(tab + 1)).second) {
      out.problems.push_back(where + id + " is listed twice");
    }
  }
  return out;
}

const SkipList& Skips() {
  static const SkipList skips = ReadSkipList();
  return skips;
}

class SuiteCaseTest : public ::testing::TestWithParam<CaseRef> {};

TEST_P(SuiteCaseTest, Matches) {
  const SuiteCase& c = *GetParam().c;
  if (auto skip = Skips().reasons.find(c.id); skip != Skips().reasons.end()) {
    GTEST_SKIP() << c.id << ": " << skip->second;
  }
  ASSERT_TRUE(c.load_error.empty()) << c.id << " (" << c.file << "): " << c.load_error;

  // Every message starts with this, so a failure says which case and what it expected.
  std::string expected;
  switch (c.expect) {
    case Expect::kResult:
      expected = ToJsonText(c.result);
      break;
    case Expect::kUndefined:
      expected = "undefined";
      break;
    case Expect::kError:
      expected = "error " + c.code + (c.token ? " at token \"" + *c.token + "\"" : "") +
                 (c.message ? " \"" + *c.message + "\"" : "");
      break;
  }
  const std::string context = "case " + c.id + " (" + c.file + ")" +
                              (c.description.empty() ? "" : ": " + c.description) +
                              "\nexpression: " + c.expression + "\nexpected: " + expected;

  Outcome<Expression> compiled = Expression::Compile(c.expression);
  Error error;
  std::optional<json::value> result;
  if (!compiled.ok()) {
    error = compiled.error();
  } else {
    EvaluateOptions options{.bindings = c.bindings ? &*c.bindings : nullptr,
                            .max_depth = c.max_depth.value_or(0),
                            .time_limit = c.time_limit.value_or(kSafetyTimeLimit)};
    Outcome<std::optional<json::value>> evaluated = compiled->Evaluate(c.input.get(), options);
    if (!evaluated.ok()) {
      error = evaluated.error();
    } else if (evaluated->has_value()) {
      result = std::move(**evaluated);
    }
  }
  const bool failed = !error.code.empty();
  const std::string got = failed               ? "error " + error.ToString()
                          : result.has_value() ? ToJsonText(*result)
                                               : "undefined";

  switch (c.expect) {
    case Expect::kResult:
      ASSERT_FALSE(failed) << context << "\n     got: " << got;
      ASSERT_TRUE(result.has_value()) << context << "\n     got: undefined";
      EXPECT_TRUE(c.unordered ? SameJsonUnordered(*result, c.result) : SameJson(*result, c.result))
          << context << "\n     got: " << got;
      break;
    case Expect::kUndefined:
      EXPECT_TRUE(!failed && !result.has_value()) << context << "\n     got: " << got;
      break;
    case Expect::kError:
      ASSERT_TRUE(failed) << context << "\n     got: " << got;
      EXPECT_EQ(error.code, c.code) << context << "\n     got: " << got;
      if (c.token.has_value()) {
        EXPECT_EQ(error.token, *c.token) << context << "\n     got: " << got;
      }
      if (c.message.has_value()) {
        EXPECT_EQ(error.message, *c.message) << context << "\n     got: " << got;
      }
      break;
  }
}

std::string CaseTestName(const ::testing::TestParamInfo<CaseRef>& info) {
  return info.param.c->test_name;
}

INSTANTIATE_TEST_SUITE_P(JsonataSuite, SuiteCaseTest, ::testing::ValuesIn(CaseRefs()),
                         CaseTestName);

// A wrong path would otherwise register no case at all and pass.
TEST(JsonataSuiteFiles, HoldTheReferenceCases) {
  EXPECT_GT(AllCases().size(), 1500u) << "read from " << SuiteDir();
}

// A skip entry must name a case that exists: a typo would silently skip nothing, and an entry
// for a renamed or removed case would outlive its reason.
TEST(JsonataSuiteSkips, ListOnlyExistingCases) {
  for (const std::string& problem : Skips().problems) ADD_FAILURE() << problem;
  std::set<std::string> ids;
  for (const SuiteCase& c : AllCases()) ids.insert(c.id);
  for (const auto& [id, reason] : Skips().reasons) {
    EXPECT_TRUE(ids.contains(id)) << "suite_skips.txt lists " << id << " (" << reason
                                  << "), which is not a case of " << SuiteDir();
  }
}

json::value Json(std::string_view text) {
  Result<ParsedJson> parsed = ParseJson(text, {.record_locations = false});
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? std::move(parsed->value) : json::value();
}

TEST(JsonataSuiteEquality, ComparesNumbersByValueAndMembersInAnyOrder) {
  EXPECT_TRUE(SameJson(Json(R"({"a": 1, "b": [1.0, {"c": null}]})"),
                       Json(R"({"b": [1, {"c": null}], "a": 1.0})")));
  EXPECT_FALSE(SameJson(Json("[1, 2]"), Json("[2, 1]")));
  EXPECT_TRUE(SameJsonUnordered(Json("[1, 2]"), Json("[2, 1]")));
  EXPECT_FALSE(SameJsonUnordered(Json("[1, 1]"), Json("[1, 2]")));
  EXPECT_FALSE(SameJson(Json(R"({"a": 1})"), Json(R"({"a": 1, "b": 2})")));
  EXPECT_FALSE(SameJson(Json("1"), Json(R"("1")")));
  EXPECT_FALSE(SameJson(Json("null"), Json("false")));
}

}  // namespace
}  // namespace zflow::jsonata
