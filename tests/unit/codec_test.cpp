#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cereal/archives/portable_binary.hpp>

#include "events/codec.h"
#include "events/event_log.h"
#include "tests/unit/sample_events.h"

namespace migops::events {
namespace {

using migops::testing::sample_envelope;
using migops::testing::sample_of;

std::vector<envelope> every_sample() {
    std::vector<envelope> out;
    chain_head head{41, sha256("previous")};
    for_each_event_type([&]<class E>(std::type_identity<E>) {
        auto e = sample_envelope(sample_of<E>());
        head = seal(e, head);
        out.push_back(e);
    });
    return out;
}

TEST(Codec, BinaryRoundTripsEveryType) {
    for (const auto& e : every_sample()) {
        auto decoded = decode_binary(encode_binary(e));
        ASSERT_TRUE(decoded) << decoded.error().message;
        EXPECT_EQ(decoded.value(), e) << type_name_of(e.data);
    }
}

TEST(Codec, DecodingIntoAnEnvelopeThatHeldAnotherEventGivesTheEventAlone) {
    const auto samples = every_sample();
    envelope into = samples.back();
    into.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    // Each event into what the one before left: every type after another.
    for (const auto& e : samples) {
        ASSERT_TRUE(decode_binary(encode_binary(e), into));
        EXPECT_EQ(into, e) << type_name_of(e.data);
    }
    EXPECT_FALSE(decode_binary("garbage", into));
}

// The bytes cereal's own portable binary archive writes for v, in the
// byte order given (what earlier builds stored: little-endian).
template <class M>
std::string cereal_bytes(const M& v, cereal::PortableBinaryOutputArchive::Options options =
                                         cereal::PortableBinaryOutputArchive::Options::Default()) {
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive ar(out, options);
        save_value(ar, v);
    }
    return out.str();
}

TEST(Codec, TheBinaryArchivesKeepCerealsPortableBinaryFormat) {
    const auto big = cereal::PortableBinaryOutputArchive::Options::BigEndian();
    for_each_event_type([&]<class E>(std::type_identity<E>) {
        const auto sample = sample_of<E>();
        binary_output_archive out;
        save_value(out, sample);
        const auto bytes = std::move(out).take();
        EXPECT_EQ(bytes, cereal_bytes(sample)) << E::type_name;
        // Either byte order reads back, as with cereal's input archive.
        for (const auto& stored : {cereal_bytes(sample), cereal_bytes(sample, big)}) {
            binary_input_archive in(stored);
            E back{};
            load_value(in, back);
            EXPECT_TRUE(in.at_end()) << E::type_name;
            EXPECT_EQ(back, sample) << E::type_name;
            std::istringstream stream(stored);
            cereal::PortableBinaryInputArchive theirs(stream);
            std::uint32_t version = 0;
            theirs(version);
            EXPECT_EQ(version, format_version_of<E>()) << E::type_name;
        }
    });
}

TEST(Codec, TheBinaryInputArchiveRefusesWhatDoesNotFit) {
    const auto bytes = cereal_bytes(sample_of<space_renamed>());
    // Cut short anywhere; a byte-order byte that is neither 0 nor 1.
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const auto cut = bytes.substr(0, n);
        EXPECT_THROW(
            {
                binary_input_archive in(cut);
                space_renamed back{};
                load_value(in, back);
            },
            decode_error)
            << n;
    }
    auto flag = bytes;
    flag[0] = 2;
    EXPECT_THROW(binary_input_archive{flag}, decode_error);
    // A string length past the record's end allocates nothing.
    binary_output_archive out;
    out(std::uint64_t{1} << 40);
    const auto huge = std::move(out).take();
    binary_input_archive in(huge);
    std::string s;
    EXPECT_THROW(load_string(in, s), decode_error);
}

TEST(Codec, CloudEventRoundTripsEveryType) {
    for (const auto& e : every_sample()) {
        auto json = to_cloudevent(e);
        auto reparsed = boost::json::parse(canonical_json(json)).as_object();
        auto decoded = from_cloudevent(reparsed);
        ASSERT_TRUE(decoded) << decoded.error().message;
        EXPECT_EQ(decoded.value(), e) << type_name_of(e.data);
    }
}

TEST(Codec, CloudEventCarriesTheAttributes) {
    auto e = sample_envelope(sample_of<space_created>());
    seal(e, chain_head{});
    auto o = to_cloudevent(e);
    EXPECT_EQ(o.at("specversion").as_string(), "1.0");
    EXPECT_EQ(o.at("type").as_string(), "io.migops.space.created.v1");
    EXPECT_EQ(o.at("source").as_string(), "/spaces/space-1");
    EXPECT_EQ(std::string_view(o.at("time").as_string()), "2026-11-18T11:06:40.123456Z");
    EXPECT_EQ(o.at("sequence").as_string(), "00000000000000000001");
    EXPECT_EQ(o.at("migopsposition").to_number<std::uint64_t>(), 1u);
    EXPECT_EQ(o.at("migopsprevhash").as_string(), std::string(64, '0'));
    EXPECT_EQ(o.at("migopshash").as_string(), to_hex(e.hash));
    EXPECT_EQ(o.at("data").at("name").as_string(), "Data centre exit");
    EXPECT_FALSE(to_cloudevent(e, false).contains("migopshash"));
}

TEST(Codec, CanonicalJsonMatchesPythonsSortedCompactDump) {
    // json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    auto v = boost::json::parse(
        R"({"b":"é\u0001\n\"\\/\u007f\u2028","a":[1,-2,true,null,18446744073709551615],"A":{},"é":1,"z":"x"})");
    EXPECT_EQ(canonical_json(v),
              "{\"A\":{},\"a\":[1,-2,true,null,18446744073709551615],"
              "\"b\":\"é\\u0001\\n\\\"\\\\/\x7f\xe2\x80\xa8\",\"z\":\"x\",\"é\":1}");
}

TEST(Chain, HashIsTheSha256OfTheCanonicalCloudEventWithoutItsHash) {
    // The definition (DESIGN.md invariant 5), against compute_hash(), which
    // writes the same bytes without building the object.
    auto every = every_sample();
    auto odd = sample_envelope(sample_of<space_created>());
    odd.actor = user_id{"quote\" backslash\\ tab\t nul\x01 \u00e9 end"};
    odd.correlation_id = "\x7f\n\r\b\f";
    odd.data = space_created{"a \"name\"\n", std::string(300, 'd') + "\x1f"};
    seal(odd, chain_head{7, sha256("before")});
    every.push_back(odd);
    for (const auto& e : every)
        EXPECT_EQ(compute_hash(e), sha256(canonical_json(to_cloudevent(e, false))))
            << type_name_of(e.data);
}

// A persisted struct with a value of every kind the JSON form has, fields
// declared out of name order, and one added in version 2.
struct every_kind {
    struct item {
        static constexpr std::uint32_t version = 1;
        std::string z_text;
        std::int32_t a_number = 0;
        static constexpr auto fields() {
            return std::tuple{field("z_text", &item::z_text), field("a_number", &item::a_number)};
        }
        bool operator==(const item&) const = default;
    };
    static constexpr std::uint32_t version = 2;
    std::string text;
    bool flag = false;
    std::int64_t negative = 0;
    std::uint64_t large = 0;
    role grant = role::none;
    node_id node;
    timestamp at{};
    hash_bytes digest{};
    std::optional<std::string> maybe;
    std::vector<item> items;
    std::vector<std::string> Upper;
    std::string added;
    static constexpr auto fields() {
        return std::tuple{field("text", &every_kind::text),
                          field("flag", &every_kind::flag),
                          field("negative", &every_kind::negative),
                          field("large", &every_kind::large),
                          field("grant", &every_kind::grant),
                          field("node", &every_kind::node),
                          field("at", &every_kind::at),
                          field("digest", &every_kind::digest),
                          field("maybe", &every_kind::maybe),
                          field("items", &every_kind::items),
                          field("Upper", &every_kind::Upper),
                          field("added", &every_kind::added, 2)};
    }
    bool operator==(const every_kind&) const = default;
};

// append_json_value gives the bytes of the document to_json_value builds,
// serialized as it is or canonically.
template <class M>
void expect_json_text_is_the_documents(const M& v, const std::string& what) {
    const auto document = to_json_value(v);
    std::string declared;
    append_json_value<json_member_order::declared>(declared, v);
    EXPECT_EQ(declared, boost::json::serialize(document)) << what;
    std::string by_name;
    append_json_value<json_member_order::by_name>(by_name, v);
    EXPECT_EQ(by_name, canonical_json(document)) << what;
}

TEST(Codec, APayloadsJsonTextIsItsDocumentsBytes) {
    for_each_event_type([&]<class E>(std::type_identity<E>) {
        expect_json_text_is_the_documents(sample_of<E>(),
                                          "sample " + std::string(type_name_of(payload{E{}})));
        expect_json_text_is_the_documents(E{},
                                          "default " + std::string(type_name_of(payload{E{}})));
    });
    every_kind full{"a \"quoted\"\n\x01 é",
                    true,
                    -42,
                    18446744073709551615ULL,
                    role::space_admin,
                    node_id{"space-1.j1.n2"},
                    timestamp{1'795'000'000'123'456},
                    sha256("digest"),
                    "present",
                    {{"second", -1}, {"", 0}},
                    {"B", "a"},
                    "since version 2"};
    expect_json_text_is_the_documents(full, "every kind");
    std::string text;
    append_json_value<json_member_order::by_name>(text, full);
    EXPECT_EQ(text.substr(0, text.find(':')), "{\"Upper\"");
    EXPECT_NE(
        text.find(R"("items":[{"a_number":-1,"z_text":"second"},{"a_number":0,"z_text":""}])"),
        std::string::npos);
    EXPECT_NE(text.find(R"("added":"since version 2")"), std::string::npos);
    // An empty optional, and a version 2 field holding its default, are
    // left out; a version 1 field holding its default is not.
    const every_kind empty{};
    expect_json_text_is_the_documents(empty, "every kind, defaults");
    text.clear();
    append_json_value<json_member_order::declared>(text, empty);
    EXPECT_EQ(text.find("maybe"), std::string::npos);
    EXPECT_EQ(text.find("added"), std::string::npos);
    EXPECT_NE(text.find(R"("text":"")"), std::string::npos);
    EXPECT_NE(text.find(R"("items":[])"), std::string::npos);
}

TEST(Codec, ACloudEventsJsonTextIsTheSerializedObject) {
    auto events = every_sample();
    auto odd = sample_envelope(space_created{"a \"name\"\n", "\x1f"});
    odd.actor = user_id{"quote\" tab\t"};
    odd.space = space_id{};  // an event about a partition: no subject, no partition key
    seal(odd, chain_head{7, sha256("before")});
    events.push_back(odd);
    for (const auto& e : events) {
        std::string text = "before;";
        append_cloudevent_json(text, e);
        EXPECT_EQ(text, "before;" + boost::json::serialize(to_cloudevent(e)))
            << type_name_of(e.data);
    }
}

// JSON's escaping, one character at a time.
std::string escaped_slowly(std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (c >= 0x20) {
            out += ch;
        } else {
            static const std::map<char, std::string> named = {
                {'\n', "\\n"}, {'\r', "\\r"}, {'\t', "\\t"}, {'\b', "\\b"}, {'\f', "\\f"}};
            const auto it = named.find(ch);
            static constexpr char hex[] = "0123456789abcdef";
            out +=
                it != named.end() ? it->second : std::string("\\u00") + hex[c >> 4] + hex[c & 0xf];
        }
    }
    return out + "\"";
}

TEST(Codec, CanonicalJsonEscapesACharacterAtAnyOffset) {
    // Strings of every length up to three words, with one character that
    // needs (or does not need) escaping at every offset.
    for (const char special : {'"', '\\', '\x01', '\n', '\x1f', ' ', '\x7f', '\xc3', '\x80'}) {
        for (std::size_t size = 1; size <= 24; ++size) {
            for (std::size_t at = 0; at < size; ++at) {
                std::string text(size, 'a');
                text[at] = special;
                EXPECT_EQ(canonical_json(boost::json::string(text)), escaped_slowly(text))
                    << "size " << size << ", at " << at << ", byte " << int(special);
            }
        }
    }
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    EXPECT_EQ(canonical_json(boost::json::string(all)), escaped_slowly(all));
}

TEST(Codec, CanonicalJsonSortsLargeObjects) {
    boost::json::object o;
    std::string expected = "{";
    for (char c = 'a'; c <= 'z'; ++c) {
        expected += std::string(expected.size() > 1 ? "," : "") + "\"" + c +
                    "\":" + std::to_string(c - 'a');
    }
    for (char c = 'z'; c >= 'a'; --c) o[std::string(1, c)] = c - 'a';
    EXPECT_EQ(canonical_json(o), expected + "}");
}

TEST(Codec, RejectsGarbageAndUnknownTypes) {
    EXPECT_EQ(decode_binary("").error().code, errc::corruption);
    EXPECT_EQ(decode_binary("\x01\x02\x03").error().code, errc::corruption);
    auto bytes = encode_binary(sample_envelope(sample_of<space_renamed>()));
    EXPECT_FALSE(decode_binary(bytes + "x"));
    EXPECT_FALSE(decode_binary(bytes.substr(0, bytes.size() - 1)));

    auto o = to_cloudevent(sample_envelope(sample_of<space_renamed>()));
    o["type"] = "io.migops.nothing.v1";
    EXPECT_EQ(from_cloudevent(o).error().code, errc::invalid_argument);
    o = to_cloudevent(sample_envelope(sample_of<space_renamed>()));
    o["data"].as_object()["name"] = 7;
    EXPECT_FALSE(from_cloudevent(o));
    o = to_cloudevent(sample_envelope(sample_of<space_renamed>()));
    o.erase("migopsposition");
    EXPECT_FALSE(from_cloudevent(o));
}

TEST(Chain, SealLinksEvents) {
    auto a = sample_envelope(sample_of<space_created>());
    auto b = sample_envelope(sample_of<space_renamed>());
    auto head = seal(a, chain_head{});
    head = seal(b, head);
    EXPECT_EQ(b.pos, 2u);
    EXPECT_EQ(b.prev_hash, a.hash);
    EXPECT_TRUE(verify_link(a, chain_head{}));
    EXPECT_TRUE(verify_link(b, chain_head{a.pos, a.hash}));
    EXPECT_FALSE(verify_link(b, chain_head{}));
}

// Every single changed byte of a stored event is caught: the event no longer
// decodes, or its hash or its link no longer verifies.
TEST(Chain, DetectsAnySingleChangedByte) {
    for (const auto& original : every_sample()) {
        const chain_head prev{original.pos - 1, original.prev_hash};
        const std::string bytes = encode_binary(original);
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            for (unsigned char flip : {0x01, 0x80, 0xff}) {
                std::string tampered = bytes;
                tampered[i] = static_cast<char>(tampered[i] ^ flip);
                auto decoded = decode_binary(tampered);
                if (!decoded) continue;
                EXPECT_FALSE(verify_link(decoded.value(), prev))
                    << type_name_of(original.data) << " byte " << i << " ^ " << int(flip);
            }
        }
    }
}

TEST(Chain, DetectsAChangedJsonValue) {
    auto e = sample_envelope(sample_of<space_created>());
    seal(e, chain_head{});
    auto o = to_cloudevent(e);
    o["data"].as_object()["name"] = "Data centre exiT";
    auto tampered = from_cloudevent(o);
    ASSERT_TRUE(tampered);
    EXPECT_FALSE(verify_link(tampered.value(), chain_head{}));
}

TEST(Partitioning, IsStableAndInRange) {
    // Persisted meaning: these values must never change.
    EXPECT_EQ(partition_of(space_id{"space-1"}, 8), partition_of(space_id{"space-1"}, 8));
    for (int i = 0; i < 1000; ++i)
        EXPECT_LT(partition_of(space_id{"s" + std::to_string(i)}, 7), 7u);
    EXPECT_EQ(partition_of(space_id{""}, 1000), 14695981039346656037ULL % 1000);
}

}  // namespace
}  // namespace migops::events
