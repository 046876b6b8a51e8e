#include <gtest/gtest.h>

#include "events/types.h"

namespace migops {
namespace {

TEST(Rfc3339, FormatsWithMicroseconds) {
    EXPECT_EQ(format_rfc3339(timestamp{0}), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339(timestamp{1'795'000'000'123'456}), "2026-11-18T11:06:40.123456Z");
    EXPECT_EQ(format_rfc3339(timestamp{-1}), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_rfc3339(timestamp{951'825'905'007'009}), "2000-02-29T12:05:05.007009Z");
    // The ends of four-digit years, and beyond them.
    EXPECT_EQ(format_rfc3339(timestamp{-62'167'219'200'000'000}), "0000-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339(timestamp{253'402'300'799'999'999}), "9999-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_rfc3339(timestamp{253'402'300'800'000'000}), "10000-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339(timestamp{-62'167'219'200'000'001}), "-001-12-31T23:59:59.999999Z");
}

TEST(Rfc3339, AppendsAfterWhatTheTextHolds) {
    std::string text = "at ";
    append_rfc3339(text, timestamp{-62'167'219'200'000'001});
    append_rfc3339(text, timestamp{1'795'000'000'123'456});
    EXPECT_EQ(text, "at -001-12-31T23:59:59.999999Z2026-11-18T11:06:40.123456Z");
}

TEST(Rfc3339, ParsesWhatItFormats) {
    for (std::int64_t t :
         {0LL, 1LL, 951'782'400'000'000LL, 1'795'000'000'123'456LL, -86'400'000'001LL}) {
        auto parsed = parse_rfc3339(format_rfc3339(timestamp{t}));
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->micros, t);
    }
}

TEST(Rfc3339, ParsesOffsetsAndShortFractions) {
    EXPECT_EQ(parse_rfc3339("2026-11-25T22:00:00+01:00")->micros,
              parse_rfc3339("2026-11-25T21:00:00Z")->micros);
    EXPECT_EQ(parse_rfc3339("2026-11-25T21:00:00.5Z")->micros,
              parse_rfc3339("2026-11-25T21:00:00Z")->micros + 500'000);
}

TEST(Rfc3339, RejectsMalformed) {
    for (const char* bad :
         {"", "2026-11-25", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
          "2026-11-25T24:00:00Z", "2026-11-25T21:00:00", "2026-11-25T21:00:00.Z",
          "2026-11-25T21:00:00Zjunk", "2026-11-25 21:00:00Z", "2026-11-25T21:00:00+0100"})
        EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(Rfc3339, RefusesInstantsOutsideTheYearsItCanWrite) {
    // An offset may move a time past year 0000 or 9999 in UTC, where
    // format_rfc3339 could not write it back.
    for (const char* bad :
         {"9999-12-31T23:59:60.999999-23:59", "9999-12-31T23:00:00-01:00", "9999-12-31T23:59:60Z",
          "0000-01-01T00:00:00+00:01", "0000-01-01T23:58:59.999999+23:59"})
        EXPECT_FALSE(parse_rfc3339(bad)) << bad;
    for (const char* edge : {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
                             "0000-01-01T00:00:00-23:59", "9999-12-31T00:00:59.999999+23:59"}) {
        const auto t = parse_rfc3339(edge);
        ASSERT_TRUE(t) << edge;
        EXPECT_EQ(parse_rfc3339(format_rfc3339(*t)), t) << edge;
    }
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("0000-01-01T00:00:00Z")),
              "0000-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_rfc3339(*parse_rfc3339("9999-12-31T23:59:59.999999Z")),
              "9999-12-31T23:59:59.999999Z");
}

TEST(Hex, RoundTripsAndRejects) {
    hash_bytes h{};
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(i * 7);
    EXPECT_EQ(hash_from_hex(to_hex(h)), h);
    EXPECT_FALSE(hash_from_hex("00"));
    EXPECT_FALSE(hash_from_hex(std::string(64, 'G')));
    EXPECT_FALSE(hash_from_hex(std::string(64, 'A')));  // upper case is not canonical
}

TEST(Hex, AppendsAfterWhatTheTextHolds) {
    hash_bytes h{};
    h[0] = 0xab;
    h[31] = 0x0f;
    std::string text = "x";
    append_hex(text, h);
    EXPECT_EQ(text, "xab" + std::string(60, '0') + "0f");
}

TEST(RandomId, Is32HexDigitsAndDistinct) {
    auto a = random_id();
    auto b = random_id();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace migops
