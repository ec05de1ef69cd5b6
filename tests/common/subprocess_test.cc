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

namespace zflow {
namespace {

TEST(Subprocess, TimeoutKillsTheWholeProcessGroup) {
  // The shell starts a grandchild; both must die at the timeout, or the read never ends.
  auto r = RunProcess({"sh", "-c", "sleep 30 & sleep 30"}, "",
                      {.timeout = std::chrono::milliseconds(200)});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 128 + 9);
}

TEST(Subprocess, CancelFlagStopsTheProcess) {
  std::atomic<bool> cancel{true};
  auto r = RunProcess({"sleep", "30"}, "", {.cancel = &cancel});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
}

}  // namespace
}  // namespace zflow
