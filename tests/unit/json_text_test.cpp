// json_text writes what Boost.JSON's serializer writes for the same value:
// every byte of a string escaped alike, numbers at their limits, and
// objects and arrays nested with their commas.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "events/json_text.h"

namespace migops::events {
namespace {

std::string text_of(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

TEST(JsonText, EveryByteIsEscapedAsBoostJsonEscapesIt) {
    for (int c = 0; c < 256; ++c) {
        const std::string s{'a', static_cast<char>(c), 'b'};
        EXPECT_EQ(text_of(s), boost::json::serialize(boost::json::value(s))) << "byte " << c;
    }
    // Long runs around escapes (the search goes eight bytes at a time), and
    // UTF-8 as it is.
    for (const std::string& s :
         {std::string(), std::string("plain text of more than eight bytes"),
          std::string("0123456\"89abcdef\\x\n"), std::string(17, '\x1f'),
          std::string("Migración a la nube: \xe2\x9c\x93 done"), std::string("\"\"\"\"\"\"\"\"\"")})
        EXPECT_EQ(text_of(s), boost::json::serialize(boost::json::value(s))) << s;
}

TEST(JsonText, NestedValuesAreWhatTheSerializerWrites) {
    std::string out;
    json_text w(out);
    w.begin_object();
    w.key("id").string("t\"1");
    w.key("none").string_or_null("");
    w.key("who").string_or_null("bob");
    w.key("min").number(std::numeric_limits<std::int64_t>::min());
    w.key("max").number(std::numeric_limits<std::uint64_t>::max());
    w.key("small").number(std::uint32_t{7});
    w.key("neg").number(std::int32_t{-7});
    w.key("yes").boolean(true);
    w.key("no").boolean(false);
    w.key("nothing").null();
    w.key("empty").begin_array().end_array();
    w.key("list").begin_array();
    w.number(std::int64_t{1}).string("two").begin_object().end_object();
    w.begin_array().null().boolean(false).end_array();
    w.end_array();
    w.key("obj").begin_object().key("k\n").begin_object().key("pre");
    w.begin_array().number(std::int64_t{1}).number(std::int64_t{2}).end_array();
    w.end_object().end_object();
    w.end_object();
    boost::json::object o{
        {"id", "t\"1"},
        {"none", nullptr},
        {"who", "bob"},
        {"min", std::numeric_limits<std::int64_t>::min()},
        {"max", std::numeric_limits<std::uint64_t>::max()},
        {"small", 7},
        {"neg", -7},
        {"yes", true},
        {"no", false},
        {"nothing", nullptr},
        {"empty", boost::json::array{}},
        {"list",
         boost::json::array{1, "two", boost::json::object{}, boost::json::array{nullptr, false}}},
        {"obj",
         boost::json::object{{"k\n", boost::json::object{{"pre", boost::json::array{1, 2}}}}}}};
    EXPECT_EQ(out, boost::json::serialize(o));
}

TEST(JsonText, ContinuingAddsMembersToAnObjectWrittenBefore) {
    std::string out = R"({"a":1)";
    auto w = json_text::continuing(out);
    w.key("b").begin_array().string("x").end_array();
    out += '}';
    EXPECT_EQ(out, R"({"a":1,"b":["x"]})");
}

}  // namespace
}  // namespace migops::events
