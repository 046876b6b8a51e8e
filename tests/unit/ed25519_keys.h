#pragma once
// Test keys: a fresh Ed25519 key pair written as PEM files (what
// `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write).

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace migops::testing_support {

struct key_files {
    std::filesystem::path private_pem;
    std::filesystem::path public_pem;
};

// Writes <dir>/<name>.pem (private) and <dir>/<name>.pub.pem (public).
inline key_files write_ed25519_key(const std::filesystem::path& dir, const std::string& name) {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!key) throw std::runtime_error("cannot make an Ed25519 key");
    key_files out{dir / (name + ".pem"), dir / (name + ".pub.pem")};
    std::FILE* priv = std::fopen(out.private_pem.c_str(), "w");
    std::FILE* pub = std::fopen(out.public_pem.c_str(), "w");
    const bool ok = priv && pub &&
                    PEM_write_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
                    PEM_write_PUBKEY(pub, key) == 1;
    if (priv) std::fclose(priv);
    if (pub) std::fclose(pub);
    EVP_PKEY_free(key);
    if (!ok) throw std::runtime_error("cannot write the Ed25519 key files");
    return out;
}

// An RSA key (a key of the wrong kind for checkpoints).
inline std::filesystem::path write_rsa_key(const std::filesystem::path& dir) {
    constexpr unsigned int bits = 2048;
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
    if (!key) throw std::runtime_error("cannot make an RSA key");
    const auto path = dir / "rsa.pem";
    std::FILE* f = std::fopen(path.c_str(), "w");
    const bool ok = f && PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    if (f) std::fclose(f);
    EVP_PKEY_free(key);
    if (!ok) throw std::runtime_error("cannot write the RSA key file");
    return path;
}

}  // namespace migops::testing_support
