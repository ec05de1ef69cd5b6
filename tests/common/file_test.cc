#include "common/file.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace zflow {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zflow-file-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FileTest, ReadsSmallFilesWhole) {
  std::ofstream(dir_ / "a.txt") << "hello";
  auto r = ReadFileCapped((dir_ / "a.txt").string(), 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, "hello");
  EXPECT_FALSE(r->truncated);
  EXPECT_EQ(r->size, 5u);
}

TEST_F(FileTest, StopsReadingPastTheCapAndReportsTheRealSize) {
  std::ofstream(dir_ / "big.txt") << std::string(10000, 'x');
  auto r = ReadFileCapped((dir_ / "big.txt").string(), 100);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->data.size(), 101u);
  EXPECT_EQ(r->size, 10000u);
}

TEST_F(FileTest, ReportsMissingFilesAndDirectories) {
  auto missing = ReadFileCapped((dir_ / "nope").string(), 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto dir = ReadFileCapped(dir_.string(), 10);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FileTest, WritesAtomically) {
  std::string path = (dir_ / "out.json").string();
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two").ok());
  auto r = ReadFileCapped(path, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, "two");
  EXPECT_FALSE(fs::exists(path + ".zflow-tmp"));
  EXPECT_FALSE(WriteFileAtomically((dir_ / "no/such/dir/x").string(), "x").ok());
}

TEST_F(FileTest, AtomicWriteKeepsTheFileMode) {
  std::string path = (dir_ / "script.sh").string();
  ASSERT_TRUE(WriteFileAtomically(path, "a").ok());
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read);
  ASSERT_TRUE(WriteFileAtomically(path, "b").ok());
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read);
}

}  // namespace
}  // namespace zflow
