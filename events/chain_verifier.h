#pragma once
// Verification of hash chains, from a data directory's log or from an export
// file (export.h), with the same rules and the same messages.
//
// For every event: its hash is recomputed from its content (SHA-256 of the
// canonical JSON of its CloudEvent without "migopshash", codec.h) and must
// equal the hash it carries. Per partition, positions must increase, and an
// event that directly follows the previous one of its partition in the input
// must carry that event's hash as its previous hash.
//
// Complete input (a data directory, `migops export --all` without a time
// range): each partition must start at position 1 (previous hash zero) and
// have no gap, so a changed, removed, added or reordered event anywhere is
// found, except events removed at the very end of a partition (nothing
// follows them; a signed checkpoint after them, or the head compared with one
// noted earlier, is what shows that).
//
// Partial input (`--partial`: an export of one space or of a time range):
// gaps are expected, where other spaces' events or other times were left
// out. Then verification proves less, and exactly this: (1) each event's
// content matches the hash it carries; (2) where two events of a partition
// have consecutive positions, they are linked; (3) positions increase. It does
// not prove that no event of the space was removed, nor that an event belongs
// to the server's chain: hashes carry no secret, so anyone can recompute one
// after changing an event. What ties a partial export to the real history is
// comparing its events' (partition, position, hash) with a complete export or
// the data directory, or a signed checkpoint whose head is in the export.
//
// Checkpoints (chain.checkpoint events): each must name its own partition,
// the position before it and the hash of that position (its previous hash).
// With a public key, each signature is checked, and input that holds no
// checkpoint at all is refused (there is nothing signed to rely on).

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <string>

#include "events/event_log.h"
#include "events/signing.h"

namespace migops::events {

struct verify_options {
    bool partial = false;
    const checkpoint_key* key = nullptr;  // check checkpoint signatures with it
};

struct partition_summary {
    std::uint64_t events = 0;
    position first = 0;
    position last = 0;
    hash_bytes head{};           // the hash at `last`
    std::uint64_t unlinked = 0;  // events whose predecessor is not in the input
    std::uint64_t checkpoints = 0;
    // The events the last verified signature covers: the run of linked
    // events in the input that ends at the head it signs (complete input:
    // from position 1). 0 when none is covered.
    position signed_from = 0;
    position signed_through = 0;
    position run_start = 0;  // first position of the current run of linked events
};

struct verify_summary {
    std::uint64_t events = 0;
    std::uint64_t checkpoints = 0;
    std::uint64_t signatures = 0;  // checkpoint signatures verified with the key
    std::map<partition_id, partition_summary> partitions;
};

// One event as the verifier sees it.
struct chain_item {
    partition_id partition = 0;
    position pos = 0;
    std::string_view event_id;
    hash_bytes prev_hash{};     // as carried
    hash_bytes hash{};          // as carried
    hash_bytes content_hash{};  // recomputed from the content
    const chain_checkpoint* checkpoint = nullptr;
};

class chain_verifier {
  public:
    explicit chain_verifier(verify_options options) : options_(options) {}

    // The next event of the input; where ("line 17") prefixes any error.
    // The first error names the event: partition, position, id and what is
    // wrong (errc::corruption).
    result<void> add(const chain_item& item, std::string_view where = {});
    // After the last event.
    result<verify_summary> finish() const;
    // What was added so far.
    const verify_summary& summary() const { return summary_; }

  private:
    verify_options options_;
    verify_summary summary_;
};

// Called now and then with the work done so far and the whole (events of a
// log, bytes of a file).
using verify_progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

// Every partition of log, from position 1 to its head (complete input).
result<verify_summary> verify_log(const event_log& log, const checkpoint_key* key,
                                  const verify_progress& progress = {});

// An export: CloudEvents JSON, one per line. A line that is not a JSON
// object or lacks a chain attribute is errc::invalid_argument naming the
// line. total_bytes is only for progress.
result<verify_summary> verify_export(std::istream& in, const verify_options& options,
                                     std::uint64_t total_bytes = 0,
                                     const verify_progress& progress = {});

}  // namespace migops::events
