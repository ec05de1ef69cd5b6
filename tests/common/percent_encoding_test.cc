#include "common/percent_encoding.h"

#include <gtest/gtest.h>

namespace zflow {
namespace {

TEST(PercentEncoding, EncodesAllButUnreservedAndKeptBytes) {
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("arn:aws:x", ":"), "arn:aws:x");
  EXPECT_EQ(PercentEncode("arn:aws:x"), "arn%3Aaws%3Ax");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(PercentEncoding, DecodesEscapesAndLeavesTheRest) {
  EXPECT_EQ(PercentDecode("a%20b%2fc"), "a b/c");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%2"), "%2");
  EXPECT_EQ(PercentDecode("%zz+"), "%zz+");
  EXPECT_EQ(PercentDecode(PercentEncode("s3://b/k?x=1&y=é")), "s3://b/k?x=1&y=é");
}

}  // namespace
}  // namespace zflow
