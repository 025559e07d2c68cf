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

// Docker's --since/--until forms (api/types/time GetTimestamp).
TEST(ComposeUnits, TimesAsDockersSinceReadsThem) {
  const int64_t now = 1'800'000'000'000;
  EXPECT_EQ(*parse_time("10m", now), now - 600'000);
  EXPECT_EQ(*parse_time("1h30m", now), now - 5'400'000);
  EXPECT_EQ(*parse_time("1700000000", now), 1'700'000'000'000);
  EXPECT_EQ(*parse_time("1700000000.25", now), 1'700'000'000'250);
  EXPECT_EQ(*parse_time("2026-12-07T02:00:00Z", now), 1'796'608'800'000);
  EXPECT_EQ(*parse_time("2026-12-07T03:00:00+01:00", now), 1'796'608'800'000);
  EXPECT_EQ(*parse_time("2026-12-07T01:30:00.5-00:30", now), 1'796'608'800'500);
  EXPECT_EQ(*parse_time("2026-12-07Z", now), 1'796'601'600'000);
  EXPECT_TRUE(parse_time("2028-02-29Z", now));  // a leap year's
  EXPECT_TRUE(parse_time("2026-12-07T02:00+14:00", now));
  // No zone: local time (here made UTC, then put back).
  const char* tz = std::getenv("TZ");
  const std::string saved = tz ? tz : "";
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(*parse_time("2026-12-07T02:00", now), 1'796'608'800'000);
  EXPECT_EQ(*parse_time("2026-12-07", now), 1'796'601'600'000);
  setenv("TZ", "Asia/Tokyo", 1);  // +09:00, no daylight saving
  tzset();
  EXPECT_EQ(*parse_time("2026-12-07T11:00", now), 1'796'608'800'000);
  if (tz) setenv("TZ", saved.c_str(), 1);
  else unsetenv("TZ");
  tzset();
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-00-10", "2026-02-31", "2026-02-29", "2026-04-31",
                          "2026-12-07T25:00", "2026-12-07T02:00+15:00", "2026-12-07T02:00+01:60", "10 m", "-",
                          "12:00"}) {
    auto r = parse_time(bad, now);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find(std::string("\"") + bad + "\""), std::string::npos) << r.error().message();
  }
}

}  // namespace
}  // namespace stack::compose
