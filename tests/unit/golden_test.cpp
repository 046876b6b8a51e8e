// Golden files: every event type at every version it has had, as stored
// bytes (.bin) and as its CloudEvent (.json). Every build must decode all of
// them to events whose hashes still verify (DESIGN.md invariant 5).
//
// A new type or version gets its files with MIGOPS_WRITE_GOLDEN=1; existing
// files are never rewritten.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>

#include "events/codec.h"
#include "tests/unit/sample_events.h"

namespace migops::events {
namespace {

namespace fs = std::filesystem;
const fs::path golden_dir{MIGOPS_GOLDEN_DIR};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

template <class E>
envelope golden_sample() {
    auto e = testing::sample_envelope(testing::sample_of<E>());
    // A checkpoint is about its partition, as the processor writes it: no
    // space, no actor (its CloudEvent has no subject or partitionkey).
    if constexpr (std::is_same_v<E, chain_checkpoint>) {
        e.space = {};
        e.actor = {};
        e.actor_role.clear();
    }
    seal(e, chain_head{6, sha256("golden")});
    return e;
}

TEST(Golden, EveryCurrentTypeAndVersionHasFiles) {
    const bool write = std::getenv("MIGOPS_WRITE_GOLDEN") != nullptr;
    for_each_event_type([&]<class E>(std::type_identity<E>) {
        const std::string stem = std::string(E::type_name) + ".v" + std::to_string(E::version);
        const auto bin = golden_dir / (stem + ".bin");
        const auto json = golden_dir / (stem + ".json");
        const auto sample = golden_sample<E>();
        if (write && !fs::exists(bin)) {
            std::ofstream(bin, std::ios::binary) << encode_binary(sample);
            std::ofstream(json, std::ios::binary) << canonical_json(to_cloudevent(sample)) << "\n";
        }
        ASSERT_TRUE(fs::exists(bin)) << bin << " is missing (run with MIGOPS_WRITE_GOLDEN=1)";
        ASSERT_TRUE(fs::exists(json)) << json << " is missing";
        const auto stored = read_file(bin);
        auto decoded = decode_binary(stored);
        ASSERT_TRUE(decoded) << stem << ": " << decoded.error().message;
        EXPECT_EQ(decoded.value(), sample) << stem;
        // This build writes the current version byte for byte as stored.
        EXPECT_EQ(encode_binary(sample), stored) << stem;
    });
}

TEST(Golden, EveryFileEverWrittenStillDecodesAndVerifies) {
    std::size_t seen = 0;
    for (const auto& entry : fs::directory_iterator(golden_dir)) {
        if (entry.path().extension() != ".bin") continue;
        ++seen;
        const std::string stem = entry.path().stem().string();
        auto decoded = decode_binary(read_file(entry.path()));
        ASSERT_TRUE(decoded) << stem << ": " << decoded.error().message;
        const auto& e = decoded.value();
        EXPECT_TRUE(verify_link(e, chain_head{e.pos - 1, e.prev_hash})) << stem;

        auto text = read_file(fs::path(entry.path()).replace_extension(".json"));
        ASSERT_FALSE(text.empty()) << stem;
        if (text.back() == '\n') text.pop_back();
        EXPECT_EQ(canonical_json(to_cloudevent(e)), text) << stem;
        auto from_json = from_cloudevent(boost::json::parse(text).as_object());
        ASSERT_TRUE(from_json) << stem << ": " << from_json.error().message;
        EXPECT_EQ(from_json.value(), e) << stem;
    }
    EXPECT_GE(seen, std::variant_size_v<payload>);
}

}  // namespace
}  // namespace migops::events
