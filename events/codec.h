#pragma once
// Encodings of an envelope:
//   - storage: cereal portable binary, [u32 envelope version][fields]
//     [u32 type id][payload struct], see fields.h for the payload rules;
//   - wire: a CloudEvent in structured JSON (attributes + "data"), whose
//     canonical form (sorted keys, no spaces, UTF-8, integers only; what
//     Python's json.dumps(sort_keys=True, separators=(",", ":"),
//     ensure_ascii=False) prints) without "migopshash" is what the hash
//     covers.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "events/envelope.h"
#include "events/result.h"

namespace migops::events {

// Storage format version of the envelope itself (persisted).
inline constexpr std::uint32_t envelope_version = 1;

std::string encode_binary(const envelope& e);
result<envelope> decode_binary(std::string_view bytes);
// The same into e, whose strings' storage is reused; e is unspecified when
// it fails.
result<void> decode_binary(std::string_view bytes, envelope& e);

// The CloudEvents JSON of an event; with include_hash false, the object the
// hash is computed over.
boost::json::object to_cloudevent(const envelope& e, bool include_hash = true);
// boost::json::serialize(to_cloudevent(e)) appended to out, written without
// building the object.
void append_cloudevent_json(std::string& out, const envelope& e);

// One attribute of an event's CloudEvent: text, or an integer
// (migopspartition, migopsposition). The views last for the call only.
struct cloudevent_attribute {
    std::string_view name;
    std::string_view text;
    std::optional<std::uint64_t> number;
};
// Calls f with each attribute to_cloudevent() writes but "data", in its
// order, without building the JSON object.
void for_each_attribute(const envelope& e, bool include_hash,
                        const std::function<void(const cloudevent_attribute&)>& f);
// The JSON of an event's "data".
boost::json::value data_of(const envelope& e);
// Its text, appended to out: boost::json::serialize(data_of(e)) (declared)
// or canonical_json(data_of(e)) (by_name).
void append_data_json(std::string& out, const envelope& e, json_member_order order);
result<envelope> from_cloudevent(const boost::json::object& o);

// The canonical serialisation (see above) of any JSON value.
std::string canonical_json(const boost::json::value& v);

hash_bytes sha256(std::string_view bytes);
hash_bytes compute_hash(const envelope& e);

// Places e after head in the chain: sets pos, prev_hash and hash, and
// returns the new head.
chain_head seal(envelope& e, const chain_head& head);

// Checks e's own hash and its link to the previous head.
result<void> verify_link(const envelope& e, const chain_head& prev);

}  // namespace migops::events
