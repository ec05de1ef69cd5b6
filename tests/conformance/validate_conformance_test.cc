// Data-driven validator conformance: every case in tests/conformance/validate/manifest.json is
// validated by zflow and compared with the manifest's expectation. The same manifest is checked
// against the asl-validator oracle by oracle_check.mjs (a separate ctest), so together they
// assert that zflow and asl-validator agree except where the manifest documents why the oracle
// is wrong.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/definition_file.h"
#include "zflow/json.h"

namespace zflow {
namespace {

const std::string kDir = std::string(ZFLOW_SOURCE_DIR) + "/tests/conformance/validate/";

struct Case {
  std::string file;
  bool valid = false;
  std::vector<std::string> codes;
};

std::vector<Case> LoadManifest() {
  std::ifstream in(kDir + "manifest.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = ParseJson(ss.str());
  if (!doc.ok()) {
    ADD_FAILURE() << "manifest: " << doc.status().ToString();
    return {};
  }
  std::vector<Case> cases;
  for (const json::value& c : doc->value.at("cases").as_array()) {
    Case out;
    out.file = std::string(c.at("file").as_string());
    const json::value& expect = c.at("expect");
    if (expect.is_string()) {
      out.valid = expect.as_string() == "valid";
    } else {
      for (const json::value& code : expect.as_array()) {
        out.codes.emplace_back(code.as_string());
      }
    }
    cases.push_back(std::move(out));
  }
  return cases;
}

class ValidateConformance : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateConformance, MatchesExpectation) {
  const Case& c = GetParam();
  cli::DefinitionCheck check = cli::CheckDefinitionFile(kDir + c.file);
  ASSERT_TRUE(check.read_error.empty()) << check.read_error;
  std::string got;
  for (const Diagnostic& d : check.report.diagnostics) {
    got += cli::FormatDiagnostic(c.file, d) + "\n";
  }
  if (c.valid) {
    EXPECT_FALSE(HasErrors(check.report.diagnostics)) << got;
    return;
  }
  EXPECT_TRUE(HasErrors(check.report.diagnostics)) << c.file << " should be invalid";
  for (const std::string& code : c.codes) {
    bool found = false;
    for (const Diagnostic& d : check.report.diagnostics) {
      if (d.code == code) {
        found = true;
        // Every diagnostic of a parsed document has a location.
        EXPECT_TRUE(d.location.known()) << cli::FormatDiagnostic(c.file, d);
      }
    }
    EXPECT_TRUE(found) << c.file << ": expected " << code << ", got:\n" << got;
  }
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.file.substr(info.param.file.rfind('/') + 1);
  name = name.substr(0, name.find('.'));
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return "c" + name;
}

INSTANTIATE_TEST_SUITE_P(Manifest, ValidateConformance, ::testing::ValuesIn(LoadManifest()),
                         CaseName);

TEST(ValidateConformanceManifest, HasAtLeast150Cases) { EXPECT_GE(LoadManifest().size(), 150u); }

}  // namespace
}  // namespace zflow
