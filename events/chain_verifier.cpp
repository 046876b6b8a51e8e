#include "events/chain_verifier.h"

#include <boost/json/parse.hpp>

#include "events/codec.h"

namespace migops::events {

namespace {

constexpr std::size_t read_chunk = 4096;
constexpr std::uint64_t progress_every = 4096;

// "position 4 is missing", "positions 4 to 9 are missing".
std::string missing(position from, position to) {
    if (from == to) return "position " + std::to_string(from) + " is missing";
    return "positions " + std::to_string(from) + " to " + std::to_string(to) + " are missing";
}

std::string place(std::string_view where, partition_id p, position pos, std::string_view id) {
    std::string out;
    if (!where.empty()) out = std::string(where) + ": ";
    out += "partition " + std::to_string(p) + " position " + std::to_string(pos);
    if (!id.empty()) out += " (event " + std::string(id) + ")";
    return out + ": ";
}

}  // namespace

result<void> chain_verifier::add(const chain_item& item, std::string_view where) {
    const auto bad = [&](const std::string& what) {
        return failure(errc::corruption,
                       place(where, item.partition, item.pos, item.event_id) + what);
    };
    if (item.pos == 0) return bad("positions start at 1");
    if (item.content_hash != item.hash)
        return bad("the hash does not match the event's content (the content hashes to " +
                   to_hex(item.content_hash) + ")");

    auto [it, first] = summary_.partitions.try_emplace(item.partition);
    auto& s = it->second;
    if (first) {
        if (!options_.partial && item.pos != 1)
            return bad("the partition starts here: " + missing(1, item.pos - 1) +
                       " (for an export of one space or a time range, verify with --partial)");
        s.first = item.pos;
    } else if (item.pos <= s.last) {
        return bad("comes after position " + std::to_string(s.last) +
                   " (positions must increase; an event is repeated or out of order)");
    } else if (item.pos != s.last + 1 && !options_.partial) {
        return bad("follows position " + std::to_string(s.last) + ": " +
                   missing(s.last + 1, item.pos - 1));
    }
    const bool linked = (!first && item.pos == s.last + 1) || item.pos == 1;
    if (item.pos == 1 && item.prev_hash != hash_bytes{})
        return bad("the first event of a partition must have a zero previous hash");
    if (linked && item.pos > 1 && item.prev_hash != s.head)
        return bad("the previous hash does not match the hash of position " +
                   std::to_string(s.last) + " (" + to_hex(s.head) + ")");
    if (!linked) ++s.unlinked;
    if (!linked || item.pos == 1) s.run_start = item.pos;

    if (item.checkpoint) {
        const auto& c = *item.checkpoint;
        if (c.partition != item.partition || c.position + 1 != item.pos ||
            c.head_hash != item.prev_hash)
            return bad("the checkpoint signs partition " + std::to_string(c.partition) +
                       " position " + std::to_string(c.position) + " hash " + to_hex(c.head_hash) +
                       ", not the head it follows");
        ++s.checkpoints;
        ++summary_.checkpoints;
        if (options_.key) {
            if (auto v = options_.key->verify(c); !v) return bad(v.error().message);
            ++summary_.signatures;
            // A signature covers events of the input only through a link.
            if (linked) {
                s.signed_from = s.run_start;
                s.signed_through = c.position;
            }
        }
    }
    s.last = item.pos;
    s.head = item.hash;
    ++s.events;
    ++summary_.events;
    return success();
}

result<verify_summary> chain_verifier::finish() const {
    if (options_.key && summary_.events > 0 && summary_.signatures == 0)
        return failure(errc::corruption,
                       "a public key was given but the input holds no checkpoint: nothing in it is "
                       "signed");
    return summary_;
}

result<verify_summary> verify_log(const event_log& log, const checkpoint_key* key,
                                  const verify_progress& progress) {
    chain_verifier v({.partial = false, .key = key});
    std::uint64_t total = 0;
    std::vector<chain_head> heads;
    for (partition_id p = 0; p < log.partitions(); ++p) {
        heads.push_back(log.head(p));
        total += heads.back().pos;
    }
    std::uint64_t done = 0;
    for (partition_id p = 0; p < log.partitions(); ++p) {
        position next = 1;
        while (next <= heads[p].pos) {
            auto batch = log.read(p, next, read_chunk);
            if (!batch) return failure(batch.error());
            if (batch.value().empty()) break;
            for (const auto& e : batch.value()) {
                if (e.partition != p)
                    return failure(errc::corruption, place({}, p, e.pos, e.event_id) +
                                                         "the stored event names partition " +
                                                         std::to_string(e.partition));
                const auto* c = std::get_if<chain_checkpoint>(&e.data);
                if (auto r = v.add({p, e.pos, e.event_id, e.prev_hash, e.hash, compute_hash(e), c});
                    !r)
                    return failure(r.error());
                if (progress && ++done % progress_every == 0) progress(done, total);
                if (e.pos >= heads[p].pos) break;
            }
            if (batch.value().back().pos < next) break;
            next = batch.value().back().pos + 1;
        }
        const auto& parts = v.summary().partitions;
        const auto it = parts.find(p);
        const position last = it == parts.end() ? 0 : it->second.last;
        if (last != heads[p].pos)
            return failure(errc::corruption, "partition " + std::to_string(p) +
                                                 " ends at position " + std::to_string(last) +
                                                 ", but its head is " +
                                                 std::to_string(heads[p].pos));
    }
    if (progress) progress(done, total);
    return v.finish();
}

result<verify_summary> verify_export(std::istream& in, const verify_options& options,
                                     std::uint64_t total_bytes, const verify_progress& progress) {
    chain_verifier v(options);
    const std::string checkpoint_type = cloudevents_type_of(payload{chain_checkpoint{}});
    std::string line;
    std::uint64_t line_no = 0;
    std::uint64_t bytes = 0;
    while (std::getline(in, line)) {
        ++line_no;
        bytes += line.size() + 1;
        const std::string where = "line " + std::to_string(line_no);
        const auto bad_input = [&](const std::string& what) {
            return failure(errc::invalid_argument, where + ": " + what);
        };
        boost::system::error_code ec;
        auto parsed = boost::json::parse(line, ec);
        if (ec) return bad_input("not JSON (" + ec.message() + ")");
        auto* o = parsed.if_object();
        if (!o) return bad_input("not a JSON object (one CloudEvent per line is expected)");

        const auto text = [&](std::string_view key) -> const boost::json::string* {
            const auto* m = o->if_contains(key);
            return m ? m->if_string() : nullptr;
        };
        const auto* id = text("id");
        const auto* type = text("type");
        const auto* prev = text("migopsprevhash");
        const auto* hash = text("migopshash");
        const auto* part = o->if_contains("migopspartition");
        const auto* pos = o->if_contains("migopsposition");
        for (const auto& [name, present] :
             {std::pair{"id", id != nullptr}, std::pair{"type", type != nullptr},
              std::pair{"migopspartition", part != nullptr},
              std::pair{"migopsposition", pos != nullptr},
              std::pair{"migopsprevhash", prev != nullptr},
              std::pair{"migopshash", hash != nullptr}})
            if (!present)
                return bad_input(std::string("attribute \"") + name +
                                 "\" is missing or of the wrong type");
        const auto* p_int = part->if_uint64();
        const auto* p_sint = part->if_int64();
        const auto* pos_int = pos->if_uint64();
        const auto* pos_sint = pos->if_int64();
        const bool p_ok =
            (p_sint && *p_sint >= 0 && static_cast<std::uint64_t>(*p_sint) <= UINT32_MAX) ||
            (p_int && *p_int <= UINT32_MAX);
        const bool pos_ok = (pos_sint && *pos_sint >= 0) || pos_int;
        if (!p_ok) return bad_input("attribute \"migopspartition\" is not a partition number");
        if (!pos_ok) return bad_input("attribute \"migopsposition\" is not a position");
        const auto prev_hash = hash_from_hex(*prev);
        const auto own_hash = hash_from_hex(*hash);
        if (!prev_hash) return bad_input("attribute \"migopsprevhash\" is not 64 hex digits");
        if (!own_hash) return bad_input("attribute \"migopshash\" is not 64 hex digits");

        // Copied: the object changes below.
        const std::string event_id(id->data(), id->size());
        chain_item item;
        item.partition =
            static_cast<partition_id>(p_int ? *p_int : static_cast<std::uint64_t>(*p_sint));
        item.pos = pos_int ? *pos_int : static_cast<position>(*pos_sint);
        item.event_id = event_id;
        item.prev_hash = *prev_hash;
        item.hash = *own_hash;

        chain_checkpoint checkpoint;
        if (std::string_view(type->data(), type->size()) == checkpoint_type) {
            const auto* data = o->if_contains("data");
            if (!data) return bad_input("attribute \"data\" is missing");
            try {
                from_json_value(*data, checkpoint, "data");
            } catch (const std::exception& ex) {
                return bad_input(std::string("the checkpoint's ") + ex.what());
            }
            item.checkpoint = &checkpoint;
        }
        // The hash covers everything but itself.
        o->erase("migopshash");
        item.content_hash = sha256(canonical_json(parsed));
        if (auto r = v.add(item, where); !r) return failure(r.error());
        if (progress && line_no % progress_every == 0) progress(bytes, total_bytes);
    }
    if (in.bad()) return failure(errc::io_error, "cannot read the export");
    if (progress) progress(bytes, total_bytes);
    return v.finish();
}

}  // namespace migops::events
