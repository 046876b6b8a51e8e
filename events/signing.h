#pragma once
// Signed chain heads: Ed25519 keys (PEM, through OpenSSL's EVP API) that sign
// and verify chain_checkpoint events (catalogue.h).
//
// What is signed is checkpoint_message(c): the line
// "migops chain checkpoint v1\n" followed by the canonical JSON (codec.h) of
// the checkpoint's data without "signature". The prefix keeps a checkpoint
// signature from meaning anything else. Persisted meaning: old checkpoints
// are verified with it forever.
//
// Both classes are immutable after load and may be used from any thread.

#include <filesystem>
#include <memory>
#include <string>

#include "events/catalogue.h"
#include "events/envelope.h"
#include "events/result.h"

struct evp_pkey_st;

namespace migops::events {

inline constexpr std::string_view checkpoint_algorithm = "ed25519";

std::string checkpoint_message(const chain_checkpoint& c);

class checkpoint_signer {
  public:
    // An Ed25519 private key in PEM (openssl genpkey -algorithm ed25519).
    static result<checkpoint_signer> load(const std::filesystem::path& pem_file);

    // The checkpoint of partition p whose chain ends at head, signed now.
    result<chain_checkpoint> sign(partition_id p, const chain_head& head, timestamp now) const;
    const std::string& key_id() const { return key_id_; }

  private:
    std::shared_ptr<evp_pkey_st> key_;
    std::string key_id_;
};

class checkpoint_key {
  public:
    // An Ed25519 public key in PEM (openssl pkey -pubout); a private key
    // file is accepted too, for its public half.
    static result<checkpoint_key> load(const std::filesystem::path& pem_file);

    // Checks the algorithm, that c names this key, and the signature.
    result<void> verify(const chain_checkpoint& c) const;
    const std::string& key_id() const { return key_id_; }

  private:
    std::shared_ptr<evp_pkey_st> key_;
    std::string key_id_;
};

}  // namespace migops::events
