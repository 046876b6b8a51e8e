// The audit export and the chain verifier: an export of everything verifies,
// and a changed byte, a removed, repeated or reordered event, or a broken
// link is named by partition, position and event id; a space export verifies
// only as partial input; bad lines are named; a data directory read as a
// secondary instance (while its writer holds it) verifies, and a value
// changed in RocksDB is found.

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "events/chain_verifier.h"
#include "events/codec.h"
#include "events/export.h"
#include "events/rocks_log.h"
#include "tests/unit/temp_dir.h"

namespace migops::events {
namespace {

using testing_support::temp_dir;

constexpr std::uint32_t partitions = 2;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
    return out;
}

std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

// A space of partition p: "space-<n>" for the first n that falls there.
std::string space_in(partition_id p, int skip = 0) {
    for (int n = 0;; ++n) {
        space_id s{"space-" + std::to_string(n)};
        if (partition_of(s, partitions) == p && skip-- == 0) return s.value;
    }
}

class ChainAuditTest : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = std::move(
            rocks_store::open({dir_.path() / "data", {events_column_family, meta_column_family}})
                .value());
        log_ = std::move(rocks_log::open(*store_, {.partitions = partitions}).value());
        a_ = space_in(0);
        b_ = space_in(0, 1);
        c_ = space_in(1);
        // Two spaces share partition 0, interleaved; one has partition 1.
        add(a_, space_created{"A", ""}, 100);
        add(b_, space_created{"B", ""}, 200);
        add(a_, space_renamed{"A2"}, 300);
        add(c_, space_created{"C", ""}, 400);
        add(b_, space_renamed{"B2"}, 500);
        add(a_, space_renamed{"A3"}, 600);
        add(c_, space_renamed{"C2"}, 700);
    }

    envelope add(const std::string& space, payload p, std::int64_t micros) {
        envelope e;
        e.event_id = random_id();
        e.partition = partition_of(space_id{space}, partitions);
        e.space = space_id{space};
        e.time = timestamp{micros};
        e.actor = user_id{"alice"};
        e.actor_role = "space_admin";
        e.correlation_id = "req";
        e.causation_id = "cmd";
        e.data = std::move(p);
        seal(e, log_->head(e.partition));
        EXPECT_TRUE(log_->append(e.partition, {&e, 1}));
        return e;
    }

    std::string exported(const export_filter& f = {}) {
        std::ostringstream out;
        auto r = export_events(*log_, f, out);
        EXPECT_TRUE(r) << r.error().message;
        return out.str();
    }

    static result<verify_summary> verify(const std::string& text, bool partial = false) {
        std::istringstream in(text);
        return verify_export(in, {.partial = partial});
    }

    // The index of the line of (partition, position).
    static std::size_t line_at(const std::vector<std::string>& lines, partition_id p,
                               position pos) {
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const auto o = boost::json::parse(lines[i]).as_object();
            if (o.at("migopspartition").to_number<partition_id>() == p &&
                o.at("migopsposition").to_number<position>() == pos)
                return i;
        }
        ADD_FAILURE() << "no line for partition " << p << " position " << pos;
        return 0;
    }

    static std::string id_at(const std::string& line) {
        return std::string(boost::json::parse(line).at("id").as_string());
    }

    static void expect_names(const result<verify_summary>& r, const std::string& place,
                             const std::string& what) {
        ASSERT_FALSE(r) << "expected: " << place << " " << what;
        EXPECT_EQ(r.error().code, errc::corruption) << r.error().message;
        EXPECT_NE(r.error().message.find(place), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
    }

    temp_dir dir_;
    std::unique_ptr<rocks_store> store_;
    std::unique_ptr<rocks_log> log_;
    std::string a_, b_, c_;
};

TEST_F(ChainAuditTest, AnExportOfEverythingVerifiesToTheLogsHeads) {
    const auto text = exported();
    const auto lines = lines_of(text);
    ASSERT_EQ(lines.size(), 7u);
    // Partition by partition, each in position order, the same JSON as the API.
    const auto first = boost::json::parse(lines[0]).as_object();
    EXPECT_EQ(first.at("migopspartition").to_number<partition_id>(), 0u);
    EXPECT_EQ(first.at("migopsposition").to_number<position>(), 1u);
    EXPECT_EQ(lines[0], boost::json::serialize(to_cloudevent(log_->read(0, 1, 1).value().at(0))));

    auto r = verify(text);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value().events, 7u);
    ASSERT_EQ(r.value().partitions.size(), 2u);
    for (partition_id p = 0; p < partitions; ++p) {
        const auto& s = r.value().partitions.at(p);
        EXPECT_EQ(s.first, 1u);
        EXPECT_EQ(s.last, log_->head(p).pos);
        EXPECT_EQ(s.head, log_->head(p).hash);
        EXPECT_EQ(s.unlinked, 0u);
    }
}

TEST_F(ChainAuditTest, OneChangedByteOfAnEventsDataIsNamed) {
    auto lines = lines_of(exported());
    const auto i = line_at(lines, 0, 3);
    const auto at = lines[i].find("\"name\":\"A2\"");
    ASSERT_NE(at, std::string::npos) << lines[i];
    lines[i][at + 9] = 'X';
    expect_names(verify(join(lines)),
                 "line " + std::to_string(i + 1) + ": partition 0 position 3 (event " +
                     id_at(lines[i]) + ")",
                 "the hash does not match the event's content");
}

TEST_F(ChainAuditTest, ARemovedEventIsNamed) {
    auto lines = lines_of(exported());
    const auto i = line_at(lines, 0, 2);
    lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(i));
    expect_names(verify(join(lines)), "partition 0 position 3", "position 2 is missing");
}

TEST_F(ChainAuditTest, ARepeatedOrReorderedEventIsNamed) {
    auto lines = lines_of(exported());
    const auto i = line_at(lines, 0, 2);
    auto repeated = lines;
    repeated.insert(repeated.begin() + static_cast<std::ptrdiff_t>(i), lines[i]);
    expect_names(verify(join(repeated)), "partition 0 position 2", "comes after position 2");
    auto swapped = lines;
    std::swap(swapped[i], swapped[i + 1]);
    expect_names(verify(join(swapped)), "partition 0 position 3", "position 2 is missing");
    auto swapped_partial = verify(join(swapped), true);
    expect_names(swapped_partial, "partition 0 position 2", "comes after position 3");
}

TEST_F(ChainAuditTest, ABrokenLinkIsNamedEvenWhenEachHashMatchesItsContent) {
    // Position 3 rewritten with another previous hash and its own hash
    // recomputed: only the link shows it.
    auto lines = lines_of(exported());
    const auto i = line_at(lines, 0, 3);
    auto o = boost::json::parse(lines[i]).as_object();
    o["migopsprevhash"] = to_hex(sha256("elsewhere"));
    o.erase("migopshash");
    o["migopshash"] = to_hex(sha256(canonical_json(o)));
    lines[i] = boost::json::serialize(o);
    expect_names(verify(join(lines)), "partition 0 position 3",
                 "the previous hash does not match the hash of position 2");
}

TEST_F(ChainAuditTest, ASpaceExportHoldsOnlyThatSpaceAndVerifiesOnlyAsPartial) {
    export_filter f;
    f.space = space_id{b_};
    const auto text = exported(f);
    const auto lines = lines_of(text);
    ASSERT_EQ(lines.size(), 2u);
    for (const auto& l : lines)
        EXPECT_EQ(boost::json::parse(l).at("partitionkey").as_string(), b_) << l;

    // B's events are positions 2 and 4 of partition 0: gaps, not a complete chain.
    expect_names(verify(text), "partition 0 position 2", "position 1 is missing");
    auto partial = verify(text, true);
    ASSERT_TRUE(partial) << partial.error().message;
    const auto& s = partial.value().partitions.at(0);
    EXPECT_EQ(s.events, 2u);
    EXPECT_EQ(s.first, 2u);
    EXPECT_EQ(s.last, 4u);
    EXPECT_EQ(s.unlinked, 2u);

    // Partial input still finds a changed event.
    auto changed = lines;
    const auto at = changed[1].find("\"name\":\"B2\"");
    ASSERT_NE(at, std::string::npos);
    changed[1][at + 9] = 'Z';
    expect_names(verify(join(changed), true), "partition 0 position 4",
                 "the hash does not match the event's content");
}

TEST_F(ChainAuditTest, ATimeRangeExportHoldsSinceUpToUntil) {
    export_filter f;
    f.since = timestamp{300};
    f.until = timestamp{600};
    const auto lines = lines_of(exported(f));
    ASSERT_EQ(lines.size(), 3u);  // times 300, 400 and 500
    std::set<std::string> times;
    for (const auto& l : lines)
        times.insert(std::string(boost::json::parse(l).at("time").as_string()));
    EXPECT_EQ(times,
              (std::set<std::string>{format_rfc3339(timestamp{300}), format_rfc3339(timestamp{400}),
                                     format_rfc3339(timestamp{500})}));
    EXPECT_TRUE(verify(join(lines), true));
}

TEST_F(ChainAuditTest, BadLinesAreNamedAsBadInput) {
    const auto good = lines_of(exported());
    auto expect_bad = [&](const std::string& text, const std::string& what) {
        auto r = verify(text);
        ASSERT_FALSE(r) << what;
        EXPECT_EQ(r.error().code, errc::invalid_argument) << r.error().message;
        EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
    };
    expect_bad("this is not json\n", "line 1: not JSON");
    expect_bad(good[0] + "\n[1,2]\n", "line 2: not a JSON object");
    expect_bad(good[0] + "\n" + good[1].substr(0, good[1].size() / 2) + "\n", "line 2: not JSON");
    auto o = boost::json::parse(good[0]).as_object();
    o.erase("migopshash");
    expect_bad(boost::json::serialize(o) + "\n", "line 1: attribute \"migopshash\" is missing");
    o = boost::json::parse(good[0]).as_object();
    o["migopsposition"] = "one";
    expect_bad(boost::json::serialize(o) + "\n", "attribute \"migopsposition\" is not a position");
    o = boost::json::parse(good[0]).as_object();
    o["migopsprevhash"] = "abc";
    expect_bad(boost::json::serialize(o) + "\n", "\"migopsprevhash\" is not 64 hex digits");
}

TEST_F(ChainAuditTest, TheDataDirectoryVerifiesThroughAReaderWhileTheWriterHoldsIt) {
    // store_ holds the directory's lock; the reader opens beside it.
    auto reader =
        rocks_store::open_reader(dir_.path() / "data", {events_column_family, meta_column_family});
    ASSERT_TRUE(reader) << reader.error().message;
    auto log = rocks_log::open_reader(*reader.value());
    ASSERT_TRUE(log) << log.error().message;
    EXPECT_EQ(log.value()->partitions(), partitions);
    EXPECT_EQ(log.value()->head(0), log_->head(0));
    auto r = verify_log(*log.value(), nullptr);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value().events, 7u);

    // The reader's export equals the writer's.
    std::ostringstream out;
    ASSERT_TRUE(export_events(*log.value(), {}, out));
    EXPECT_EQ(out.str(), exported());

    // It never writes.
    envelope e = log_->read(1, 1, 1).value().at(0);
    e.pos = log.value()->head(1).pos + 1;
    e.prev_hash = log.value()->head(1).hash;
    e.hash = compute_hash(e);
    auto appended = log.value()->append(1, {&e, 1});
    ASSERT_FALSE(appended);
    EXPECT_NE(appended.error().message.find("reading only"), std::string::npos);
}

TEST_F(ChainAuditTest, AReaderRefusesWhatIsNotADataDirectory) {
    auto none = rocks_store::open_reader(dir_.path() / "none", {events_column_family});
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("does not exist"), std::string::npos);
    std::filesystem::create_directories(dir_.path() / "empty");
    auto empty = rocks_store::open_reader(dir_.path() / "empty", {events_column_family});
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message.find("is not a migops data directory"), std::string::npos)
        << empty.error().message;
}

class ChainAuditStoreTest : public ChainAuditTest {
  protected:
    // Verifies the directory through a reader, as `migops verify DIR` does.
    result<verify_summary> verify_dir() {
        auto reader = rocks_store::open_reader(dir_.path() / "data",
                                               {events_column_family, meta_column_family});
        if (!reader) return failure(reader.error());
        auto log = rocks_log::open_reader(*reader.value());
        if (!log) return failure(log.error());
        return verify_log(*log.value(), nullptr);
    }
    void put_raw(partition_id p, position pos, const std::string& value) {
        const auto k = rocks_log::key(p, pos);
        rocksdb::WriteOptions wo;
        wo.sync = true;
        ASSERT_TRUE(store_->db()
                        .Put(wo, store_->column_family(events_column_family),
                             rocksdb::Slice(k.data(), k.size()), value)
                        .ok());
    }
};

TEST_F(ChainAuditStoreTest, AValueChangedInRocksDbIsNamed) {
    auto e = log_->read(0, 3, 1).value().at(0);
    std::get<space_renamed>(e.data).name = "A2 (changed)";
    put_raw(0, 3, encode_binary(e));  // its stored hash is left as it was
    expect_names(verify_dir(), "partition 0 position 3 (event " + e.event_id + ")",
                 "the hash does not match the event's content");
}

TEST_F(ChainAuditStoreTest, AValueThatNoLongerDecodesIsNamed) {
    auto value = encode_binary(log_->read(1, 2, 1).value().at(0));
    value.resize(value.size() - 3);
    put_raw(1, 2, value);
    auto r = verify_dir();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::corruption);
    EXPECT_NE(r.error().message.find("partition 1 position 2"), std::string::npos)
        << r.error().message;
}

TEST_F(ChainAuditStoreTest, ADeletedEventIsNamed) {
    const auto k = rocks_log::key(0, 2);
    ASSERT_TRUE(store_->db()
                    .Delete({}, store_->column_family(events_column_family),
                            rocksdb::Slice(k.data(), k.size()))
                    .ok());
    expect_names(verify_dir(), "partition 0 position 3", "position 2 is missing");
}

}  // namespace
}  // namespace migops::events
