#pragma once
// Evidence files: which types are allowed (checked by extension and by
// content), and the content-addressed blob store they live in.
//
// A blob is written to a temporary file, hashed (SHA-256) as it streams,
// synced, renamed to blobs/<first two hex digits>/<sha256> and its directory
// synced, all before the ArtifactUploaded event is appended: an event never
// names a blob that a crash could lose. Blobs are never deleted by removing
// an artifact; history keeps naming them.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "events/result.h"

namespace migops::engine {

// The media type of an allowed file (csv, pdf, doc, docx, ppt, pptx, xlsx,
// txt, jpeg, png), from its extension, confirmed by its first bytes; a
// refusal says why. head holds at least the first 8 bytes when the file has
// them.
result<std::string> detect_media_type(std::string_view name, std::string_view head);

// Whether a file of that media type may be uploaded: what an artifact
// criterion may ask for.
bool is_evidence_media_type(std::string_view media_type);
// Those media types, comma-separated, for messages.
std::string evidence_media_types();

struct blob_info {
    std::string sha256;  // 64 lower-case hex digits
    std::uint64_t size = 0;
};

// One blob being written. Not thread-safe; dropped without commit(), it
// leaves nothing behind.
class blob_writer {
  public:
    virtual ~blob_writer() = default;
    // Fails with limit_exceeded past the size limit the writer was begun with.
    virtual result<void> write(std::string_view chunk) = 0;
    // Makes the blob durable under its hash and returns it.
    virtual result<blob_info> commit() = 0;
};

class blob_store {
  public:
    virtual ~blob_store() = default;
    virtual result<std::unique_ptr<blob_writer>> begin(std::uint64_t max_size) = 0;
    // The file holding a blob, or not_found.
    virtual result<std::filesystem::path> locate(std::string_view sha256) const = 0;
};

// The blob store in a directory (usually <data dir>/blobs).
result<std::unique_ptr<blob_store>> open_file_blob_store(const std::filesystem::path& dir);

}  // namespace migops::engine
