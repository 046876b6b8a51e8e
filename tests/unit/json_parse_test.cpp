// parse_json gives the value boost::json::parse gives, and refuses a key
// one object names twice.

#include <gtest/gtest.h>

#include <string>

#include <boost/json/parse.hpp>

#include "events/json_parse.h"

namespace migops::events {
namespace {

constexpr std::size_t depth = 32;

TEST(JsonParse, GivesTheValueBoostJsonParseGives) {
    const std::string long_text(70'000, 'x');  // past the parser's buffer: a string in parts
    const std::string texts[] = {
        R"({"a":1,"b":[true,false,null],"c":{"d":"e\u00e9\n","f":-1.5e300}})",
        R"([18446744073709551615,-9223372036854775808,0.1,1E2,[],{}])",
        R"("just a string")",
        R"({"a\u0062":"\ud83d\ude00","":{"":[{"":0}]}})",
        "{\"" + long_text + "\":\"" + long_text + "\"}",
        " \n{\"spaced\" : [ 1 , 2 ] }\t",
    };
    for (const auto& text : texts) {
        const auto parsed = parse_json(text, depth);
        ASSERT_FALSE(parsed.error) << text.substr(0, 80) << ": " << parsed.error.message();
        EXPECT_FALSE(parsed.twice);
        EXPECT_EQ(parsed.value, boost::json::parse(text)) << text.substr(0, 80);
    }
}

TEST(JsonParse, RefusesWhatBoostJsonParseRefuses) {
    const std::string texts[] = {"",
                                 "{",
                                 R"({"a":1} x)",
                                 R"({"a":1,})",
                                 "[1]]",
                                 "/* c */ 1",
                                 std::string(depth + 1, '[') + std::string(depth + 1, ']')};
    for (const auto& text : texts) {
        const auto parsed = parse_json(text, depth);
        EXPECT_TRUE(parsed.error) << text.substr(0, 80);
        EXPECT_TRUE(parsed.value.is_null());
        EXPECT_FALSE(parsed.twice);
    }
}

TEST(JsonParse, AKeyGivenTwiceInOneObjectIsRefused) {
    const auto twice = parse_json(R"({"x":[{"k":1,"a\u0062":2,"ab":3}]})", depth);
    EXPECT_EQ(twice.twice, "ab");
    EXPECT_EQ(twice.twice_detail(), R"(the key "ab" is given twice in one object)");
    EXPECT_TRUE(twice.value.is_null());
    EXPECT_FALSE(twice.error);
    // The same key in sibling or nested objects, or as a value, is not twice.
    const auto fine = parse_json(R"({"k":"k","a":{"k":{"k":null}},"b":[{"k":1},{"k":2}]})", depth);
    EXPECT_FALSE(fine.error);
    EXPECT_FALSE(fine.twice);
    EXPECT_EQ(fine.twice_detail(), "");
}

}  // namespace
}  // namespace migops::events
