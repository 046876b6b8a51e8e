#pragma once
// An event as a Kafka record: a CloudEvent in binary content mode (the
// CloudEvents Kafka protocol binding). Every attribute of codec.h's
// to_cloudevent() becomes a "ce_<name>" header, datacontenttype becomes
// "content-type", the value is the canonical JSON of "data", and the key is
// the space id. The headers migops_position, migops_prev_hash and
// migops_hash repeat the chain link for readers that filter on them
// (DESIGN.md section 4, "Kafka"). The record is the persisted form of the
// topic: header names and formats never change.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/envelope.h"
#include "events/result.h"

namespace migops::events::kafka {

struct record {
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;

    const std::string* header(std::string_view name) const;
};

// The headers of a record at most: every attribute, traceparent and the
// three migops_ ones.
inline constexpr std::size_t max_record_headers = 24;

record to_record(const envelope& e);

// The headers of e's record, in order, as to_record() writes them; both
// views last only for the call (a producer copies them without building
// the record).
void for_each_header(const envelope& e,
                     const std::function<void(std::string_view name, std::string_view value)>& f);
// The value of e's record.
std::string record_value(const envelope& e);
// The most bytes e's record can take in a produce request, as librdkafka
// measures a message against message.max.bytes: key, value, and each
// header's name and value with their length prefixes, plus the record's
// own framing.
std::size_t record_size(const envelope& e);
// A bound on record_size(e) from the size of e's binary form (codec.h
// encode_binary), which is far cheaper to make than the record: a byte of
// it becomes at most 128 bytes of the JSON value (a one-byte flag or
// enumerator with its member name, a character escaped as \u00XX), header
// values copy its strings or format its numbers and hashes, the trace
// context (a header the binary form does not hold) adds its length, and
// names and framing add a fixed amount.
std::size_t record_size_bound(const envelope& e);

// The envelope a record carries; its hash is recomputed and must match
// (errc::corruption otherwise), so a record that decodes is intact.
result<envelope> from_record(const record& r);

}  // namespace migops::events::kafka
