#pragma once
// Bearer-token authentication: verifies the JWT in an Authorization header
// and names the user it speaks for; issues HS256 tokens for local use.
// Refusals are values: errc::invalid_argument when the header or token cannot
// be read as a JWT (or a claim has the wrong JSON type), errc::permission_denied
// when it can be read but is refused (algorithm, signature, time, issuer,
// audience, subject). The HTTP layer answers both with 401.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <openssl/types.h>

#include "events/result.h"
#include "events/types.h"

namespace migops::api {

// Longer tokens are refused before any decoding, so a request cannot make the
// verifier decode, parse or hash an arbitrary amount of input.
inline constexpr std::size_t max_token_size = 8 * 1024;

struct auth_options {
    std::string algorithm = "HS256";  // "HS256" or "RS256": the only algorithm accepted
    std::string secret;               // HS256: at least 32 bytes
    std::string public_key_pem;       // RS256: "-----BEGIN PUBLIC KEY-----", RSA, >= 2048 bits
    std::string issuer;               // checked against `iss` when not empty
    std::string audience;             // checked against `aud` when not empty
    std::chrono::seconds leeway{30};  // clock skew allowed on exp and nbf, 0 to 600 s
};

// Who a verified token speaks for, and until when.
struct principal {
    user_id user;       // from `sub`
    timestamp expires;  // from `exp`
};

// What a verified token says: its user and when it is valid.
struct token_claims {
    user_id user;
    std::int64_t expires = 0;                // exp, in microseconds since the epoch
    std::optional<std::int64_t> not_before;  // nbf, likewise
};

// Tokens whose signature and claims verified, by their exact text; a
// request with one of them is checked only against the time. Tokens are
// compared in constant time, as signatures are.
inline constexpr std::size_t max_verified_tokens = 4096;
class verified_tokens {
  public:
    std::optional<token_claims> find(std::string_view token) const;
    void add(std::string_view token, const token_claims& claims);

  private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    struct equal {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const;
    };
    mutable std::mutex mutex_;
    std::unordered_map<std::string, token_claims, hash, equal> claims_;
};

class token_verifier {
  public:
    // Refuses unusable options: an unknown algorithm, an HS256 secret shorter
    // than 32 bytes, an RS256 key that is not an RSA public key of 2048 bits
    // or more, a negative or too large leeway.
    static result<token_verifier> create(auth_options options);

    // `now` is passed in because time is injected; the verifier never reads
    // the clock.
    result<principal> verify(std::string_view token, timestamp now) const;

    // The value of an Authorization header: "Bearer <token>" (scheme in any case).
    result<principal> verify_header(std::string_view authorization, timestamp now) const;

  private:
    token_verifier(auth_options options, std::shared_ptr<EVP_PKEY> key,
                   std::shared_ptr<EVP_MAC_CTX> hmac);
    // Signature and claims, without the cache.
    result<token_claims> verify_claims(std::string_view token, timestamp now) const;

    auth_options options_;
    // The RSA public key (RS256) or the keyed HMAC context (HS256), built
    // once; shared because copies of the verifier only read them.
    std::shared_ptr<EVP_PKEY> key_;
    std::shared_ptr<EVP_MAC_CTX> hmac_;
    std::shared_ptr<verified_tokens> verified_;  // shared by the copies
};

// A token for `user` signed with options.secret (HS256 only: with RS256 the
// server holds no private key): sub, iat, exp = iat + lifetime, and iss and
// aud when configured.
result<std::string> issue_token(const auth_options& options, const user_id& user, timestamp now,
                                std::chrono::seconds lifetime = std::chrono::hours(12));

}  // namespace migops::api
