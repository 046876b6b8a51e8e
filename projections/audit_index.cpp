#include "projections/audit_index.h"

#include <algorithm>
#include <set>

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
// time, partition and position after the prefix of a cross-partition key
constexpr std::size_t timed_suffix_bytes = time_bytes + partition_bytes + position_bytes;
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

std::string id_prefix(std::string_view tag, std::string_view id) {
    std::string k(tag);
    events::append_big_endian(k, id.size(), length_bytes);
    k += id;
    return k;
}

// The key of a position-ordered index's entry: its prefix and position.
std::string entry_key(std::string_view prefix, position pos) {
    std::string k(prefix);
    events::append_big_endian(k, pos, position_bytes);
    return k;
}

bool is_position_ordered(std::string_view key) {
    return key.starts_with(space_tag) || key.starts_with(journey_tag) || key.starts_with(node_tag);
}

void append_timed_suffix(std::string& k, const events::envelope& e) {
    events::append_big_endian(k, events::ordered_time_bits(e.time), time_bytes);
    events::append_big_endian(k, e.partition, partition_bytes);
    events::append_big_endian(k, e.pos, position_bytes);
}

std::string type_prefix(std::uint32_t type_id) {
    std::string k(type_tag);
    events::append_big_endian(k, type_id, type_bytes);
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

std::string encode_entry(const events::envelope& e) {
    std::string v(1, value_version);
    events::append_big_endian(v, e.partition, partition_bytes);
    events::append_big_endian(v, e.pos, position_bytes);
    events::append_big_endian(v, events::type_id_of(e.data), type_bytes);
    events::append_big_endian(v, events::ordered_time_bits(e.time), time_bytes);
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

// The index a query reads: the keys starting with prefix; each key has
// suffix_bytes after it. Timed indexes have the time first in the suffix.
struct index_choice {
    std::string prefix;
    std::size_t suffix_bytes = 0;
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
    c.suffix_bytes = c.timed ? timed_suffix_bytes : position_bytes;
    return c;
}

std::string with_time(const std::string& prefix, timestamp t) {
    auto k = prefix;
    events::append_big_endian(k, events::ordered_time_bits(t), time_bytes);
    return k;
}

// Whether a position-ordered index holds an entry at pos under prefix.
result<bool> holds_position(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                            const std::string& prefix, position pos) {
    const auto upper = prefix_end(prefix);
    const rocksdb::Slice upper_bound(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_bound;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, cf));
    it->Seek(entry_key(prefix, pos));  // the block that would hold it
    if (!it->Valid()) {
        if (!it->status().ok())
            return failure(events::from_status(it->status(), "cannot read the audit index"));
        return false;
    }
    auto records = records_of(std::string_view(it->value().data(), it->value().size()));
    if (!records) return failure(records.error());
    for (const auto record : records.value()) {
        auto e = decode_entry(record);
        if (!e) return failure(e.error());
        if (e.value().pos == pos) return true;
    }
    return false;
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

result<void> audit_index::apply(const events::envelope& e, rows& r) {
    auto c = concerns_of(e, r, help_targets_);
    if (!c) return failure(c.error());
    const auto value = encode_entry(e);
    const auto in_block = [&](std::string_view tag, std::string_view id) {
        blocks_[id_prefix(tag, id)].emplace_back(e.pos, value);
    };
    in_block(space_tag, e.space.value);
    for (const auto& j : c.value().journeys) in_block(journey_tag, j);
    for (const auto& n : c.value().nodes) in_block(node_tag, n);
    // The system's own events (no actor) are found by space, type and time.
    if (!e.actor.empty()) {
        auto k = id_prefix(actor_tag, e.actor.value);
        append_timed_suffix(k, e);
        r.put(k, value);
    }
    auto by_type = type_prefix(events::type_id_of(e.data));
    append_timed_suffix(by_type, e);
    r.put(by_type, value);
    std::string by_time(time_tag);
    append_timed_suffix(by_time, e);
    r.put(by_time, value);
    return success();
}

result<void> audit_index::flush(rows& r) {
    help_targets_.clear();  // their rows are written with this batch
    for (const auto& [prefix, entries] : blocks_) {
        for (std::size_t first = 0; first < entries.size(); first += audit_block_entries) {
            const auto end = std::min(entries.size(), first + audit_block_entries);
            const auto key = entry_key(prefix, entries[end - 1].first);
            if (end - first == 1) {
                r.put(key, entries[first].second);
                continue;
            }
            std::string block(1, block_version);
            for (auto i = first; i < end; ++i) {
                events::append_big_endian(block, entries[i].second.size(), length_bytes);
                block += entries[i].second;
            }
            r.put(key, block);
        }
    }
    blocks_.clear();
    return success();
}

result<std::vector<space_event>> space_events(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                              const space_id& space, position after, position up_to,
                                              std::size_t limit) {
    std::vector<space_event> out;
    if (after >= up_to) return out;
    // A block is keyed by its last entry: the one that holds up_to may
    // hold later ones, so the bound is the space's last key.
    const auto prefix = id_prefix(space_tag, space.value);
    const auto upper = prefix_end(prefix);
    const rocksdb::Slice upper_bound(upper);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &upper_bound;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, cf));
    for (it->Seek(entry_key(prefix, after + 1)); it->Valid() && out.size() < limit; it->Next()) {
        auto records = records_of(std::string_view(it->value().data(), it->value().size()));
        if (!records) return failure(records.error());
        for (const auto record : records.value()) {
            auto e = decode_entry(record);
            if (!e) return failure(e.error());
            if (e.value().pos <= after) continue;
            if (e.value().pos > up_to || out.size() >= limit) return out;
            out.push_back(space_event{e.value().pos, e.value().time});
        }
    }
    if (!it->status().ok())
        return failure(events::from_status(it->status(), "cannot read the audit index"));
    return out;
}

result<audit_page> query_audit_index(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                     const audit_query& q) {
    if (!cf) return failure(errc::invalid_argument, "the store has no audit index column family");
    if (q.limit == 0 || q.limit > audit_max_limit)
        return failure(errc::invalid_argument,
                       "limit must be between 1 and " + std::to_string(audit_max_limit));
    if (q.since && q.until && *q.since > *q.until)
        return failure(errc::invalid_argument, "since must not be after until");
    const auto index = choose_index(q);

    // [lower, upper): the index's keys, narrowed by time on a timed index.
    std::string lower = index.prefix;
    std::string upper = prefix_end(index.prefix);
    if (index.timed && q.since) lower = with_time(index.prefix, *q.since);
    if (index.timed && q.until) upper = with_time(index.prefix, *q.until);

    std::string start = lower;
    std::string skip;  // the cursor's own key, already answered
    if (!q.after_cursor.empty()) {
        auto cursor = from_hex(q.after_cursor);
        if (!cursor || cursor->size() != index.prefix.size() + index.suffix_bytes ||
            !cursor->starts_with(index.prefix))
            return failure(errc::invalid_argument, "cursor is not a cursor of this query");
        if (*cursor >= start) {
            start = *cursor;
            skip = std::move(*cursor);
        }
    }

    audit_page page;
    if (!upper.empty() && start >= upper) return page;
    const rocksdb::Slice upper_bound(upper);
    rocksdb::ReadOptions options;
    if (!upper.empty()) options.iterate_upper_bound = &upper_bound;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, cf));
    const std::string journey_prefix =
        index.by_task && !q.journey.empty() ? id_prefix(journey_tag, q.journey.value) : "";
    // Visits one entry; false once the page is full or its budget spent.
    const auto visit = [&](const entry& v) -> result<bool> {
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

    std::string last_key;
    bool stopped = false;  // the page is full or its budget spent
    bool more = false;     // and an entry follows it
    for (it->Seek(start); it->Valid() && !more; it->Next()) {
        if (stopped) {
            more = true;  // a later row
            break;
        }
        auto records = records_of(std::string_view(it->value().data(), it->value().size()));
        if (!records) return failure(records.error());
        for (const auto record : records.value()) {
            auto e = decode_entry(record);
            if (!e) return failure(e.error());
            // A row of a timed index is one entry; a block of a position-
            // ordered one starts with entries before the cursor's.
            auto key = index.timed ? it->key().ToString() : entry_key(index.prefix, e.value().pos);
            if (key < start || key == skip) continue;
            if (stopped) {
                more = true;  // later in the block
                break;
            }
            ++page.visited;
            last_key = std::move(key);
            auto go_on = visit(e.value());
            if (!go_on) return failure(go_on.error());
            stopped = !go_on.value();
        }
    }
    if (!it->status().ok())
        return failure(events::from_status(it->status(), "cannot read the audit index"));
    // A cursor only when something follows, so that the last page says so.
    if (more) {
        ++page.visited;
        page.next_cursor = to_hex(last_key);
    }
    return page;
}

result<std::map<std::string, std::string>> audit_index_entries(rocksdb::DB& db,
                                                               rocksdb::ColumnFamilyHandle* cf) {
    std::map<std::string, std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const auto key = it->key().ToStringView();
        const std::string_view value(it->value().data(), it->value().size());
        if (!is_position_ordered(key)) {
            out.emplace(key, value);
            continue;
        }
        auto records = records_of(value);
        if (!records) return failure(records.error());
        const auto prefix = key.substr(0, key.size() - position_bytes);
        for (const auto record : records.value()) {
            auto e = decode_entry(record);
            if (!e) return failure(e.error());
            out.emplace(entry_key(prefix, e.value().pos), record);
        }
    }
    if (!it->status().ok())
        return failure(events::from_status(it->status(), "cannot read the audit index"));
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

}  // namespace migops::projections
