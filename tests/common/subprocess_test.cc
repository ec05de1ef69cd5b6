#include "common/subprocess.h"

#include <gtest/gtest.h>

namespace zflow {
namespace {

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = RunProcess({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_text, "out\n");
  EXPECT_EQ(r->stderr_text, "err\n");
}

TEST(Subprocess, FeedsLargeStdinWithoutDeadlock) {
  std::string big(1 << 20, 'a');
  auto r = RunProcess({"cat"}, big);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->stdout_text.size(), big.size());
}

TEST(Subprocess, ChildThatIgnoresStdinDoesNotKillUs) {
  auto r = RunProcess({"true"}, std::string(1 << 20, 'a'));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
}

TEST(Subprocess, ArgumentsAreNotInterpretedByAShell) {
  auto r = RunProcess({"echo", "$HOME; rm -rf /"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_text, "$HOME; rm -rf /\n");
}

TEST(Subprocess, ReportsSignalsAndMissingPrograms) {
  auto killed = RunProcess({"sh", "-c", "kill -9 $$"});
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(killed->exit_code, 128 + 9);
  EXPECT_FALSE(RunProcess({"/nonexistent/program"}).ok());
  EXPECT_FALSE(RunProcess({}).ok());
}

}  // namespace
}  // namespace zflow
