// The picture-string functions against results of the reference implementation (jsonata-js),
// quirks included: each expectation below is what jsonata-js 2.x returns for the same call.
#include "jsonata/picture.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <optional>
#include <string>

#include "jsonata/error.h"

namespace zflow::jsonata {
namespace {

// 2018-03-23T10:33:36.617Z, the evaluation timestamp used where $toMillis needs "now".
constexpr double kNow = 1521801216617;

std::string ErrorCode(const std::function<void()>& call) {
  try {
    call();
  } catch (const Failure& failure) {
    return failure.code;
  }
  return "no error";
}

std::string From(double millis, std::optional<std::string_view> picture = std::nullopt,
                 std::optional<std::string_view> timezone = std::nullopt) {
  return FormatDateTime(millis, picture, timezone);
}

std::optional<double> To(std::string_view timestamp,
                         std::optional<std::string_view> picture = std::nullopt) {
  return ParseDateTime(timestamp, picture, kNow);
}

std::string Number(double value, std::string_view picture,
                   const std::vector<std::pair<std::string, std::string>>& options = {}) {
  return FormatNumber(value, picture, options);
}

TEST(JsonataPicture, FromMillisDefaultsToIso8601) {
  EXPECT_EQ(From(1521801216617), "2018-03-23T10:33:36.617Z");
  EXPECT_EQ(From(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(From(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(From(1521801216617, std::nullopt, "-0500"), "2018-03-23T05:33:36.617-05:00");
  EXPECT_EQ(From(1540127100000, "[Y]-[M01]-[D01]T[H01]:[m01]:[s01][Z0101t]", "0000"),
            "2018-10-21T13:05:00Z");
}

TEST(JsonataPicture, FromMillisFormatsNamesOrdinalsWordsAndNumerals) {
  EXPECT_EQ(From(1521801216617, "[FNn], [D1o] [MNn] [Y]"), "Friday, 23rd March 2018");
  EXPECT_EQ(From(1521801216617, "[Dwo] [MNn,3-3] [YI]"), "twenty-third Mar MMXVIII");
  EXPECT_EQ(From(1521801216617, "[Y9,999,*] [FN,3-3] [MN]"), "2,018 FRI MARCH");
  EXPECT_EQ(From(1521801216617, "[Yw] [Da] [MA]"), "two thousand and eighteen w C");
  EXPECT_EQ(From(1521801216617, "[Y٠٠٠١]"), "٢٠١٨");
  EXPECT_EQ(From(1521801216617, "[D#1,2]/[M1,2]/[Y,2]"), "23/03/18");
  EXPECT_EQ(From(1521801216617, "[[Year]]: [[[Y0001]]]"), "[Year]: [2018]");
  EXPECT_EQ(From(1521801216617, "[Y]-[ M01]-[D 01]T[H01 ]:[ m   ]"), "2018-03-23T10:33");
  EXPECT_EQ(From(1521801216617, "[F], [D]/[M]/[Y] [h]:[m]:[s] [PN]"),
            "friday, 23/3/2018 10:33:36 AM");
}

TEST(JsonataPicture, FromMillisFormatsIsoWeeks) {
  EXPECT_EQ(From(1521801216617, "[X0001]-W[W01]-[F1] [w] [xNn] [d]"), "2018-W12-5 4 March 82");
  // Saturday 1 January 2005 belongs to week 53 of 2004, and to the 5th week of December.
  EXPECT_EQ(From(1104537600000, "[X0001]-W[W01]-[F1] [w] [xNn]"), "2004-W53-6 5 December");
  EXPECT_EQ(From(1451563200000, "Week: [W]"), "Week: 53");
  EXPECT_EQ(From(1514808000000, "[dwo] day of the year"), "first day of the year");
}

TEST(JsonataPicture, FromMillisReadsTheTimezoneLikeTheReference) {
  EXPECT_EQ(From(1521801216617, "[h]:[m01][P] [z]", "+0530"), "4:03pm GMT+05:30");
  EXPECT_EQ(From(1531310400000, "[H01]:[m] [Z0]", "+0530"), "17:30 +5:30");
  EXPECT_EQ(From(1540127100000, "[H]:[m] [Z01:01t]", "+0000"), "13:05 Z");
  // parseInt reads "-0530" as -530: floor(-5.3) hours and -30 minutes.
  EXPECT_EQ(From(1521801216617, "[Y0001]-[M01]-[D01] [H01]:[m01] [Z]", "-0530"),
            "2018-03-23 04:03 -06:30");
  EXPECT_EQ(From(1521801216617, "[Z0]", "-0530"), "-6:-30");
  EXPECT_EQ(From(1540127100000, "[H]:[m] [z]", "0x10"), "13:21 GMT+00:16");
  EXPECT_EQ(From(1521801216617, "[Y]", ""), "NaN");
}

TEST(JsonataPicture, FromMillisKeepsTheReferenceQuirks) {
  EXPECT_EQ(From(1e16), "0NaN-NaN-NaNTNaN:NaN:NaN.NaNZ");  // outside JavaScript's Date range
  EXPECT_EQ(From(1e16, "[MNn]"), "undefined");
  EXPECT_EQ(From(1521801216617, "[q1] [C] [E] [f01]"), "undefined ISO ISO 617");
  EXPECT_EQ(From(1521801216617, "[Y0001,2-2] [Y,2-x]"), "18 NaN");
  EXPECT_EQ(From(-62198755200000, "[Y0001]-[M01]-[D01] [d] [W]"), "-0001-01-01 1 53");
}

TEST(JsonataPicture, FromMillisRejectsBadPictures) {
  EXPECT_EQ(ErrorCode([] { From(0, "[Y]-[M"); }), "D3135");
  EXPECT_EQ(ErrorCode([] { From(0, "[]"); }), "D3132");
  EXPECT_EQ(ErrorCode([] { From(0, "[YN]"); }), "D3133");
  EXPECT_EQ(ErrorCode([] { From(0, "[Z010101]"); }), "D3134");
  EXPECT_EQ(ErrorCode([] { From(0, "[ZN]"); }), "D3134");
  EXPECT_EQ(ErrorCode([] { From(0, "[Yabc]"); }), "D3130");
  EXPECT_EQ(ErrorCode([] { From(0, "[Y[M]]"); }), "D3130");
  EXPECT_EQ(ErrorCode([] { From(0, "[Y01١]"); }), "D3131");
  // The reference dies of a JavaScript TypeError on these.
  EXPECT_EQ(ErrorCode([] { From(1e16, "[MN]"); }), "D1001");
  EXPECT_EQ(ErrorCode([] { From(0, "[fN]"); }), "D3133");
}

TEST(JsonataPicture, FromMillisErrorShowsTheValueAsJson) {
  try {
    From(0, "[q]");
    FAIL() << "no error";
  } catch (const Failure& failure) {
    EXPECT_EQ(failure.code, "D3132");
    EXPECT_EQ(failure.details.value, "\"q\"");
  }
}

TEST(JsonataPicture, ToMillisReadsIso8601AsDateParseDoes) {
  EXPECT_EQ(To("2017-11-07T15:07:54.972Z"), 1510067274972);
  EXPECT_EQ(To("2018"), 1514764800000);
  EXPECT_EQ(To("2018-02-01T09:42:13.123+0000"), 1517478133123);
  EXPECT_EQ(To("2018-02-01T09:42:13+01:30"), 1517472733000);
  EXPECT_EQ(To("2017-11-07T15:07:54.123456"), 1510067274123);
  EXPECT_EQ(To("2017-11-07T24:00:00Z"), 1510099200000);
  EXPECT_EQ(To("2017-02-30"), 1488412800000);  // 2 March
  EXPECT_EQ(To("2017-11-07Z"), 1510012800000);
  // What the ES5 format refuses goes through V8's legacy parser.
  EXPECT_EQ(To("2017.5"), 1493596800000);  // 1 May 2017
  EXPECT_EQ(To("0049.5"), 2503440000000);  // 1 May 2049
  for (const char* impossible : {"2018-13-01", "2017-02-31T25:00:00Z", "2017-11-07+0100"}) {
    const std::optional<double> millis = To(impossible);
    ASSERT_TRUE(millis.has_value()) << impossible;
    EXPECT_TRUE(std::isnan(*millis)) << impossible;
  }
}

TEST(JsonataPicture, ToMillisRejectsWhatIsNotIso8601) {
  EXPECT_EQ(ErrorCode([] { To("foo"); }), "D3110");
  EXPECT_EQ(ErrorCode([] { To("2018-02-03 11:15:33"); }), "D3110");
  EXPECT_EQ(ErrorCode([] { To("01-02-2018"); }), "D3110");
}

TEST(JsonataPicture, ToMillisParsesWithPictures) {
  EXPECT_EQ(To("27th April 2008", "[D1o] [MNn] [Y0001]"), 1209254400000);
  EXPECT_EQ(To("Twentieth of August, two thousand and seventeen", "[DW] of [MNn], [Yw]"),
            1503187200000);
  EXPECT_EQ(To("4/4/2018 12:06 pm", "[D1]/[M1]/[Y0001] [h]:[m] [P]"), 1522843560000);
  EXPECT_EQ(To("2018-1-1 Am", "[Y]-[M]-[D] [P]"), 1514764800000);
  EXPECT_EQ(To("2020-09-09 08:00:00 GMT-05:00", "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [z]"),
            1599656400000);
  EXPECT_EQ(To("2020-09-09 12:00:00 +0530", "[Y0001]-[M01]-[D01] [H01]:[m01]:[s01] [Z0001]"),
            1599633000000);
  EXPECT_EQ(To("2018-094", "[Y0001]-[d001]"), 1522800000000);
  EXPECT_EQ(To("201802", "[Y0001][M01]"), 1517443200000);
  EXPECT_EQ(To("MMXVIII-iii", "[YI]-[Mi]"), 1519862400000);
  EXPECT_EQ(To("ae C mmxviii", "[Da] [MA] [Yi]"), 1522454400000);
  EXPECT_EQ(To("1999-01-01 12:00:00.5", "[Y]-[M]-[D] [H]:[m]:[s].[f]"), 915192000500);
  EXPECT_EQ(To("18-01-01", "[Y01]-[M]-[D]"), -1640995200000);  // Date.UTC: 18 is 1918
  EXPECT_EQ(To("Mon, Twelfth November 2018", "[FNn,*-3], [DWwo] [MNn] [Y]"), 1541980800000);
}

TEST(JsonataPicture, ToMillisTakesMissingLeadingComponentsFromNow) {
  EXPECT_EQ(To("13:45", "[H]:[m]"), 1521812700000);  // 2018-03-23T13:45Z
  EXPECT_EQ(To("July", "[MNn]"), 1530403200000);     // 2018-07-01
  EXPECT_EQ(To("pm", "[P]"), 1521806400000);         // 2018-03-23T12:00Z
}

TEST(JsonataPicture, ToMillisIsUndefinedWhenNothingMatches) {
  EXPECT_EQ(To("irrelevant", "[Y]-[M]-[D]"), std::nullopt);
  EXPECT_EQ(To("Hello", "Hello"), std::nullopt);
}

TEST(JsonataPicture, ToMillisRejectsPicturesItCannotUse) {
  EXPECT_EQ(ErrorCode([] { To("2018-22", "[Y]-[D]"); }), "D3136");
  EXPECT_EQ(ErrorCode([] { To("5-22 23:59", "[M]-[D] [m]:[s]"); }), "D3136");
  EXPECT_EQ(ErrorCode([] { To("2018-3-2-5", "[X]-[x]-[w]-[F1]"); }), "D3136");
  EXPECT_EQ(ErrorCode([] { To("2018-05-22", "[Y]-[M]-[q]"); }), "D3132");
  EXPECT_EQ(ErrorCode([] { To("2018-05-22", "[YN]-[M]-[D]"); }), "D3133");
  EXPECT_EQ(ErrorCode([] { To("2018", "[Y"); }), "D3135");
  // The separator makes the reference's regular expression invalid (a SyntaxError there).
  EXPECT_EQ(ErrorCode([] { To("2018 +05*30", "[Y] [Z01*01]"); }), "D1001");
}

TEST(JsonataPicture, ToMillisHandlesLongInputs) {
  // Backtracking over a long run must neither recurse per character nor blow up.
  const std::string digits(100000, '7');
  EXPECT_EQ(To(digits + "x", "[Y]-[M]"), std::nullopt);
  std::string words;
  for (int i = 0; i < 20000; ++i) words += "one-";
  EXPECT_EQ(To(words + "!", "[Yw]"), std::nullopt);
  // Nor per part of the picture.
  std::string picture, timestamp;
  for (int i = 0; i < 30000; ++i) {
    picture += "[D]-";
    timestamp += "1-";
  }
  EXPECT_EQ(To(timestamp, picture), 1519862400000);  // 2018-03-01, year and month from now
}

TEST(JsonataPicture, FormatIntegerDecimalPatterns) {
  EXPECT_EQ(FormatInteger(1234567, "#,##0"), "1,234,567");
  EXPECT_EQ(FormatInteger(1234567, "#,##,##0"), "12,34,567");
  EXPECT_EQ(FormatInteger(1234567, "0,00"), "1,23,45,67");  // one separator repeats
  EXPECT_EQ(FormatInteger(12, "0000"), "0012");
  EXPECT_EQ(FormatInteger(-12.5, "0"), "-13");  // floored first
  EXPECT_EQ(FormatInteger(123, "٠٠٠٠"), "٠١٢٣");
  EXPECT_EQ(FormatInteger(2012, "١٢٣٤"), "٢٠١٢");
  EXPECT_EQ(FormatInteger(1e21, "#,##0"), "1e,+21");  // JavaScript writes 1e21 as "1e+21"
}

TEST(JsonataPicture, FormatIntegerOrdinalsWordsRomanAndLetters) {
  EXPECT_EQ(FormatInteger(11, "0;o"), "11th");
  EXPECT_EQ(FormatInteger(22, "0;o"), "22nd");
  EXPECT_EQ(FormatInteger(1000000002, "w;o"), "one billion and second");
  EXPECT_EQ(FormatInteger(1234567890123, "Ww"),
            "One Trillion, Two Hundred and Thirty-Four Billion, Five Hundred and Sixty-Seven "
            "Million, Eight Hundred and Ninety Thousand, One Hundred and Twenty-Three");
  EXPECT_EQ(FormatInteger(90, "W;o"), "NINETIETH");
  EXPECT_EQ(FormatInteger(1999, "I"), "MCMXCIX");
  EXPECT_EQ(FormatInteger(1999, "i"), "mcmxcix");
  EXPECT_EQ(FormatInteger(0, "i"), "");
  EXPECT_EQ(FormatInteger(702, "A"), "ZZ");
  EXPECT_EQ(FormatInteger(703, "a"), "aaa");
}

TEST(JsonataPicture, FormatIntegerRejectsBadPictures) {
  EXPECT_EQ(ErrorCode([] { FormatInteger(5, "x"); }), "D3130");
  EXPECT_EQ(ErrorCode([] { FormatInteger(5, ""); }), "D3130");
  EXPECT_EQ(ErrorCode([] { FormatInteger(113, "#;o"); }), "D3130");
  EXPECT_EQ(ErrorCode([] { FormatInteger(5, "0١"); }), "D3131");
  // The reference overflows its stack writing ten thousand M's.
  EXPECT_EQ(ErrorCode([] { FormatInteger(1e7, "I"); }), "D1001");
}

TEST(JsonataPicture, ParseIntegerIsTheLenientInverse) {
  EXPECT_EQ(ParseInteger("1,234,567", "#,##0"), 1234567);
  EXPECT_EQ(ParseInteger("1 234 567", "# ##0"), 1);  // a regular pattern strips only commas
  EXPECT_EQ(ParseInteger("twelve thousand, four hundred and seventy-sixth", "w;o"), 12476);
  EXPECT_EQ(ParseInteger("one hundred million", "w"), 100000000);
  EXPECT_EQ(ParseInteger("MCMXCIX", "I"), 1999);
  EXPECT_EQ(ParseInteger("mcmxcix", "i"), 1999);
  EXPECT_EQ(ParseInteger("ZZ", "A"), 702);
  EXPECT_EQ(ParseInteger("112th", "0;o"), 112);
  EXPECT_EQ(ParseInteger("1,234", "#,##0;o"), 12);
  EXPECT_EQ(ParseInteger("١٢٣", "٠"), 123);
  EXPECT_EQ(ParseInteger("one, two", "w"), 3);
  for (auto [text, picture] : {std::pair{"mcmxcix", "I"}, {"abc", "0"}, {"", "w"}}) {
    const std::optional<double> value = ParseInteger(text, picture);
    ASSERT_TRUE(value.has_value());
    EXPECT_TRUE(std::isnan(*value)) << text;
  }
  EXPECT_EQ(ErrorCode([] { ParseInteger("12", "x"); }), "D3130");
  EXPECT_EQ(ErrorCode([] { ParseInteger("12", "0١"); }), "D3131");
  EXPECT_EQ(ErrorCode([] { ParseInteger("12", "١"); }), "D1001");  // invalid code point
}

TEST(JsonataPicture, ParseIntegerRoundTripsFormatInteger) {
  for (double value : {0.0, 7.0, 19.0, 20.0, 101.0, 999.0, 1000.0, 123456.0, 1000001.0, 987654.0}) {
    for (std::string picture : {"0", "#,##0", "0;o", "w", "W;o", "Ww", "i", "I", "a", "A"}) {
      // Zero has no numeral and no letter.
      if (value == 0 && (picture == "i" || picture == "I" || picture == "a" || picture == "A")) {
        continue;
      }
      EXPECT_EQ(ParseInteger(FormatInteger(value, picture), picture), value)
          << value << " " << picture;
    }
  }
}

TEST(JsonataPicture, FormatNumberPictures) {
  EXPECT_EQ(Number(12345.6, "#,###.00"), "12,345.60");
  EXPECT_EQ(Number(1234.5678, "00,000.000"), "01,234.568");
  EXPECT_EQ(Number(0.256, "#0.0%"), "25.6%");
  EXPECT_EQ(Number(0.0256, "#0.0‰"), "25.6‰");
  EXPECT_EQ(Number(1234.5678, "#.###e0"), "0.123e4");
  EXPECT_EQ(Number(0.000123, "0.00e00"), "1.23e-04");
  EXPECT_EQ(Number(-6, "#0;(#0)"), "(6)");
  EXPECT_EQ(Number(-6, "#0"), "-6");
  EXPECT_EQ(Number(1234.5, "$#,##0.00 USD"), "$1,234.50 USD");
  EXPECT_EQ(Number(0, "0e0"), "0e0");
  EXPECT_EQ(Number(-5, "0e0"), "-5e0");
}

TEST(JsonataPicture, FormatNumberRoundsLikeTheReference) {
  // $round's half to even, on the decimal digits of the number's shortest form.
  EXPECT_EQ(Number(0.125, "0.00"), "0.12");
  EXPECT_EQ(Number(0.135, "0.00"), "0.14");
  EXPECT_EQ(Number(2.5, "0"), "2");
  EXPECT_EQ(Number(3.5, "0"), "4");
  EXPECT_EQ(Number(1.005, "0.00"), "1.00");
}

TEST(JsonataPicture, FormatNumberKeepsTheReferenceQuirks) {
  EXPECT_EQ(Number(1e21, "#,##0.00"), "1e,+21.00");
  // Grouping positions of the fractional part are looked up in the integer part.
  EXPECT_EQ(Number(1234567.891, "#,##,##0.0##,#"), "12,34,567.891,,");
}

TEST(JsonataPicture, FormatNumberOptions) {
  EXPECT_EQ(Number(1234.5, "#.##0,00", {{"decimal-separator", ","}, {"grouping-separator", "."}}),
            "1.234,50");
  EXPECT_EQ(Number(1234.5, "#,##٠.٠٠", {{"zero-digit", "٠"}}), "١,٢٣٤.٥٠");
  EXPECT_EQ(Number(1234.5, "0.0E0", {{"exponent-separator", "E"}}), "1.2E3");
  EXPECT_EQ(Number(-0.5, "0.0", {{"minus-sign", "−"}}), "−0.5");
  EXPECT_EQ(Number(0.5, "#pc", {{"percent", "pc"}}), "50pc");
  EXPECT_EQ(ErrorCode([] {
              Number(1234.5, "#,##0.00", {{"decimal-separator", ","}, {"grouping-separator", "."}});
            }),
            "D3091");
}

TEST(JsonataPicture, FormatNumberRejectsBadPictures) {
  const std::pair<const char*, const char*> cases[] = {
      {"#.00;#.00;#", "D3080"}, {"#..0", "D3081"}, {"#%%", "D3082"},  {"#‰‰", "D3083"},
      {"#%‰", "D3084"},         {".", "D3085"},    {"#a#", "D3086"},  {"%", "D3086"},
      {"#,.0", "D3087"},        {"#,", "D3088"},   {"#,,#", "D3089"}, {"0#", "D3090"},
      {".#0", "D3091"},         {"0e0%", "D3092"}, {"0e#", "D3093"}};
  for (const auto& [picture, code] : cases) {
    EXPECT_EQ(ErrorCode([picture = picture] { Number(1, picture); }), code) << picture;
  }
  // toFixed() takes at most 100 digits; the reference fails with a RangeError.
  EXPECT_EQ(ErrorCode([] { Number(1, "#." + std::string(101, '#')); }), "D1001");
}

}  // namespace
}  // namespace zflow::jsonata
