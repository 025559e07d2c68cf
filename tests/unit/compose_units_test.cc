#include <gtest/gtest.h>

#include "orchestrator/compose/units.h"

namespace stack::compose {
namespace {

TEST(ComposeUnits, Durations) {
  EXPECT_EQ(parse_duration("1m30s").value(), 90000);
  EXPECT_EQ(parse_duration("10s").value(), 10000);
  EXPECT_EQ(parse_duration("500ms").value(), 500);
  EXPECT_EQ(parse_duration("1h").value(), 3600000);
  EXPECT_EQ(parse_duration("1.5s").value(), 1500);
  EXPECT_EQ(parse_duration("2h45m").value(), (2 * 60 + 45) * 60000);
  EXPECT_EQ(parse_duration("0").value(), 0);
  EXPECT_EQ(parse_duration("1500us").value(), 1);
}

TEST(ComposeUnits, BadDurationsNameTheText) {
  auto r = parse_duration("10");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().context.find("\"10\""), std::string::npos);
  EXPECT_NE(r.error().context.find("missing unit"), std::string::npos);
  EXPECT_FALSE(parse_duration("10x"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("1m-3s"));
}

TEST(ComposeUnits, FormatDurationInvertsParse) {
  for (Millis ms : {0L, 500L, 1000L, 90000L, 3600000L, 3723004L}) EXPECT_EQ(parse_duration(format_duration(ms)).value(), ms);
  EXPECT_EQ(format_duration(90000), "1m30s");
  EXPECT_EQ(format_duration(500), "500ms");
}

TEST(ComposeUnits, SizesAreBinaryLikeDocker) {
  EXPECT_EQ(parse_size("512m").value(), 512ull << 20);
  EXPECT_EQ(parse_size("1g").value(), 1ull << 30);
  EXPECT_EQ(parse_size("1G").value(), 1ull << 30);
  EXPECT_EQ(parse_size("100k").value(), 102400ull);
  EXPECT_EQ(parse_size("1024").value(), 1024ull);
  EXPECT_EQ(parse_size("10b").value(), 10ull);
  EXPECT_EQ(parse_size("1.5GB").value(), 3ull << 29);
  EXPECT_EQ(parse_size("2MiB").value(), 2ull << 20);
  EXPECT_EQ(parse_size("2 MB").value(), 2ull << 20);
}

TEST(ComposeUnits, BadSizes) {
  for (auto s : {"", "m", "12q", "1gg", "-1m", "1.2.3m"}) {
    auto r = parse_size(s);
    EXPECT_FALSE(r) << s;
  }
  EXPECT_NE(parse_size("12q").error().context.find("\"12q\""), std::string::npos);
}

}  // namespace
}  // namespace stack::compose
