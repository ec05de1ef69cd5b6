// docs/pipelines.md holds the step field reference generated from the loader's table
// (pipeline/spec_fields.h); UPDATE_DOCS=1 rewrites it.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "pipeline/spec_fields.h"
#include "zflow/spec.h"

namespace zflow::spec {
namespace {

constexpr std::string_view kBegin = "<!-- field reference: generated from src/pipeline/spec_fields.cc -->\n";
constexpr std::string_view kEnd = "<!-- end of the field reference -->\n";

TEST(FieldReference, DocsHoldTheGeneratedReference) {
  const std::string path = std::string(ZFLOW_SOURCE_DIR) + "/docs/pipelines.md";
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  std::size_t begin = text.find(kBegin);
  std::size_t end = text.find(kEnd);
  ASSERT_NE(begin, std::string::npos) << path << " lacks the field reference markers";
  ASSERT_NE(end, std::string::npos);
  begin += kBegin.size();
  const std::string generated = FieldReferenceMarkdown();
  if (text.substr(begin, end - begin) != generated && std::getenv("UPDATE_DOCS") != nullptr) {
    text.replace(begin, end - begin, generated);
    std::ofstream(path) << text;
    return;
  }
  EXPECT_EQ(text.substr(begin, end - begin), generated)
      << "run UPDATE_DOCS=1 build/tests/pipeline_test --gtest_filter=FieldReference.*";
}

// Each kind's keys are the loader's: a step holding one field of the table is never refused for
// an unknown key (it may be for the field's value or a missing field), and a key outside the
// table is.
TEST(FieldReference, TheLoaderAcceptsEveryKeyOfTheTable) {
  for (const StepKindInfo& kind : StepKinds()) {
    for (const FieldInfo& f : kind.fields) {
      std::string yaml = "pipeline: p\nsteps:\n  - name: s\n    " + std::string(kind.kind) +
                         ":\n      " + std::string(f.key) + ": 1\n";
      auto loaded = LoadPipelineText(yaml, "p.yaml");
      if (!loaded.ok()) {
        EXPECT_EQ(loaded.status().message().find("unknown key"), std::string::npos)
            << kind.kind << "." << f.key << ": " << loaded.status().message();
      }
    }
    std::string yaml = "pipeline: p\nsteps:\n  - name: s\n    " + std::string(kind.kind) +
                       ":\n      not_a_field_of_it: 1\n";
    auto loaded = LoadPipelineText(yaml, "p.yaml");
    if (kind.kind == "state") continue;  // a raw state's keys are ASL's, checked by the validator
    ASSERT_FALSE(loaded.ok()) << kind.kind;
    EXPECT_NE(loaded.status().message().find("unknown key \"not_a_field_of_it\""),
              std::string::npos)
        << kind.kind << ": " << loaded.status().message();
  }
}

}  // namespace
}  // namespace zflow::spec
