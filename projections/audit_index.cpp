#include "projections/audit_index.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include <rocksdb/slice_transform.h>

#include "engine/state.h"
#include "events/big_endian.h"

namespace migops::projections {

namespace {

// Persisted: the version of the index value record, and of a block of them.
constexpr char value_version = 1;
constexpr char block_version = 2;
constexpr std::size_t position_bytes = 8;
constexpr std::size_t partition_bytes = 4;
constexpr std::size_t time_bytes = 8;
constexpr std::size_t length_bytes = 4;
constexpr std::size_t type_bytes = 4;
// partition, time and position after the id of a timed index's key
constexpr std::size_t timed_suffix_bytes = partition_bytes + time_bytes + position_bytes;
constexpr std::size_t value_fixed_bytes =
    1 + partition_bytes + position_bytes + type_bytes + time_bytes + length_bytes;

// Persisted key tags.
constexpr std::string_view space_tag = "s/";
constexpr std::string_view journey_tag = "j/";
constexpr std::string_view node_tag = "n/";
constexpr std::string_view actor_tag = "a/";
constexpr std::string_view type_tag = "y/";
constexpr std::string_view time_tag = "m/";
constexpr std::string_view help_tag = "h/";
constexpr std::string_view index_time_tag = "t/";

// Makes k the key prefix of an id's entries.
void assign_id_prefix(std::string& k, std::string_view tag, std::string_view id) {
    k.assign(tag);
    events::append_big_endian(k, id.size(), length_bytes);
    k += id;
}

std::string id_prefix(std::string_view tag, std::string_view id) {
    std::string k;
    assign_id_prefix(k, tag, id);
    return k;
}

// The key of a position-ordered index's entry: its prefix and position.
std::string entry_key(std::string_view prefix, position pos) {
    std::string k(prefix);
    events::append_big_endian(k, pos, position_bytes);
    return k;
}

// The key of a timed index's entry: its run's prefix (with the partition),
// index time and position.
std::string timed_entry_key(std::string_view prefix, std::uint64_t time_bits, position pos) {
    std::string k(prefix);
    events::append_big_endian(k, time_bits, time_bytes);
    events::append_big_endian(k, pos, position_bytes);
    return k;
}

bool is_timed(std::string_view key) {
    return key.starts_with(actor_tag) || key.starts_with(type_tag) || key.starts_with(time_tag);
}

// The bytes after a run's prefix that key an entry of it (the time, for a
// timed index, and the position), or 0 for a row that is no index entry.
std::size_t entry_suffix_bytes(std::string_view key) {
    if (key.starts_with(space_tag) || key.starts_with(journey_tag) || key.starts_with(node_tag))
        return position_bytes;
    if (is_timed(key)) return time_bytes + position_bytes;
    return 0;
}

// The run of an index entry's key: its prefix (above).
class entry_runs final : public rocksdb::SliceTransform {
  public:
    const char* Name() const override { return "migops.audit_index.runs"; }
    rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
        const auto suffix = std::min(entry_suffix_bytes(key.ToStringView()), key.size());
        return {key.data(), key.size() - suffix};
    }
    bool InDomain(const rocksdb::Slice&) const override { return true; }
};

std::string index_time_key(partition_id p) {
    std::string k(index_time_tag);
    events::append_big_endian(k, p, partition_bytes);
    return k;
}

void assign_type_prefix(std::string& k, std::uint32_t type_id) {
    k.assign(type_tag);
    events::append_big_endian(k, type_id, type_bytes);
}

std::string type_prefix(std::uint32_t type_id) {
    std::string k;
    assign_type_prefix(k, type_id);
    return k;
}

// The record every index key of an event carries.
struct entry {
    partition_id partition = 0;
    position pos = 0;
    std::uint32_t type_id = 0;
    timestamp time;
    std::string_view space;
    std::string_view actor;
};

// The record of e, with time_bits as its time.
std::string encode_entry(const events::envelope& e, std::uint64_t time_bits) {
    std::string v(1, value_version);
    events::append_big_endian(v, e.partition, partition_bytes);
    events::append_big_endian(v, e.pos, position_bytes);
    events::append_big_endian(v, events::type_id_of(e.data), type_bytes);
    events::append_big_endian(v, time_bits, time_bytes);
    events::append_big_endian(v, e.space.value.size(), length_bytes);
    v += e.space.value;
    v += e.actor.value;
    return v;
}

result<entry> decode_entry(std::string_view v) {
    if (v.size() < value_fixed_bytes || v.front() != value_version)
        return failure(errc::corruption, "an audit index value does not decode");
    const char* p = v.data() + 1;
    entry out;
    out.partition = static_cast<partition_id>(events::get_big_endian(p, partition_bytes));
    p += partition_bytes;
    out.pos = events::get_big_endian(p, position_bytes);
    p += position_bytes;
    out.type_id = static_cast<std::uint32_t>(events::get_big_endian(p, type_bytes));
    p += type_bytes;
    out.time = events::time_from_ordered_bits(events::get_big_endian(p, time_bytes));
    p += time_bytes;
    const auto space_size = events::get_big_endian(p, length_bytes);
    if (space_size > v.size() - value_fixed_bytes)
        return failure(errc::corruption, "an audit index value does not decode");
    out.space = v.substr(value_fixed_bytes, space_size);
    out.actor = v.substr(value_fixed_bytes + space_size);
    return out;
}

// The entry records of a row's value: the value itself, or a block's.
result<std::vector<std::string_view>> records_of(std::string_view v) {
    if (v.empty() || v.front() != block_version) return std::vector<std::string_view>{v};
    std::vector<std::string_view> out;
    for (std::size_t at = 1; at < v.size();) {
        if (v.size() - at < length_bytes)
            return failure(errc::corruption, "an audit index block does not decode");
        const auto size = events::get_big_endian(v.data() + at, length_bytes);
        at += length_bytes;
        if (size > v.size() - at)
            return failure(errc::corruption, "an audit index block does not decode");
        out.push_back(v.substr(at, size));
        at += size;
    }
    if (out.empty()) return failure(errc::corruption, "an audit index block is empty");
    return out;
}

// A node id has a part after its journey ("<space>.j3.n17"); a journey id
// does not ("<space>.j3").
bool is_node_id(std::string_view id) {
    const auto journey = engine::journey_of_id(id);
    return !journey.empty() && journey.value.size() < id.size();
}

// What an event is about, beyond its space.
struct concerns {
    std::set<std::string> nodes;
    std::set<std::string> journeys;

    void node(std::string_view id) {
        if (id.empty()) return;
        nodes.emplace(id);
        if (auto j = engine::journey_of_id(id); !j.empty()) journeys.insert(std::move(j.value));
    }
    void journey(std::string_view id) {
        if (!id.empty()) journeys.emplace(id);
    }
    // A help request's target: a journey, module or task.
    void target(std::string_view id) {
        if (is_node_id(id))
            node(id);
        else
            journey(id);
    }
};

std::string help_key(std::string_view request) {
    return id_prefix(help_tag, request);
}

// help_targets: the targets of the help requests of the batch being applied
// (their rows are not readable before the batch is written).
result<concerns> concerns_of(const events::envelope& e, rows& r,
                             std::map<std::string, std::string, std::less<>>& help_targets) {
    concerns c;
    for_each_named_id(
        e.data, [&](std::string_view id) { c.node(id); },
        [&](std::string_view id) { c.journey(id); });
    // A help request's later events name only the request: its target is
    // remembered from the request.
    std::string_view request;
    std::visit(
        [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<P, events::help_requested>) {
                r.put(help_key(p.request), p.target);
                help_targets[p.request] = p.target;
            } else if constexpr (std::is_same_v<P, events::help_accepted> ||
                                 std::is_same_v<P, events::help_resolved> ||
                                 std::is_same_v<P, events::help_cancelled>) {
                request = p.request;
            }
        },
        e.data);
    if (!request.empty()) {
        if (auto known = help_targets.find(request); known != help_targets.end()) {
            c.target(known->second);
        } else {
            auto target = r.get(help_key(request));
            if (!target) return failure(target.error());
            if (target.value()) c.target(*target.value());
        }
    }
    return c;
}

// The first key after every key that starts with prefix ("" when there is
// none: the prefix is all 0xff).
std::string prefix_end(std::string prefix) {
    while (!prefix.empty()) {
        auto& last = prefix.back();
        if (static_cast<unsigned char>(last) != 0xff) {
            last = static_cast<char>(static_cast<unsigned char>(last) + 1);
            return prefix;
        }
        prefix.pop_back();
    }
    return prefix;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0xf]);
    }
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_digit(hex[i]);
        const int lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi << 4 | lo));
    }
    return out;
}

// The index a query reads: the keys starting with prefix. A timed index
// has a run per partition under it (partition, time, position follow).
struct index_choice {
    std::string prefix;
    bool timed = false;
    bool by_space = false;
    bool by_journey = false;
    bool by_task = false;
    bool by_actor = false;
    bool by_type = false;
};

index_choice choose_index(const audit_query& q) {
    index_choice c;
    if (!q.task.empty()) {
        c.prefix = id_prefix(node_tag, q.task.value);
        c.by_task = true;
    } else if (!q.journey.empty()) {
        c.prefix = id_prefix(journey_tag, q.journey.value);
        c.by_journey = true;
    } else if (!q.space.empty()) {
        c.prefix = id_prefix(space_tag, q.space.value);
        c.by_space = true;
    } else if (!q.actor.empty()) {
        c.prefix = id_prefix(actor_tag, q.actor.value);
        c.by_actor = true;
        c.timed = true;
    } else if (q.type_id) {
        c.prefix = type_prefix(*q.type_id);
        c.by_type = true;
        c.timed = true;
    } else {
        c.prefix = std::string(time_tag);
        c.timed = true;
    }
    return c;
}

result<std::vector<entry>> entries_of(std::string_view value) {
    auto records = records_of(value);
    if (!records) return failure(records.error());
    std::vector<entry> out;
    out.reserve(records.value().size());
    for (const auto record : records.value()) {
        auto e = decode_entry(record);
        if (!e) return failure(e.error());
        out.push_back(e.value());
    }
    return out;
}

// An iterator over the rows whose keys start with a prefix.
class prefix_iterator {
  public:
    prefix_iterator(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::string_view prefix)
        : upper_(prefix_end(std::string(prefix))), upper_bound_(upper_) {
        rocksdb::ReadOptions options;
        if (!upper_.empty()) options.iterate_upper_bound = &upper_bound_;
        it_.reset(db.NewIterator(options, cf));
    }
    prefix_iterator(const prefix_iterator&) = delete;  // the bound points into it
    prefix_iterator& operator=(const prefix_iterator&) = delete;

    rocksdb::Iterator* operator->() const { return it_.get(); }
    // The entries of the row it is at (valid until it moves).
    result<std::vector<entry>> entries() const {
        return entries_of(std::string_view(it_->value().data(), it_->value().size()));
    }
    // Whether the iteration ended cleanly.
    result<void> status() const {
        if (!it_->status().ok())
            return failure(events::from_status(it_->status(), "cannot read the audit index"));
        return success();
    }

  private:
    std::string upper_;
    rocksdb::Slice upper_bound_;
    std::unique_ptr<rocksdb::Iterator> it_;
};

// The partitions that have a run under a timed index's prefix.
result<std::vector<partition_id>> partitions_under(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                                   const std::string& prefix) {
    std::vector<partition_id> out;
    prefix_iterator it(db, cf, prefix);
    std::string next = prefix;
    for (it->Seek(next); it->Valid(); it->Seek(next)) {
        const auto key = it->key().ToStringView();
        if (key.size() < prefix.size() + timed_suffix_bytes)
            return failure(errc::corruption, "an audit index key does not decode");
        const auto p = static_cast<partition_id>(
            events::get_big_endian(key.data() + prefix.size(), partition_bytes));
        out.push_back(p);
        if (p == std::numeric_limits<partition_id>::max()) break;
        next = prefix;
        events::append_big_endian(next, p + 1, partition_bytes);
    }
    if (auto s = it.status(); !s) return failure(s.error());
    return out;
}

// One partition's run of a timed index, entry by entry, from the block
// that holds the first entry at or after a key.
class timed_run {
  public:
    timed_run(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::string prefix,
              std::string start)
        : prefix_(std::move(prefix)), start_(std::move(start)), it_(db, cf, prefix_) {}

    // Moves to the next entry (the first, at first); false at the run's end.
    result<bool> next() {
        if (at_ + 1 < entries_.size()) {
            ++at_;
            return true;
        }
        if (started_) {
            it_->Next();
        } else {
            it_->Seek(start_);
            started_ = true;
        }
        if (!it_->Valid()) {
            if (auto s = it_.status(); !s) return failure(s.error());
            return false;
        }
        auto entries = it_.entries();
        if (!entries) return failure(entries.error());
        entries_ = std::move(entries).value();
        at_ = 0;
        return true;
    }
    // The entry it is at; valid until next().
    const entry& at() const { return entries_[at_]; }
    // The key the entry would have as a row of its own.
    std::string key() const {
        return timed_entry_key(prefix_, events::ordered_time_bits(at().time), at().pos);
    }
    auto order() const { return std::tie(at().time, at().partition, at().pos); }

  private:
    std::string prefix_;  // the index's prefix and the partition
    std::string start_;
    prefix_iterator it_;
    std::vector<entry> entries_;  // of the row the iterator is at
    std::size_t at_ = 0;
    bool started_ = false;
};

// Whether a position-ordered index holds an entry at pos under prefix.
result<bool> holds_position(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                            const std::string& prefix, position pos) {
    prefix_iterator it(db, cf, prefix);
    it->Seek(entry_key(prefix, pos));  // the block that would hold it
    if (!it->Valid()) {
        if (auto s = it.status(); !s) return failure(s.error());
        return false;
    }
    auto entries = it.entries();
    if (!entries) return failure(entries.error());
    return std::any_of(entries.value().begin(), entries.value().end(),
                       [&](const entry& e) { return e.pos == pos; });
}

}  // namespace

void for_each_named_id(const events::payload& data,
                       const std::function<void(std::string_view node)>& on_node,
                       const std::function<void(std::string_view journey)>& on_journey) {
    std::visit(
        [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            // The fields its CloudEvents subject is chosen from (task, node,
            // journey), plus the parent a node is added under.
            std::apply(
                [&](const auto&... f) {
                    [[maybe_unused]] auto pick = [&](const auto& fd) {
                        using M = std::remove_cvref_t<decltype(p.*(fd.member))>;
                        if constexpr (std::is_same_v<M, node_id>) {
                            if (fd.name == "task" || fd.name == "node" || fd.name == "parent")
                                on_node((p.*(fd.member)).value);
                        } else if constexpr (std::is_same_v<M, journey_id>) {
                            if (fd.name == "journey") on_journey((p.*(fd.member)).value);
                        }
                    };
                    (pick(f), ...);
                },
                P::fields());
            if constexpr (std::is_same_v<P, events::journey_created>) {
                // A new journey's history is also that of every node it creates.
                for (const auto& phase : p.phases) {
                    on_node(phase.id);
                    for (const auto& module : phase.modules) {
                        on_node(module.id);
                        for (const auto& task : module.tasks) {
                            on_node(task.id);
                            for (const auto& sub : task.subtasks) on_node(sub.id);
                        }
                    }
                }
            } else if constexpr (std::is_same_v<P, events::help_requested>) {
                if (is_node_id(p.target))
                    on_node(p.target);
                else
                    on_journey(p.target);
            }
        },
        data);
}

result<std::uint64_t> audit_index::index_time(const events::envelope& e, rows& r) {
    auto known = index_times_.find(e.partition);
    if (known == index_times_.end()) {
        auto stored = r.get(index_time_key(e.partition));
        if (!stored) return failure(stored.error());
        std::uint64_t before = 0;
        if (stored.value()) {
            if (stored.value()->size() != time_bytes)
                return failure(errc::corruption, "an audit index time does not decode");
            before = events::get_big_endian(stored.value()->data(), time_bytes);
        }
        known = index_times_.emplace(e.partition, before).first;
    }
    const auto own = events::ordered_time_bits(e.time);
    if (own > known->second) {
        known->second = own;
        index_times_changed_.insert(e.partition);
    }
    return known->second;
}

void audit_index::add(std::uint64_t time_bits, position pos, std::uint32_t record) {
    auto run = blocks_.find(std::string_view(key_));
    if (run == blocks_.end()) run = blocks_.emplace(key_, std::vector<pending>{}).first;
    run->second.push_back(pending{time_bits, pos, record});
}

result<void> audit_index::apply(const events::envelope& e, rows& r) {
    auto c = concerns_of(e, r, help_targets_);
    if (!c) return failure(c.error());
    const auto time = index_time(e, r);
    if (!time) return failure(time.error());
    const auto own_time = events::ordered_time_bits(e.time);
    const auto record = static_cast<std::uint32_t>(records_.size());
    records_.push_back(encode_entry(e, own_time));
    auto timed_record = record;
    if (time.value() != own_time) {
        timed_record = static_cast<std::uint32_t>(records_.size());
        records_.push_back(encode_entry(e, time.value()));
    }
    assign_id_prefix(key_, space_tag, e.space.value);
    add(0, e.pos, record);
    for (const auto& j : c.value().journeys) {
        assign_id_prefix(key_, journey_tag, j);
        add(0, e.pos, record);
    }
    for (const auto& n : c.value().nodes) {
        assign_id_prefix(key_, node_tag, n);
        add(0, e.pos, record);
    }
    // The system's own events (no actor) are found by space, type and time.
    const auto in_partition = [&] {
        events::append_big_endian(key_, e.partition, partition_bytes);
        add(time.value(), e.pos, timed_record);
    };
    if (!e.actor.empty()) {
        assign_id_prefix(key_, actor_tag, e.actor.value);
        in_partition();
    }
    assign_type_prefix(key_, events::type_id_of(e.data));
    in_partition();
    key_.assign(time_tag);
    in_partition();
    return success();
}

result<void> audit_index::flush(rows& r) {
    help_targets_.clear();  // their rows are written with this batch
    std::string block;
    for (const auto& [prefix, entries] : blocks_) {
        const bool timed = is_timed(prefix);
        for (std::size_t first = 0; first < entries.size(); first += audit_block_entries) {
            const auto end = std::min(entries.size(), first + audit_block_entries);
            const auto& last = entries[end - 1];
            const auto key = timed ? timed_entry_key(prefix, last.time_bits, last.pos)
                                   : entry_key(prefix, last.pos);
            if (end - first == 1) {
                r.put(key, records_[last.record]);
                continue;
            }
            block.assign(1, block_version);
            for (auto i = first; i < end; ++i) {
                const auto& record = records_[entries[i].record];
                events::append_big_endian(block, record.size(), length_bytes);
                block += record;
            }
            r.put(key, block);
        }
    }
    for (const auto p : index_times_changed_) {
        std::string time;
        events::append_big_endian(time, index_times_.at(p), time_bytes);
        r.put(index_time_key(p), time);
    }
    blocks_.clear();
    records_.clear();
    index_times_changed_.clear();
    return success();
}

void audit_index::discard() {
    help_targets_.clear();
    blocks_.clear();
    records_.clear();
    // Read back from the rows when next needed: the batch's are not written.
    index_times_.clear();
    index_times_changed_.clear();
}

result<std::vector<space_event>> space_events(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                              const space_id& space, position after, position up_to,
                                              std::size_t limit) {
    std::vector<space_event> out;
    if (after >= up_to) return out;
    // A block is keyed by its last entry: the one that holds up_to may
    // hold later ones, so the bound is the space's last key.
    const auto prefix = id_prefix(space_tag, space.value);
    prefix_iterator it(db, cf, prefix);
    for (it->Seek(entry_key(prefix, after + 1)); it->Valid() && out.size() < limit; it->Next()) {
        auto entries = it.entries();
        if (!entries) return failure(entries.error());
        for (const auto& e : entries.value()) {
            if (e.pos <= after) continue;
            if (e.pos > up_to || out.size() >= limit) return out;
            out.push_back(space_event{e.pos, e.time});
        }
    }
    if (auto s = it.status(); !s) return failure(s.error());
    return out;
}

namespace {

constexpr std::string_view not_a_cursor = "cursor is not a cursor of this query";

// Visits the entries of a position-ordered index's run (prefix) in log
// order, from after the query's cursor, until visit says stop. The key of
// the last entry visited when more follow, else nothing.
result<std::optional<std::string>> read_in_log_order(
    rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
    const audit_query& q, const std::function<result<bool>(const entry&)>& visit) {
    std::string start = prefix;
    std::optional<position> after;  // the cursor's entry, already answered
    if (!q.after_cursor.empty()) {
        auto cursor = from_hex(q.after_cursor);
        if (!cursor || cursor->size() != prefix.size() + position_bytes ||
            !cursor->starts_with(prefix))
            return failure(errc::invalid_argument, std::string(not_a_cursor));
        after = events::get_big_endian(cursor->data() + prefix.size(), position_bytes);
        start = std::move(*cursor);
    }
    prefix_iterator it(db, cf, prefix);
    std::optional<position> last;  // the last entry visited
    bool stopped = false;          // the page is full or its budget spent
    for (it->Seek(start); it->Valid(); it->Next()) {
        auto entries = it.entries();
        if (!entries) return failure(entries.error());
        // A block starts with the entries up to the cursor's.
        for (const auto& e : entries.value()) {
            if (after && e.pos <= *after) continue;
            if (stopped) return std::optional<std::string>{entry_key(prefix, *last)};
            last = e.pos;
            auto go_on = visit(e);
            if (!go_on) return failure(go_on.error());
            stopped = !go_on.value();
        }
    }
    if (auto s = it.status(); !s) return failure(s.error());
    return std::optional<std::string>{};
}

// Visits the entries of a timed index (prefix) with index times in
// [since, until), merging its partitions' runs into time order, then
// partition and position, from after the query's cursor, until visit says
// stop. The key of the last entry visited when more follow, else nothing.
result<std::optional<std::string>> read_in_time_order(
    rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix,
    const audit_query& q, const std::function<result<bool>(const entry&)>& visit) {
    std::optional<std::tuple<timestamp, partition_id, position>> cursor;
    if (!q.after_cursor.empty()) {
        auto key = from_hex(q.after_cursor);
        if (!key || key->size() != prefix.size() + timed_suffix_bytes || !key->starts_with(prefix))
            return failure(errc::invalid_argument, std::string(not_a_cursor));
        const char* p = key->data() + prefix.size();
        cursor.emplace(
            events::time_from_ordered_bits(events::get_big_endian(p + partition_bytes, time_bytes)),
            static_cast<partition_id>(events::get_big_endian(p, partition_bytes)),
            events::get_big_endian(p + partition_bytes + time_bytes, position_bytes));
    }
    // Each run starts at the block that holds its first entry at or after
    // since and the cursor's time.
    std::uint64_t from = q.since ? events::ordered_time_bits(*q.since) : 0;
    if (cursor) from = std::max(from, events::ordered_time_bits(std::get<0>(*cursor)));
    const auto wanted = [&](const timed_run& r) {
        const auto& v = r.at();
        return !(q.since && v.time < *q.since) && !(cursor && r.order() <= *cursor);
    };
    // Moves a run to its next wanted entry; false past its last.
    const auto advance = [&](timed_run& r) -> result<bool> {
        for (;;) {
            auto more = r.next();
            if (!more) return failure(more.error());
            if (!more.value()) return false;
            if (q.until && !(r.at().time < *q.until)) return false;
            if (wanted(r)) return true;
        }
    };
    auto partitions = partitions_under(db, cf, prefix);
    if (!partitions) return failure(partitions.error());
    std::vector<std::unique_ptr<timed_run>> runs;
    for (const auto p : partitions.value()) {
        auto run_prefix = prefix;
        events::append_big_endian(run_prefix, p, partition_bytes);
        auto start = run_prefix;
        events::append_big_endian(start, from, time_bytes);
        auto run = std::make_unique<timed_run>(db, cf, std::move(run_prefix), std::move(start));
        auto at = advance(*run);
        if (!at) return failure(at.error());
        if (at.value()) runs.push_back(std::move(run));
    }
    while (!runs.empty()) {
        const auto first =
            std::min_element(runs.begin(), runs.end(),
                             [](const auto& a, const auto& b) { return a->order() < b->order(); });
        auto& run = **first;
        auto go_on = visit(run.at());
        if (!go_on) return failure(go_on.error());
        auto key = go_on.value() ? std::string() : run.key();  // before the run moves on
        auto at = advance(run);
        if (!at) return failure(at.error());
        if (!at.value()) runs.erase(first);
        if (!go_on.value())
            return runs.empty() ? std::optional<std::string>{}
                                : std::optional<std::string>{std::move(key)};
    }
    return std::optional<std::string>{};
}

}  // namespace

result<audit_page> query_audit_index(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                     const audit_query& q) {
    if (!cf) return failure(errc::invalid_argument, "the store has no audit index column family");
    if (q.limit == 0 || q.limit > audit_max_limit)
        return failure(errc::invalid_argument,
                       "limit must be between 1 and " + std::to_string(audit_max_limit));
    if (q.since && q.until && *q.since > *q.until)
        return failure(errc::invalid_argument, "since must not be after until");
    const auto index = choose_index(q);

    audit_page page;
    const std::string journey_prefix =
        index.by_task && !q.journey.empty() ? id_prefix(journey_tag, q.journey.value) : "";
    // Visits one entry; false once the page is full or its budget spent.
    const auto visit = [&](const entry& v) -> result<bool> {
        ++page.visited;
        bool match = true;
        if (!index.by_space && !q.space.empty() && v.space != q.space.value) match = false;
        if (match && !index.by_actor && !q.actor.empty() && v.actor != q.actor.value) match = false;
        if (match && !index.by_type && q.type_id && v.type_id != *q.type_id) match = false;
        if (match && !index.timed && q.since && v.time < *q.since) match = false;
        if (match && !index.timed && q.until && !(v.time < *q.until)) match = false;
        if (match && !journey_prefix.empty()) {
            // Asked by task and journey: the event must be in the journey's
            // index too (same partition, same position).
            auto in_journey = holds_position(db, cf, journey_prefix, v.pos);
            if (!in_journey) return failure(in_journey.error());
            match = in_journey.value();
        }
        if (match && q.space_allowed && !q.space_allowed(space_id{std::string(v.space)}))
            match = false;
        if (match) page.hits.push_back({v.partition, v.pos});
        return page.hits.size() < q.limit && page.visited < q.scan_budget;
    };
    auto done = index.timed ? read_in_time_order(db, cf, index.prefix, q, visit)
                            : read_in_log_order(db, cf, index.prefix, q, visit);
    if (!done) return failure(done.error());
    // A cursor only when something follows, so that the last page says so.
    if (done.value()) {
        ++page.visited;
        page.next_cursor = to_hex(*done.value());
    }
    return page;
}

result<std::map<std::string, std::string>> audit_index_entries(rocksdb::DB& db,
                                                               rocksdb::ColumnFamilyHandle* cf) {
    std::map<std::string, std::string> out;
    prefix_iterator it(db, cf, "");  // every row
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const auto key = it->key().ToStringView();
        const std::string_view value(it->value().data(), it->value().size());
        const auto suffix = entry_suffix_bytes(key);
        if (suffix == 0) {
            out.emplace(key, value);
            continue;
        }
        if (key.size() < suffix)
            return failure(errc::corruption, "an audit index key does not decode");
        auto records = records_of(value);
        if (!records) return failure(records.error());
        const auto prefix = key.substr(0, key.size() - suffix);
        for (const auto record : records.value()) {
            auto e = decode_entry(record);
            if (!e) return failure(e.error());
            out.emplace(suffix > position_bytes
                            ? timed_entry_key(prefix, events::ordered_time_bits(e.value().time),
                                              e.value().pos)
                            : entry_key(prefix, e.value().pos),
                        record);
        }
    }
    if (auto s = it.status(); !s) return failure(s.error());
    return out;
}

std::optional<std::uint32_t> event_type_id(std::string_view name) {
    constexpr std::string_view ce_prefix = "io.migops.";
    std::optional<std::uint32_t> out;
    events::for_each_event_type([&]<class E>(std::type_identity<E>) {
        if (out) return;
        if (name == E::type_name ||
            (name.starts_with(ce_prefix) && name == events::cloudevents_type_of(E{})))
            out = E::type_id;
    });
    return out;
}

std::shared_ptr<const rocksdb::SliceTransform> audit_index::row_runs() const {
    static const auto runs = std::make_shared<const entry_runs>();
    return runs;
}

}  // namespace migops::projections
