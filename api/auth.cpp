// JWT verification is written here on OpenSSL 3 and Boost.JSON rather than
// libjwt 1.10.2, because libjwt takes the algorithm from the token's header
// (it has no key-provider callback such as the later jwt_decode_2): tested on
// this machine, jwt_decode accepts an HS256 token whose HMAC key is the RS256
// public key's PEM, so the algorithm cannot be pinned before the signature
// check.
#include "api/auth.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace migops::api {

namespace json = boost::json;

namespace {

constexpr std::size_t min_secret_size = 32;
constexpr int min_rsa_bits = 2048;
constexpr std::chrono::seconds max_leeway{600};
constexpr std::int64_t micros_per_second = 1'000'000;

struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;

struct bio_deleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

std::shared_ptr<EVP_PKEY> adopt(EVP_PKEY* key) {
    return std::shared_ptr<EVP_PKEY>(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// Text from a token quoted in a message: printable ASCII only and short, so
// that a hostile token cannot put control characters or bulk into the logs.
std::string shown(std::string_view s) {
    constexpr std::size_t max_shown = 40;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < max_shown; ++i)
        out += (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s.size() > max_shown) out += "...";
    out += '"';
    return out;
}

// ---- base64url (RFC 4648 section 5, no padding) ---------------------------

constexpr char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

std::string base64url_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() * 4 + 2) / 3);
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : in) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += base64url_alphabet[(acc >> bits) & 0x3f];
        }
    }
    if (bits > 0) out += base64url_alphabet[(acc << (6 - bits)) & 0x3f];
    return out;
}

// Strict: no padding, no other alphabet, and the unused low bits of the last
// character must be zero, so that every byte string has exactly one encoding.
std::optional<std::string> base64url_decode(std::string_view in) {
    if (in.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = sextet(c);
        if (v < 0) return std::nullopt;
        acc = ((acc << 6) | static_cast<std::uint32_t>(v)) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

// ---- signatures ------------------------------------------------------------

struct mac_ctx_deleter {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter>;

// An HMAC-SHA256 context keyed with the secret once; each MAC is computed on
// a copy of it, without fetching the algorithm or setting the key again.
std::shared_ptr<EVP_MAC_CTX> hmac_key(std::string_view secret) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    mac_ctx_ptr ctx(mac ? EVP_MAC_CTX_new(mac) : nullptr);
    EVP_MAC_free(mac);  // the context holds its own reference
    std::array<char, 7> digest{"SHA256"};
    const std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
        OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx.get(), bytes(secret), secret.size(), params.data()) != 1) {
        ERR_clear_error();
        return nullptr;
    }
    return std::shared_ptr<EVP_MAC_CTX>(ctx.release(), mac_ctx_deleter{});
}

std::optional<std::string> hmac_sha256(const EVP_MAC_CTX* keyed, std::string_view data) {
    mac_ctx_ptr ctx(EVP_MAC_CTX_dup(keyed));
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    std::size_t size = 0;
    if (!ctx || EVP_MAC_update(ctx.get(), bytes(data), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), mac.data(), &size, mac.size()) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

bool signature_matches(const auth_options& options, EVP_PKEY* key, const EVP_MAC_CTX* hmac,
                       std::string_view signed_part, std::string_view signature) {
    if (options.algorithm == "HS256") {
        auto expected = hmac_sha256(hmac, signed_part);
        // The length of an HMAC-SHA256 is public; only the bytes must be
        // compared in constant time.
        return expected && expected->size() == signature.size() &&
               CRYPTO_memcmp(expected->data(), signature.data(), signature.size()) == 0;
    }
    md_ctx_ptr ctx(EVP_MD_CTX_new());
    bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
              EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(signed_part),
                               signed_part.size()) == 1;
    // A wrong-length signature leaves an error on this thread's queue; it is
    // a refusal, not something a later OpenSSL caller should find.
    ERR_clear_error();
    return ok;
}

// ---- claims -----------------------------------------------------------------

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum))
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    return sum;
}

// A NumericDate (seconds since the epoch, possibly fractional) in
// microseconds, clamped to what a timestamp can hold.
std::optional<std::int64_t> numeric_date_micros(const json::value& v) {
    constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / micros_per_second;
    if (v.is_int64()) return std::clamp(v.get_int64(), -limit, limit) * micros_per_second;
    if (v.is_uint64()) return limit * micros_per_second;  // only values above int64 are uint64
    if (v.is_double()) {
        double d = v.get_double();
        if (!std::isfinite(d)) return std::nullopt;
        d = std::clamp(d, -static_cast<double>(limit), static_cast<double>(limit));
        return std::llround(d * static_cast<double>(micros_per_second));
    }
    return std::nullopt;
}

result<void> check_audience(const json::object& claims, const std::string& audience) {
    const json::value* aud = claims.if_contains("aud");
    if (!aud)
        return failure(errc::permission_denied,
                       "token has no aud claim; the audience must be " + shown(audience));
    // RFC 7519 section 4.1.3: a single string or an array of strings.
    if (aud->is_string()) {
        if (aud->get_string() == audience) return success();
        return failure(errc::permission_denied,
                       "token audience " + shown(aud->get_string()) + " is not " + shown(audience));
    }
    if (aud->is_array()) {
        bool found = false;
        for (const json::value& a : aud->get_array()) {
            if (!a.is_string())
                return failure(errc::invalid_argument,
                               "token aud claim is an array with a member that is not a string");
            found = found || a.get_string() == audience;
        }
        if (found) return success();
        return failure(errc::permission_denied,
                       "token audiences do not include " + shown(audience));
    }
    return failure(errc::invalid_argument, "token aud claim is neither a string nor an array");
}

// RFC 7519 sections 4.1.4 and 4.1.5: now must be before exp and not before
// nbf, both with the configured leeway.
result<void> check_times(const auth_options& options, const token_claims& c, timestamp now) {
    const std::int64_t leeway = options.leeway.count() * micros_per_second;
    if (now.micros >= saturating_add(c.expires, leeway))
        return failure(errc::permission_denied,
                       "token expired at " + format_rfc3339(timestamp{c.expires}));
    if (c.not_before && saturating_add(now.micros, leeway) < *c.not_before)
        return failure(errc::permission_denied,
                       "token is not valid before " + format_rfc3339(timestamp{*c.not_before}));
    return success();
}

result<token_claims> check_claims(const auth_options& options, const json::object& claims,
                                  timestamp now) {
    token_claims out;
    // A token without exp would never expire; every token must say when it does.
    const json::value* exp = claims.if_contains("exp");
    if (!exp) return failure(errc::permission_denied, "token has no exp claim");
    auto expires = numeric_date_micros(*exp);
    if (!expires) return failure(errc::invalid_argument, "token exp claim is not a number");
    out.expires = *expires;
    if (const json::value* nbf = claims.if_contains("nbf")) {
        out.not_before = numeric_date_micros(*nbf);
        if (!out.not_before)
            return failure(errc::invalid_argument, "token nbf claim is not a number");
    }
    if (auto times = check_times(options, out, now); !times) return failure(times.error());

    if (!options.issuer.empty()) {
        const json::value* iss = claims.if_contains("iss");
        if (!iss)
            return failure(errc::permission_denied,
                           "token has no iss claim; the issuer must be " + shown(options.issuer));
        if (!iss->is_string())
            return failure(errc::invalid_argument, "token iss claim is not a string");
        if (iss->get_string() != options.issuer)
            return failure(errc::permission_denied, "token issuer " + shown(iss->get_string()) +
                                                        " is not " + shown(options.issuer));
    }

    if (!options.audience.empty()) {
        auto checked = check_audience(claims, options.audience);
        if (!checked) return failure(std::move(checked).error());
    }

    const json::value* sub = claims.if_contains("sub");
    if (!sub) return failure(errc::permission_denied, "token has no sub claim naming the user");
    if (!sub->is_string())
        return failure(errc::invalid_argument, "token sub claim is not a string");
    if (sub->get_string().empty())
        return failure(errc::permission_denied, "token sub claim is empty");
    out.user = user_id{std::string(sub->get_string())};
    return out;
}

// Parses a decoded header or payload; Boost.JSON keeps the last of duplicate
// members, which RFC 7519 section 4 allows.
std::optional<json::object> parse_object(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

result<void> check_hs256_secret(const std::string& secret) {
    if (secret.size() < min_secret_size)
        return failure(errc::invalid_argument, "the HS256 secret must be at least " +
                                                   std::to_string(min_secret_size) +
                                                   " bytes, not " + std::to_string(secret.size()));
    return success();
}

}  // namespace

bool verified_tokens::equal::operator()(std::string_view a, std::string_view b) const {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<token_claims> verified_tokens::find(std::string_view token) const {
    std::lock_guard lock(mutex_);
    auto it = claims_.find(token);
    if (it == claims_.end()) return std::nullopt;
    return it->second;
}

void verified_tokens::add(std::string_view token, const token_claims& claims) {
    std::lock_guard lock(mutex_);
    // Full: start again rather than keep count of use; the tokens in use
    // come back after one verification each.
    if (claims_.size() >= max_verified_tokens) claims_.clear();
    claims_.emplace(std::string(token), claims);
}

token_verifier::token_verifier(auth_options options, std::shared_ptr<EVP_PKEY> key,
                               std::shared_ptr<EVP_MAC_CTX> hmac)
    : options_(std::move(options)),
      key_(std::move(key)),
      hmac_(std::move(hmac)),
      verified_(std::make_shared<verified_tokens>()) {}

result<token_verifier> token_verifier::create(auth_options options) {
    if (options.leeway < std::chrono::seconds{0} || options.leeway > max_leeway)
        return failure(errc::invalid_argument,
                       "the token leeway must be from 0 to " + std::to_string(max_leeway.count()) +
                           " seconds, not " + std::to_string(options.leeway.count()));
    if (options.algorithm == "HS256") {
        auto ok = check_hs256_secret(options.secret);
        if (!ok) return failure(std::move(ok).error());
        auto hmac = hmac_key(options.secret);
        if (!hmac)
            return failure(errc::invalid_argument,
                           "the HS256 secret cannot be used as an HMAC key");
        return token_verifier(std::move(options), nullptr, std::move(hmac));
    }
    if (options.algorithm == "RS256") {
        const std::string& pem = options.public_key_pem;
        if (pem.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
            return failure(errc::invalid_argument, "the RS256 public key is too large");
        bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        // PEM_read_bio_PUBKEY reads only SubjectPublicKeyInfo ("BEGIN PUBLIC
        // KEY"), so a private key pasted here by mistake is refused.
        std::shared_ptr<EVP_PKEY> key =
            bio ? adopt(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)) : nullptr;
        ERR_clear_error();
        if (!key)
            return failure(errc::invalid_argument,
                           "the RS256 public key is not a PEM public key "
                           "(-----BEGIN PUBLIC KEY-----)");
        if (EVP_PKEY_is_a(key.get(), "RSA") != 1)
            return failure(errc::invalid_argument, "the RS256 public key is not an RSA key");
        if (EVP_PKEY_get_bits(key.get()) < min_rsa_bits)
            return failure(errc::invalid_argument,
                           "the RS256 public key has " +
                               std::to_string(EVP_PKEY_get_bits(key.get())) + " bits; at least " +
                               std::to_string(min_rsa_bits) + " are required");
        return token_verifier(std::move(options), std::move(key), nullptr);
    }
    return failure(errc::invalid_argument,
                   "the token algorithm must be HS256 or RS256, not " + shown(options.algorithm));
}

result<principal> token_verifier::verify(std::string_view token, timestamp now) const {
    if (token.empty()) return failure(errc::invalid_argument, "the bearer token is empty");
    if (token.size() > max_token_size)
        return failure(errc::invalid_argument, "the bearer token is longer than " +
                                                   std::to_string(max_token_size) + " bytes");
    // A token that verified before (the same bytes) is only checked for time.
    if (auto known = verified_->find(token)) {
        if (auto times = check_times(options_, *known, now); !times) return failure(times.error());
        return principal{known->user, timestamp{known->expires}};
    }
    auto claims = verify_claims(token, now);
    if (!claims) return failure(claims.error());
    verified_->add(token, claims.value());
    return principal{claims.value().user, timestamp{claims.value().expires}};
}

result<token_claims> token_verifier::verify_claims(std::string_view token, timestamp now) const {
    // JWS compact serialization: header.payload.signature, nothing else.
    const std::size_t first_dot = token.find('.');
    const std::size_t second_dot =
        first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != token.npos)
        return failure(errc::invalid_argument,
                       "the bearer token is not a JWT of three dot-separated parts");
    const std::string_view header_part = token.substr(0, first_dot);
    const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
    const std::string_view signature_part = token.substr(second_dot + 1);

    auto header_text = base64url_decode(header_part);
    if (!header_text) return failure(errc::invalid_argument, "the token header is not base64url");
    auto payload_text = base64url_decode(payload_part);
    if (!payload_text) return failure(errc::invalid_argument, "the token payload is not base64url");
    auto signature = base64url_decode(signature_part);
    if (!signature) return failure(errc::invalid_argument, "the token signature is not base64url");

    auto header = parse_object(*header_text);
    if (!header) return failure(errc::invalid_argument, "the token header is not a JSON object");
    const json::value* alg = header->if_contains("alg");
    if (!alg || !alg->is_string())
        return failure(errc::invalid_argument, "the token header has no alg string");

    // The algorithm is pinned by configuration; the header is only compared
    // with it, never used to choose how to verify.
    if (alg->get_string() != options_.algorithm) {
        std::string name(alg->get_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (name == "none")
            return failure(
                errc::permission_denied,
                "unsigned tokens (alg \"none\") are refused; tokens must be " + options_.algorithm);
        return failure(errc::permission_denied, "token algorithm " + shown(alg->get_string()) +
                                                    " is not the configured " + options_.algorithm);
    }
    // RFC 7515 section 4.1.11: extensions marked critical must be understood;
    // this verifier understands none.
    if (header->contains("crit"))
        return failure(errc::permission_denied,
                       "the token header lists critical extensions (crit), which are not "
                       "supported");

    if (!signature_matches(options_, key_.get(), hmac_.get(), token.substr(0, second_dot),
                           *signature))
        return failure(errc::permission_denied, "the token signature does not verify");

    // The payload is parsed only once its signature has verified.
    auto claims = parse_object(*payload_text);
    if (!claims) return failure(errc::invalid_argument, "the token payload is not a JSON object");
    return check_claims(options_, *claims, now);
}

result<principal> token_verifier::verify_header(std::string_view authorization,
                                                timestamp now) const {
    // Optional whitespace around a field value (RFC 9110 section 5.5).
    auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
    while (!authorization.empty() && is_ows(authorization.front())) authorization.remove_prefix(1);
    while (!authorization.empty() && is_ows(authorization.back())) authorization.remove_suffix(1);
    if (authorization.empty())
        return failure(errc::invalid_argument, "the Authorization header is empty");

    // credentials = auth-scheme [ 1*SP token68 ]; the scheme is case-insensitive.
    const std::size_t space = authorization.find(' ');
    const std::string_view scheme = authorization.substr(0, space);
    constexpr std::string_view bearer = "bearer";
    const bool is_bearer =
        scheme.size() == bearer.size() &&
        std::equal(scheme.begin(), scheme.end(), bearer.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
    // A short scheme is named; anything longer may be a bare credential, which
    // does not belong in a message that can reach the logs.
    constexpr std::size_t max_scheme_shown = 20;
    if (!is_bearer && scheme.size() > max_scheme_shown)
        return failure(errc::invalid_argument, "the Authorization scheme must be Bearer");
    if (!is_bearer)
        return failure(errc::invalid_argument,
                       "the Authorization scheme must be Bearer, not " + shown(scheme));
    if (space == std::string_view::npos)
        return failure(errc::invalid_argument,
                       "the Authorization header has no token after Bearer");

    std::string_view token = authorization.substr(space);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    if (token.find_first_of(" \t") != std::string_view::npos)
        return failure(errc::invalid_argument,
                       "the Authorization header has more than one token after Bearer");
    return verify(token, now);
}

result<std::string> issue_token(const auth_options& options, const user_id& user, timestamp now,
                                std::chrono::seconds lifetime) {
    if (options.algorithm != "HS256")
        return failure(errc::invalid_argument,
                       "tokens can be issued only with HS256; with " + shown(options.algorithm) +
                           " they must be signed by the holder of the private key");
    auto ok = check_hs256_secret(options.secret);
    if (!ok) return failure(std::move(ok).error());
    if (user.empty()) return failure(errc::invalid_argument, "a token needs a user");
    if (lifetime <= std::chrono::seconds{0})
        return failure(errc::invalid_argument, "a token lifetime must be positive");

    // Whole seconds, rounded down: NumericDate as most consumers expect it.
    std::int64_t issued_at = now.micros / micros_per_second;
    if (now.micros % micros_per_second < 0) --issued_at;

    json::object header;
    header["alg"] = "HS256";
    header["typ"] = "JWT";
    json::object claims;
    claims["sub"] = user.value;
    claims["iat"] = issued_at;
    claims["exp"] = saturating_add(issued_at, lifetime.count());
    if (!options.issuer.empty()) claims["iss"] = options.issuer;
    if (!options.audience.empty()) claims["aud"] = options.audience;

    std::string token =
        base64url_encode(json::serialize(header)) + '.' + base64url_encode(json::serialize(claims));
    auto key = hmac_key(options.secret);
    auto mac = key ? hmac_sha256(key.get(), token) : std::nullopt;
    if (!mac) {
        return failure(errc::invalid_argument, "the HS256 secret cannot be used as an HMAC key");
    }
    return token + '.' + base64url_encode(*mac);
}

}  // namespace migops::api
