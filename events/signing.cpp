#include "events/signing.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <fstream>
#include <sstream>
#include <vector>

#include "events/codec.h"

namespace migops::events {

namespace {

constexpr std::string_view message_prefix = "migops chain checkpoint v1\n";
constexpr std::size_t signature_bytes = 64;
// A PEM key is a few hundred bytes; anything far larger is not one.
constexpr std::uintmax_t max_key_file_bytes = std::uintmax_t{64} * 1024;

struct bio_free {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct md_ctx_free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "no detail from OpenSSL";
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    return text.data();
}

result<std::string> read_key_file(const std::filesystem::path& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec)
        return failure(errc::invalid_argument,
                       "cannot read " + file.string() + ": " + ec.message());
    if (size > max_key_file_bytes)
        return failure(errc::invalid_argument, file.string() + " is too large to be a PEM key");
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in && !in.eof()) return failure(errc::invalid_argument, "cannot read " + file.string());
    return ss.str();
}

std::string hex_of(const unsigned char* bytes, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(digits[bytes[i] >> 4]);
        out.push_back(digits[bytes[i] & 0xf]);
    }
    return out;
}

std::optional<std::vector<unsigned char>> bytes_of_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::vector<unsigned char> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = nibble(hex[2 * i]);
        const int lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return out;
}

// SHA-256 of the DER SubjectPublicKeyInfo, as hex: the same for the private
// key and its public half.
result<std::string> key_id_of(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(key, &der);
    if (n <= 0)
        return failure(errc::invalid_argument, "cannot encode the public key: " + openssl_reason());
    const auto h = sha256({reinterpret_cast<const char*>(der), static_cast<std::size_t>(n)});
    OPENSSL_free(der);
    return to_hex(h);
}

result<std::shared_ptr<EVP_PKEY>> read_pem(const std::filesystem::path& file, bool want_private) {
    auto text = read_key_file(file);
    if (!text) return failure(text.error());
    std::unique_ptr<BIO, bio_free> bio(
        BIO_new_mem_buf(text.value().data(), static_cast<int>(text.value().size())));
    if (!bio) return failure(errc::io_error, "out of memory reading " + file.string());
    EVP_PKEY* raw = want_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                                 : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    if (!raw && !want_private) {
        // Not a public key: perhaps the private key, whose public half serves.
        ERR_clear_error();
        std::unique_ptr<BIO, bio_free> again(
            BIO_new_mem_buf(text.value().data(), static_cast<int>(text.value().size())));
        if (again) raw = PEM_read_bio_PrivateKey(again.get(), nullptr, nullptr, nullptr);
    }
    if (!raw)
        return failure(errc::invalid_argument, file.string() + " is not a PEM " +
                                                   (want_private ? "private" : "public") +
                                                   " key: " + openssl_reason());
    std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
    if (EVP_PKEY_get_id(raw) != EVP_PKEY_ED25519)
        return failure(errc::invalid_argument, file.string() + " holds a " +
                                                   OBJ_nid2sn(EVP_PKEY_get_id(raw)) +
                                                   " key; checkpoints are signed with Ed25519 "
                                                   "(openssl genpkey -algorithm ed25519)");
    return key;
}

}  // namespace

std::string checkpoint_message(const chain_checkpoint& c) {
    auto data = to_json_value(c).as_object();
    data.erase("signature");
    return std::string(message_prefix) + canonical_json(data);
}

result<checkpoint_signer> checkpoint_signer::load(const std::filesystem::path& pem_file) {
    auto key = read_pem(pem_file, true);
    if (!key) return failure(key.error());
    auto id = key_id_of(key.value().get());
    if (!id) return failure(id.error());
    checkpoint_signer s;
    s.key_ = std::move(key).value();
    s.key_id_ = std::move(id).value();
    return s;
}

result<chain_checkpoint> checkpoint_signer::sign(partition_id p, const chain_head& head,
                                                 timestamp now) const {
    chain_checkpoint c;
    c.partition = p;
    c.position = head.pos;
    c.head_hash = head.hash;
    c.signed_at = now;
    c.algorithm = checkpoint_algorithm;
    c.key_id = key_id_;
    const std::string message = checkpoint_message(c);
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    std::array<unsigned char, signature_bytes> sig{};
    std::size_t len = sig.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
        return failure(errc::io_error, "cannot sign a checkpoint: " + openssl_reason());
    c.signature = hex_of(sig.data(), len);
    return c;
}

result<checkpoint_key> checkpoint_key::load(const std::filesystem::path& pem_file) {
    auto key = read_pem(pem_file, false);
    if (!key) return failure(key.error());
    auto id = key_id_of(key.value().get());
    if (!id) return failure(id.error());
    checkpoint_key k;
    k.key_ = std::move(key).value();
    k.key_id_ = std::move(id).value();
    return k;
}

result<void> checkpoint_key::verify(const chain_checkpoint& c) const {
    if (c.algorithm != checkpoint_algorithm)
        return failure(errc::corruption, "the checkpoint's algorithm is \"" + c.algorithm +
                                             "\", not " + std::string(checkpoint_algorithm));
    if (c.key_id != key_id_)
        return failure(errc::corruption, "the checkpoint is signed by key " + c.key_id +
                                             ", not by the key given (" + key_id_ + ")");
    auto sig = bytes_of_hex(c.signature);
    if (!sig || sig->size() != signature_bytes)
        return failure(errc::corruption, "the checkpoint's signature is not 128 hex digits");
    const std::string message = checkpoint_message(c);
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1)
        return failure(errc::io_error, "cannot verify a checkpoint: " + openssl_reason());
    const std::vector<unsigned char>& sig_bytes = *sig;
    const int ok =
        EVP_DigestVerify(ctx.get(), sig_bytes.data(), sig_bytes.size(),
                         reinterpret_cast<const unsigned char*>(message.data()), message.size());
    ERR_clear_error();
    if (ok != 1)
        return failure(errc::corruption,
                       "the checkpoint's signature does not match its partition, position, head "
                       "hash and time");
    return success();
}

}  // namespace migops::events
