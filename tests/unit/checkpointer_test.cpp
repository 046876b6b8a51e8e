// Signed checkpoints through the partition processor: one per partition whose
// chain moved, each signing exactly the head it follows, none when nothing
// moved, the last ones on stop; the chain verifies with the right key and
// not with another, and a tampered checkpoint is found.

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <sstream>
#include <tuple>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "engine/partition_processor.h"
#include "events/chain_verifier.h"
#include "events/codec.h"
#include "events/export.h"
#include "events/rocks_log.h"
#include "scheduler/checkpointer.h"
#include "tests/unit/ed25519_keys.h"
#include "tests/unit/log_store.h"
#include "tests/unit/temp_dir.h"

namespace migops::scheduler {
namespace {

using events::envelope;
using testing_support::temp_dir;

constexpr std::uint32_t partitions = 4;
constexpr std::int64_t start_micros = 1'795'000'000'000'000;

std::vector<std::string> lines_of_type(const std::string& text, std::string_view type) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (boost::json::parse(l).at("type").as_string() == type) out.push_back(l);
    return out;
}

class CheckpointerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        keys_ = testing_support::write_ed25519_key(dir_.path(), "signing");
        other_ = testing_support::write_ed25519_key(dir_.path(), "other");
        std::tie(store_, log_) = testing_support::open_log_store(dir_.path() / "data", partitions);
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
        auto signer = events::checkpoint_signer::load(keys_.private_pem);
        ASSERT_TRUE(signer) << signer.error().message;
        checkpoints_ =
            std::make_unique<checkpointer>(*processor_, clock_, std::move(signer).value(),
                                           checkpointer_options{std::chrono::milliseconds(0)});
        checkpoints_->start();
    }
    void TearDown() override {
        checkpoints_.reset();
        processor_.reset();
    }

    // Creates a space; returns its partition.
    partition_id create_space(const std::string& id) {
        std::promise<result<std::vector<envelope>>> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->submit(
            engine::submission{engine::create_space{space_id{id}, "Space " + id, ""},
                               user_id{"alice"}, clock_.now(), ""},
            [&done](auto r) { done.set_value(std::move(r)); }));
        auto r = f.get();
        EXPECT_TRUE(r) << r.error().message;
        return events::partition_of(space_id{id}, partitions);
    }

    result<events::verify_summary> verify_with(const std::filesystem::path& public_key) {
        auto key = events::checkpoint_key::load(public_key);
        if (!key) return failure(key.error());
        return events::verify_log(*log_, &key.value());
    }

    std::string exported() {
        std::ostringstream out;
        EXPECT_TRUE(events::export_events(*log_, {}, out));
        return out.str();
    }

    temp_dir dir_;
    testing_support::key_files keys_;
    testing_support::key_files other_;
    manual_clock clock_{timestamp{start_micros}};
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    std::unique_ptr<checkpointer> checkpoints_;
};

TEST_F(CheckpointerTest, EachPartitionThatMovedGetsOneCheckpointOfItsHead) {
    EXPECT_EQ(checkpoints_->record().value(), 0u) << "empty partitions have nothing to sign";
    const auto p = create_space("s1");
    const auto head = log_->head(p);
    clock_.advance(std::chrono::seconds(60));
    EXPECT_EQ(checkpoints_->record().value(), 1u);

    const auto after = log_->head(p);
    ASSERT_EQ(after.pos, head.pos + 1);
    const auto e = log_->read(p, after.pos, 1).value().at(0);
    const auto& c = std::get<events::chain_checkpoint>(e.data);
    EXPECT_EQ(c.partition, p);
    EXPECT_EQ(c.position, head.pos);
    EXPECT_EQ(c.head_hash, head.hash);
    EXPECT_EQ(e.prev_hash, head.hash);
    EXPECT_EQ(c.signed_at, clock_.now());
    EXPECT_EQ(e.time, clock_.now());
    EXPECT_TRUE(e.space.empty());
    EXPECT_TRUE(e.actor.empty());

    // Nothing moved: nothing to sign again.
    EXPECT_EQ(checkpoints_->record().value(), 0u);
    EXPECT_EQ(log_->head(p), after);

    auto ok = verify_with(keys_.public_pem);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok.value().signatures, 1u);
    EXPECT_EQ(ok.value().partitions.at(p).signed_from, 1u);
    EXPECT_EQ(ok.value().partitions.at(p).signed_through, head.pos);
}

TEST_F(CheckpointerTest, StopRecordsTheLastCheckpoints) {
    std::set<partition_id> moved;
    for (int i = 0; i < 6; ++i) moved.insert(create_space("s" + std::to_string(i)));
    checkpoints_->stop();
    for (partition_id p = 0; p < partitions; ++p) {
        const auto head = log_->head(p);
        if (!moved.contains(p)) {
            EXPECT_EQ(head.pos, 0u);
            continue;
        }
        const auto e = log_->read(p, head.pos, 1).value().at(0);
        EXPECT_TRUE(std::holds_alternative<events::chain_checkpoint>(e.data)) << "partition " << p;
    }
    auto ok = verify_with(keys_.public_pem);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok.value().signatures, moved.size());
}

TEST_F(CheckpointerTest, AnotherKeyDoesNotVerifyTheChain) {
    create_space("s1");
    ASSERT_EQ(checkpoints_->record().value(), 1u);
    auto r = verify_with(other_.public_pem);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::corruption);
    EXPECT_NE(r.error().message.find("not by the key given"), std::string::npos)
        << r.error().message;
}

TEST_F(CheckpointerTest, AKeyWithNothingSignedIsRefused) {
    create_space("s1");
    auto r = verify_with(keys_.public_pem);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("holds no checkpoint"), std::string::npos)
        << r.error().message;
}

TEST_F(CheckpointerTest, ATamperedHeadInAnExportedCheckpointIsFound) {
    const auto p = create_space("s1");
    ASSERT_EQ(checkpoints_->record().value(), 1u);
    auto key = events::checkpoint_key::load(keys_.public_pem);
    ASSERT_TRUE(key);
    const auto text = exported();
    {
        std::istringstream in(text);
        auto good = events::verify_export(in, {.key = &key.value()});
        ASSERT_TRUE(good) << good.error().message;
        EXPECT_EQ(good.value().signatures, 1u);
    }
    // The checkpoint claims another head, its link and its own hash made
    // consistent: only the signature can show it.
    std::vector<std::string> lines;
    std::istringstream split(text);
    for (std::string l; std::getline(split, l);) lines.push_back(l);
    const auto forged_hash = to_hex(events::sha256("another history"));
    std::string forged_text;
    for (auto& l : lines) {
        auto o = boost::json::parse(l).as_object();
        if (o.at("type").as_string() == "io.migops.chain.checkpoint.v1") {
            o["migopsprevhash"] = forged_hash;
            o["data"].as_object()["head_hash"] = forged_hash;
            o.erase("migopshash");
            o["migopshash"] = to_hex(events::sha256(events::canonical_json(o)));
            l = boost::json::serialize(o);
        }
        forged_text += l + "\n";
    }
    // In the whole export the forged head breaks the link to its predecessor.
    {
        std::istringstream in(forged_text);
        auto r = events::verify_export(in, {.key = &key.value()});
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message.find("the previous hash does not match"), std::string::npos)
            << r.error().message;
    }
    // Alone (its predecessor left out), it links to nothing: the signature
    // shows it.
    std::string alone;
    for (const auto& l : lines_of_type(forged_text, "io.migops.chain.checkpoint.v1"))
        alone += l + "\n";
    std::istringstream in(alone);
    auto r = events::verify_export(in, {.partial = true, .key = &key.value()});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("partition " + std::to_string(p)), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("signature does not match"), std::string::npos)
        << r.error().message;
}

}  // namespace
}  // namespace migops::scheduler
