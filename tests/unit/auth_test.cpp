#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "api/auth.h"

namespace migops::api {
namespace {

// Hostile tokens are assembled here by hand (base64url of hand-written JSON,
// signatures from OpenSSL directly) rather than with the code under test, so
// that each case is exactly what its name says.

constexpr std::int64_t now_s = 1'795'000'000;
constexpr timestamp now{now_s * 1'000'000};
const std::string secret = "an HS256 test secret of 32+ bytes, not for production";
const std::string issuer = "https://auth.migops.test";
const std::string audience = "migops-api";

std::string at(std::int64_t offset_s) {
    return std::to_string(now_s + offset_s);
}

std::string b64(std::string_view in) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    auto byte = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k]));
    };
    for (; i + 3 <= in.size(); i += 3) {
        std::uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        for (int s = 18; s >= 0; s -= 6) out += alphabet[(n >> s) & 0x3f];
    }
    if (in.size() - i == 1) {
        std::uint32_t n = byte(i) << 16;
        out += alphabet[(n >> 18) & 0x3f];
        out += alphabet[(n >> 12) & 0x3f];
    } else if (in.size() - i == 2) {
        std::uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
        out += alphabet[(n >> 18) & 0x3f];
        out += alphabet[(n >> 12) & 0x3f];
        out += alphabet[(n >> 6) & 0x3f];
    }
    return out;
}

std::string unb64(std::string_view in) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '-'             ? 62
                                       : 63;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

std::string hmac(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    std::size_t size = 0;
    EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                        reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                        mac.data(), mac.size(), &size),
              nullptr);
    return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

using pkey_ptr = std::shared_ptr<EVP_PKEY>;

pkey_ptr generate(const char* type, int rsa_bits) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), &EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    bool ok = ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 &&
              (rsa_bits == 0 ? EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") == 1
                             : EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), rsa_bits) == 1) &&
              EVP_PKEY_generate(ctx.get(), &key) == 1;
    EXPECT_TRUE(ok);
    return pkey_ptr(key, &EVP_PKEY_free);
}

std::string drain(BIO* bio) {
    std::string out(BIO_ctrl_pending(bio), '\0');
    EXPECT_EQ(BIO_read(bio, out.data(), static_cast<int>(out.size())),
              static_cast<int>(out.size()));
    BIO_free(bio);
    return out;
}

std::string public_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    EXPECT_EQ(PEM_write_bio_PUBKEY(bio, key), 1);
    return drain(bio);
}

std::string private_pem(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    EXPECT_EQ(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr), 1);
    return drain(bio);
}

std::string rsa_sign(EVP_PKEY* key, std::string_view data) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    std::size_t size = 0;
    auto in = reinterpret_cast<const unsigned char*>(data.data());
    EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key), 1);
    EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &size, in, data.size()), 1);
    std::string sig(size, '\0');
    EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size, in,
                             data.size()),
              1);
    sig.resize(size);
    return sig;
}

// The key pairs are generated once per run: 2048-bit generation is slow.
EVP_PKEY* rsa_key() {
    static pkey_ptr key = generate("RSA", 2048);
    return key.get();
}
EVP_PKEY* other_rsa_key() {
    static pkey_ptr key = generate("RSA", 2048);
    return key.get();
}

const std::string hs_header = R"({"alg":"HS256","typ":"JWT"})";
const std::string rs_header = R"({"alg":"RS256","typ":"JWT"})";

std::string good_claims() {
    return R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" + audience + R"(","iat":)" +
           at(0) + R"(,"exp":)" + at(3600) + "}";
}

// A payload with the good iss, aud and exp and the given other members.
std::string claims_with(const std::string& members) {
    return R"({"iss":")" + issuer + R"(","aud":")" + audience + R"(","exp":)" + at(3600) +
           (members.empty() ? "" : "," + members) + "}";
}

std::string hs256(const std::string& header, const std::string& payload,
                  std::string_view key = secret) {
    std::string signed_part = b64(header) + "." + b64(payload);
    return signed_part + "." + b64(hmac(key, signed_part));
}

std::string rs256(const std::string& header, const std::string& payload, EVP_PKEY* key) {
    std::string signed_part = b64(header) + "." + b64(payload);
    return signed_part + "." + b64(rsa_sign(key, signed_part));
}

auth_options hs_options() {
    auth_options o;
    o.algorithm = "HS256";
    o.secret = secret;
    o.issuer = issuer;
    o.audience = audience;
    return o;
}

auth_options rs_options() {
    auth_options o;
    o.algorithm = "RS256";
    o.public_key_pem = public_pem(rsa_key());
    o.issuer = issuer;
    o.audience = audience;
    return o;
}

token_verifier make(auth_options o) {
    auto v = token_verifier::create(std::move(o));
    EXPECT_TRUE(v) << (v ? "" : v.error().message);
    return std::move(v).value();
}

// A refusal with the expected code and a message that names the reason.
template <class T>
::testing::AssertionResult refused(const result<T>& r, errc code, std::string_view reason) {
    if (r) return ::testing::AssertionFailure() << "accepted";
    if (r.error().code != code)
        return ::testing::AssertionFailure()
               << "refused as " << to_string(r.error().code) << ": " << r.error().message;
    if (r.error().message.find(reason) == std::string::npos)
        return ::testing::AssertionFailure()
               << "message without \"" << reason << "\": " << r.error().message;
    return ::testing::AssertionSuccess() << r.error().message;
}

::testing::AssertionResult accepted(const result<principal>& r, std::string_view user) {
    if (!r) return ::testing::AssertionFailure() << "refused: " << r.error().message;
    if (r.value().user.value != user)
        return ::testing::AssertionFailure() << "user is " << r.value().user.value;
    return ::testing::AssertionSuccess();
}

class Hs256 : public ::testing::Test {
  protected:
    token_verifier v = make(hs_options());
};

class Rs256 : public ::testing::Test {
  protected:
    token_verifier v = make(rs_options());
};

// ---- accepted -----------------------------------------------------------------

TEST_F(Hs256, AcceptsAGoodToken) {
    auto p = v.verify(hs256(hs_header, good_claims()), now);
    ASSERT_TRUE(accepted(p, "alice"));
    EXPECT_EQ(p.value().expires.micros, (now_s + 3600) * 1'000'000);
}

TEST_F(Hs256, AcceptsAHeaderWithoutTyp) {
    EXPECT_TRUE(accepted(v.verify(hs256(R"({"alg":"HS256"})", good_claims()), now), "alice"));
}

TEST_F(Hs256, AcceptsAnAudienceArrayThatIncludesOurs) {
    auto payload = R"({"sub":"alice","iss":")" + issuer + R"(","aud":["other",")" + audience +
                   R"("],"exp":)" + at(60) + "}";
    EXPECT_TRUE(accepted(v.verify(hs256(hs_header, payload), now), "alice"));
}

TEST_F(Hs256, AcceptsAFractionalExpiry) {
    auto p = v.verify(hs256(hs_header, R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" +
                                           audience + R"(","exp":)" + at(10) + ".5}"),
                      now);
    ASSERT_TRUE(accepted(p, "alice"));
    EXPECT_EQ(p.value().expires.micros, (now_s + 10) * 1'000'000 + 500'000);
}

TEST_F(Hs256, AcceptsAnExpiryBeyondTheTimestampRange) {
    auto p = v.verify(hs256(hs_header, R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" +
                                           audience + R"(","exp":18446744073709551615})"),
                      now);
    ASSERT_TRUE(accepted(p, "alice"));
    EXPECT_GT(p.value().expires, now);
}

TEST(Hs256Unconfigured, IgnoresIssuerAndAudienceWhenNotConfigured) {
    auth_options o;
    o.secret = secret;
    auto v = make(o);
    EXPECT_TRUE(
        accepted(v.verify(hs256(hs_header, R"({"sub":"bob","exp":)" + at(60) + "}"), now), "bob"));
    EXPECT_TRUE(accepted(v.verify(hs256(hs_header, good_claims()), now), "alice"));
}

TEST_F(Rs256, AcceptsAGoodToken) {
    auto p = v.verify(rs256(rs_header, good_claims(), rsa_key()), now);
    ASSERT_TRUE(accepted(p, "alice"));
    EXPECT_EQ(p.value().expires.micros, (now_s + 3600) * 1'000'000);
}

// ---- algorithm --------------------------------------------------------------

TEST_F(Hs256, RefusesAlgNone) {
    for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
        std::string header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
        std::string unsigned_token = b64(header) + "." + b64(good_claims()) + ".";
        EXPECT_TRUE(refused(v.verify(unsigned_token, now), errc::permission_denied, "none")) << alg;
        // Signed or not, an alg-none token is refused before its signature
        // is looked at.
        EXPECT_TRUE(
            refused(v.verify(hs256(header, good_claims()), now), errc::permission_denied, "none"))
            << alg;
    }
}

TEST_F(Rs256, RefusesAlgNone) {
    std::string unsigned_token = b64(R"({"alg":"none"})") + "." + b64(good_claims()) + ".";
    EXPECT_TRUE(refused(v.verify(unsigned_token, now), errc::permission_denied, "none"));
}

TEST_F(Rs256, RefusesAnHs256TokenKeyedWithThePublicKeyPem) {
    // The classic algorithm confusion: the attacker knows the public key and
    // uses its PEM bytes as an HMAC secret.
    const std::string pem = public_pem(rsa_key());
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, good_claims(), pem), now),
                        errc::permission_denied,
                        "algorithm \"HS256\" is not the configured RS256"));
    // The same MAC under a header that claims RS256 is checked as RS256 and
    // fails: the header never chooses how to verify.
    EXPECT_TRUE(refused(v.verify(hs256(rs_header, good_claims(), pem), now),
                        errc::permission_denied, "signature does not verify"));
}

TEST_F(Hs256, RefusesAnRs256Token) {
    EXPECT_TRUE(refused(v.verify(rs256(rs_header, good_claims(), rsa_key()), now),
                        errc::permission_denied,
                        "algorithm \"RS256\" is not the configured HS256"));
    // Also when the "RS256" token carries a valid HMAC under our secret.
    EXPECT_TRUE(refused(v.verify(hs256(rs_header, good_claims()), now), errc::permission_denied,
                        "is not the configured HS256"));
}

TEST_F(Hs256, RefusesOtherAlgorithmNames) {
    for (const char* alg : {"hs256", "HS512", "HS256 ", "ES256", ""}) {
        std::string header = std::string(R"({"alg":")") + alg + R"("})";
        EXPECT_TRUE(refused(v.verify(hs256(header, good_claims()), now), errc::permission_denied,
                            "is not the configured HS256"))
            << alg;
    }
}

TEST_F(Hs256, RefusesCriticalExtensions) {
    EXPECT_TRUE(
        refused(v.verify(hs256(R"({"alg":"HS256","crit":["exp"],"exp":1})", good_claims()), now),
                errc::permission_denied, "crit"));
}

// ---- signature --------------------------------------------------------------

TEST_F(Hs256, RefusesAnotherSecret) {
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, good_claims(), secret + "x"), now),
                        errc::permission_denied, "signature does not verify"));
}

TEST_F(Hs256, RefusesAFlippedSignatureBit) {
    std::string signed_part = b64(hs_header) + "." + b64(good_claims());
    for (std::size_t i : {0, 15, 31}) {
        std::string mac = hmac(secret, signed_part);
        mac[i] = static_cast<char>(mac[i] ^ 0x01);
        EXPECT_TRUE(refused(v.verify(signed_part + "." + b64(mac), now), errc::permission_denied,
                            "signature does not verify"))
            << i;
    }
}

TEST_F(Hs256, RefusesATruncatedOrEmptySignature) {
    std::string signed_part = b64(hs_header) + "." + b64(good_claims());
    std::string mac = hmac(secret, signed_part);
    EXPECT_TRUE(refused(v.verify(signed_part + "." + b64(mac.substr(0, 16)), now),
                        errc::permission_denied, "signature does not verify"));
    EXPECT_TRUE(refused(v.verify(signed_part + ".", now), errc::permission_denied,
                        "signature does not verify"));
}

TEST_F(Hs256, RefusesAChangedPayloadWithTheOldSignature) {
    std::string good = hs256(hs_header, good_claims());
    std::string evil_claims = claims_with(R"("sub":"admin")");
    std::string forged = b64(hs_header) + "." + b64(evil_claims) + good.substr(good.rfind('.'));
    EXPECT_TRUE(
        refused(v.verify(forged, now), errc::permission_denied, "signature does not verify"));
}

TEST_F(Hs256, RefusesAChangedHeaderWithTheOldSignature) {
    std::string good = hs256(hs_header, good_claims());
    std::string forged = b64(R"({"alg":"HS256"})") + good.substr(good.find('.'));
    EXPECT_TRUE(
        refused(v.verify(forged, now), errc::permission_denied, "signature does not verify"));
}

TEST_F(Rs256, RefusesAnotherKey) {
    EXPECT_TRUE(refused(v.verify(rs256(rs_header, good_claims(), other_rsa_key()), now),
                        errc::permission_denied, "signature does not verify"));
}

TEST_F(Rs256, RefusesAChangedPayloadWithTheOldSignature) {
    std::string good = rs256(rs_header, good_claims(), rsa_key());
    std::string forged =
        b64(rs_header) + "." + b64(claims_with(R"("sub":"admin")")) + good.substr(good.rfind('.'));
    EXPECT_TRUE(
        refused(v.verify(forged, now), errc::permission_denied, "signature does not verify"));
}

TEST_F(Rs256, RefusesAWrongLengthSignature) {
    std::string signed_part = b64(rs_header) + "." + b64(good_claims());
    std::string sig = rsa_sign(rsa_key(), signed_part);
    EXPECT_TRUE(refused(v.verify(signed_part + "." + b64(sig.substr(0, 200)), now),
                        errc::permission_denied, "signature does not verify"));
    EXPECT_TRUE(refused(v.verify(signed_part + "." + b64(sig + "x"), now), errc::permission_denied,
                        "signature does not verify"));
    EXPECT_TRUE(refused(v.verify(signed_part + ".", now), errc::permission_denied,
                        "signature does not verify"));
}

// ---- time -------------------------------------------------------------------

TEST_F(Hs256, RefusesAnExpiredToken) {
    auto token = hs256(hs_header, R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" + audience +
                                      R"(","exp":)" + at(-31) + "}");
    EXPECT_TRUE(refused(v.verify(token, now), errc::permission_denied, "expired at"));
}

TEST_F(Hs256, AllowsTheLeewayOnExpiry) {
    auto exp_at = [](std::int64_t offset) {
        return hs256(hs_header, R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" + audience +
                                    R"(","exp":)" + at(offset) + "}");
    };
    EXPECT_TRUE(accepted(v.verify(exp_at(-29), now), "alice"));
    // At exp + leeway exactly the token is no longer valid.
    EXPECT_TRUE(refused(v.verify(exp_at(-30), now), errc::permission_denied, "expired"));
}

TEST(Hs256NoLeeway, RefusesAtTheExpirySecond) {
    auth_options o = hs_options();
    o.leeway = std::chrono::seconds{0};
    auto v = make(o);
    auto exp_at = [](std::int64_t offset) {
        return hs256(hs_header, R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" + audience +
                                    R"(","exp":)" + at(offset) + "}");
    };
    EXPECT_TRUE(refused(v.verify(exp_at(0), now), errc::permission_denied, "expired"));
    EXPECT_TRUE(accepted(v.verify(exp_at(1), now), "alice"));
    EXPECT_TRUE(accepted(v.verify(exp_at(0), timestamp{now.micros - 1}), "alice"));
}

TEST_F(Hs256, RefusesATokenNotYetValid) {
    EXPECT_TRUE(
        refused(v.verify(hs256(hs_header, claims_with(R"("sub":"alice","nbf":)" + at(31))), now),
                errc::permission_denied, "not valid before"));
    EXPECT_TRUE(accepted(
        v.verify(hs256(hs_header, claims_with(R"("sub":"alice","nbf":)" + at(29))), now), "alice"));
    EXPECT_TRUE(
        accepted(v.verify(hs256(hs_header, claims_with(R"("sub":"alice","nbf":)" + at(-100))), now),
                 "alice"));
}

// A token verified once is kept; it is still checked against the time on
// every use, and a token that differs from it in any byte is verified anew.
TEST_F(Hs256, AKeptTokenIsStillCheckedForTime) {
    const auto token = hs256(hs_header, claims_with(R"("sub":"alice","nbf":)" + at(-10)));
    ASSERT_TRUE(accepted(v.verify(token, now), "alice"));
    ASSERT_TRUE(accepted(v.verify(token, now), "alice"));
    // good_claims() expire an hour from now; the leeway is 30 s.
    EXPECT_TRUE(refused(v.verify(token, timestamp{now.micros + 3631 * 1'000'000LL}),
                        errc::permission_denied, "expired at"));
    EXPECT_TRUE(refused(v.verify(token, timestamp{now.micros - 41 * 1'000'000LL}),
                        errc::permission_denied, "not valid before"));
    // The same claims signed with another secret.
    const auto forged =
        hs256(hs_header, claims_with(R"("sub":"alice","nbf":)" + at(-10)), "another secret");
    EXPECT_TRUE(refused(v.verify(forged, now), errc::permission_denied, "signature"));
    EXPECT_TRUE(refused(v.verify(forged, now), errc::permission_denied, "signature"));
    // A copy of the verifier knows the token too.
    const token_verifier copy = v;
    EXPECT_TRUE(accepted(copy.verify(token, now), "alice"));
}

TEST_F(Hs256, RefusesATokenWithoutExpiry) {
    auto token = hs256(hs_header,
                       R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" + audience + R"("})");
    EXPECT_TRUE(refused(v.verify(token, now), errc::permission_denied, "no exp"));
}

TEST_F(Hs256, RefusesNonNumericTimes) {
    std::string base = R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" + audience + "\",";
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, base + R"("exp":")" + at(60) + "\"}"), now),
                        errc::invalid_argument, "exp claim is not a number"));
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, base + R"("exp":null})"), now),
                        errc::invalid_argument, "exp claim is not a number"));
    EXPECT_TRUE(
        refused(v.verify(hs256(hs_header, base + R"("exp":)" + at(60) + R"(,"nbf":"0"})"), now),
                errc::invalid_argument, "nbf claim is not a number"));
}

// ---- issuer and audience -----------------------------------------------------

TEST_F(Hs256, RefusesAWrongIssuer) {
    auto payload = R"({"sub":"alice","iss":"https://evil.test","aud":")" + audience +
                   R"(","exp":)" + at(60) + "}";
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, payload), now), errc::permission_denied,
                        "issuer \"https://evil.test\" is not"));
}

TEST_F(Hs256, RefusesAMissingOrNonStringIssuer) {
    auto missing = R"({"sub":"alice","aud":")" + audience + R"(","exp":)" + at(60) + "}";
    EXPECT_TRUE(
        refused(v.verify(hs256(hs_header, missing), now), errc::permission_denied, "no iss"));
    auto number = R"({"sub":"alice","iss":7,"aud":")" + audience + R"(","exp":)" + at(60) + "}";
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, number), now), errc::invalid_argument,
                        "iss claim is not a string"));
}

TEST_F(Hs256, RefusesAWrongAudience) {
    auto with_aud = [](const std::string& aud) {
        return hs256(hs_header, R"({"sub":"alice","iss":")" + issuer + R"(","aud":)" + aud +
                                    R"(,"exp":)" + at(60) + "}");
    };
    EXPECT_TRUE(refused(v.verify(with_aud(R"("other-api")"), now), errc::permission_denied,
                        "audience \"other-api\" is not"));
    EXPECT_TRUE(refused(v.verify(with_aud(R"(["a","b"])"), now), errc::permission_denied,
                        "audiences do not include"));
    EXPECT_TRUE(refused(v.verify(with_aud("[]"), now), errc::permission_denied,
                        "audiences do not include"));
    EXPECT_TRUE(
        refused(v.verify(with_aud(R"("MIGOPS-API")"), now), errc::permission_denied, "audience"));
    EXPECT_TRUE(refused(v.verify(with_aud(R"(["migops-api",3])"), now), errc::invalid_argument,
                        "not a string"));
    EXPECT_TRUE(refused(v.verify(with_aud(R"({"migops-api":true})"), now), errc::invalid_argument,
                        "neither a string nor an array"));
}

TEST_F(Hs256, RefusesAMissingAudience) {
    auto payload = R"({"sub":"alice","iss":")" + issuer + R"(","exp":)" + at(60) + "}";
    EXPECT_TRUE(
        refused(v.verify(hs256(hs_header, payload), now), errc::permission_denied, "no aud"));
}

TEST_F(Rs256, RefusesAWrongIssuerAndAudience) {
    auto payload = R"({"sub":"alice","iss":"x","aud":")" + audience + R"(","exp":)" + at(60) + "}";
    EXPECT_TRUE(refused(v.verify(rs256(rs_header, payload, rsa_key()), now),
                        errc::permission_denied, "issuer"));
    payload = R"({"sub":"alice","iss":")" + issuer + R"(","aud":"x","exp":)" + at(60) + "}";
    EXPECT_TRUE(refused(v.verify(rs256(rs_header, payload, rsa_key()), now),
                        errc::permission_denied, "audience"));
}

// ---- subject ----------------------------------------------------------------

TEST_F(Hs256, RefusesAMissingSubject) {
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, claims_with("")), now), errc::permission_denied,
                        "no sub"));
}

TEST_F(Hs256, RefusesAnEmptySubject) {
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, claims_with(R"("sub":"")")), now),
                        errc::permission_denied, "sub claim is empty"));
}

TEST_F(Hs256, RefusesANonStringSubject) {
    for (const char* sub : {"42", "null", "true", R"(["alice"])", R"({"id":"alice"})"}) {
        EXPECT_TRUE(
            refused(v.verify(hs256(hs_header, claims_with(std::string(R"("sub":)") + sub)), now),
                    errc::invalid_argument, "sub claim is not a string"))
            << sub;
    }
}

// ---- garbage ----------------------------------------------------------------

TEST_F(Hs256, RefusesTheEmptyString) {
    EXPECT_TRUE(refused(v.verify("", now), errc::invalid_argument, "empty"));
}

TEST_F(Hs256, RefusesTokensWithoutThreeParts) {
    std::string good = hs256(hs_header, good_claims());
    std::string two = good.substr(0, good.rfind('.'));
    for (const std::string& bad : {std::string("abc"), two, good + ".", good + "." + "abc",
                                   std::string("."), std::string("...")}) {
        EXPECT_TRUE(refused(v.verify(bad, now), errc::invalid_argument, "three dot-separated"))
            << bad;
    }
}

TEST_F(Hs256, RefusesBadBase64url) {
    std::string h = b64(hs_header);
    std::string p = b64(good_claims());
    std::string s = b64(hmac(secret, h + "." + p));
    // Standard base64's alphabet, padding, stray characters, an impossible
    // length, non-zero unused bits.
    EXPECT_TRUE(refused(v.verify(h + "+." + p + "." + s, now), errc::invalid_argument,
                        "header is not base64url"));
    EXPECT_TRUE(refused(v.verify(h + "." + p + "*." + s, now), errc::invalid_argument,
                        "payload is not base64url"));
    EXPECT_TRUE(refused(v.verify(h + "." + p + "." + s + "=", now), errc::invalid_argument,
                        "signature is not base64url"));
    EXPECT_TRUE(refused(v.verify(h + "." + p + "." + s.substr(0, 40) + "/A=", now),
                        errc::invalid_argument, "signature is not base64url"));
    EXPECT_TRUE(refused(v.verify(h + "." + p + "." + s + "AA", now), errc::invalid_argument,
                        "signature is not base64url"));  // 45 characters: 4n + 1 is impossible
    EXPECT_TRUE(refused(v.verify(h + " ." + p + "." + s, now), errc::invalid_argument,
                        "header is not base64url"));
    // 32 bytes are 43 characters; the last carries two unused bits, which
    // must be zero. Setting one keeps the decoded bytes but not the encoding.
    ASSERT_EQ(s.size(), 43u);
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string noncanonical = s;
    noncanonical.back() = alphabet[alphabet.find(s.back()) | 1];
    EXPECT_TRUE(refused(v.verify(h + "." + p + "." + noncanonical, now), errc::invalid_argument,
                        "signature is not base64url"));
}

TEST_F(Hs256, RefusesAHeaderThatIsNotJson) {
    for (const char* header : {"not json", R"({"alg":"HS256")", R"(["HS256"])", R"("HS256")", "",
                               "{\"alg\":\"HS256\"}junk"}) {
        EXPECT_TRUE(refused(v.verify(hs256(header, good_claims()), now), errc::invalid_argument,
                            "header is not a JSON object"))
            << header;
    }
}

TEST_F(Hs256, RefusesAHeaderWithoutAlg) {
    EXPECT_TRUE(refused(v.verify(hs256(R"({"typ":"JWT"})", good_claims()), now),
                        errc::invalid_argument, "no alg"));
    EXPECT_TRUE(refused(v.verify(hs256(R"({"alg":256})", good_claims()), now),
                        errc::invalid_argument, "no alg"));
}

TEST_F(Hs256, RefusesAPayloadThatIsNotJson) {
    // Correctly signed, so that the refusal is about the payload itself.
    for (const char* payload : {"not json", R"({"sub":"alice")", R"(["alice"])", "42", ""}) {
        EXPECT_TRUE(refused(v.verify(hs256(hs_header, payload), now), errc::invalid_argument,
                            "payload is not a JSON object"))
            << payload;
    }
}

TEST_F(Hs256, ChecksTheSignatureBeforeReadingThePayload) {
    EXPECT_TRUE(refused(v.verify(hs256(hs_header, "not json", secret + "x"), now),
                        errc::permission_denied, "signature does not verify"));
}

TEST_F(Hs256, RefusesATokenOverTheSizeLimit) {
    auto padded = [](std::size_t n) {
        return hs256(hs_header,
                     claims_with(R"("sub":"alice","pad":")" + std::string(n, 'x') + "\""));
    };
    std::size_t n = 5000;
    while (padded(n + 1).size() <= max_token_size) ++n;
    ASSERT_LE(padded(n).size(), max_token_size);
    EXPECT_TRUE(accepted(v.verify(padded(n), now), "alice"));
    ASSERT_GT(padded(n + 1).size(), max_token_size);
    EXPECT_TRUE(refused(v.verify(padded(n + 1), now), errc::invalid_argument, "longer than 8192"));
    EXPECT_TRUE(refused(v.verify(std::string(1 << 20, 'A'), now), errc::invalid_argument,
                        "longer than 8192"));
}

// ---- the Authorization header -------------------------------------------------

TEST_F(Hs256, AcceptsABearerHeader) {
    std::string token = hs256(hs_header, good_claims());
    EXPECT_TRUE(accepted(v.verify_header("Bearer " + token, now), "alice"));
    EXPECT_TRUE(accepted(v.verify_header("bearer " + token, now), "alice"));
    EXPECT_TRUE(accepted(v.verify_header("BEARER  " + token + " ", now), "alice"));
}

TEST_F(Hs256, RefusesMalformedAuthorizationHeaders) {
    std::string token = hs256(hs_header, good_claims());
    EXPECT_TRUE(refused(v.verify_header("", now), errc::invalid_argument, "header is empty"));
    EXPECT_TRUE(refused(v.verify_header("   ", now), errc::invalid_argument, "header is empty"));
    EXPECT_TRUE(refused(v.verify_header("Bearer", now), errc::invalid_argument, "no token"));
    EXPECT_TRUE(refused(v.verify_header("Bearer ", now), errc::invalid_argument, "no token"));
    EXPECT_TRUE(refused(v.verify_header("Basic dXNlcjpwYXNzd29yZA==", now), errc::invalid_argument,
                        "must be Bearer, not \"Basic\""));
    EXPECT_TRUE(
        refused(v.verify_header("Token " + token, now), errc::invalid_argument, "must be Bearer"));
    EXPECT_TRUE(refused(v.verify_header(token, now), errc::invalid_argument, "must be Bearer"));
    EXPECT_TRUE(refused(v.verify_header("Bearer " + token + " " + token, now),
                        errc::invalid_argument, "more than one token"));
    EXPECT_TRUE(refused(v.verify_header("Bearer not-a-jwt", now), errc::invalid_argument,
                        "three dot-separated"));
}

TEST_F(Hs256, PassesRefusalsThroughTheHeader) {
    std::string expired = hs256(hs_header, R"({"sub":"alice","iss":")" + issuer + R"(","aud":")" +
                                               audience + R"(","exp":)" + at(-3600) + "}");
    EXPECT_TRUE(
        refused(v.verify_header("Bearer " + expired, now), errc::permission_denied, "expired"));
}

// ---- options ----------------------------------------------------------------

TEST(AuthOptions, RefusesAShortSecret) {
    auth_options o;
    o.secret = std::string(31, 's');
    EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "at least 32 bytes"));
    o.secret = std::string(32, 's');
    EXPECT_TRUE(token_verifier::create(o));
}

TEST(AuthOptions, RefusesUnknownAlgorithms) {
    for (const char* alg : {"none", "HS512", "hs256", "ES256", ""}) {
        auth_options o;
        o.algorithm = alg;
        o.secret = secret;
        o.public_key_pem = public_pem(rsa_key());
        EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "HS256 or RS256"))
            << alg;
    }
}

TEST(AuthOptions, RefusesBadLeeway) {
    auth_options o = hs_options();
    o.leeway = std::chrono::seconds{-1};
    EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "leeway"));
    o.leeway = std::chrono::hours{1};
    EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "leeway"));
}

TEST(AuthOptions, RefusesUnusableRs256Keys) {
    auth_options o = rs_options();
    o.public_key_pem = "";
    EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "not a PEM public key"));
    o.public_key_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "not a PEM public key"));
    o.public_key_pem = private_pem(rsa_key());
    EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "not a PEM public key"));
    o.public_key_pem = public_pem(generate("EC", 0).get());
    EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "not an RSA key"));
    o.public_key_pem = public_pem(generate("RSA", 1024).get());
    EXPECT_TRUE(refused(token_verifier::create(o), errc::invalid_argument, "1024 bits"));
}

// ---- issuing ----------------------------------------------------------------

TEST(IssueToken, IssuesAVerifiableHs256Token) {
    auto token = issue_token(hs_options(), user_id{"carol"}, now);
    ASSERT_TRUE(token) << token.error().message;
    auto p = make(hs_options()).verify(token.value(), now);
    ASSERT_TRUE(accepted(p, "carol"));
    EXPECT_EQ(p.value().expires.micros, (now_s + 12 * 3600) * 1'000'000);

    const std::string& t = token.value();
    auto header = boost::json::parse(unb64(t.substr(0, t.find('.'))));
    EXPECT_EQ(header.at("alg").as_string(), "HS256");
    auto claims =
        boost::json::parse(unb64(t.substr(t.find('.') + 1, t.rfind('.') - t.find('.') - 1)));
    EXPECT_EQ(claims.at("sub").as_string(), "carol");
    EXPECT_EQ(claims.at("iat").as_int64(), now_s);
    EXPECT_EQ(claims.at("exp").as_int64(), now_s + 12 * 3600);
    EXPECT_EQ(claims.at("iss").as_string(), issuer);
    EXPECT_EQ(claims.at("aud").as_string(), audience);
    // The signature is HMAC-SHA256 of the first two parts under the secret.
    EXPECT_EQ(t.substr(t.rfind('.') + 1), b64(hmac(secret, t.substr(0, t.rfind('.')))));
}

TEST(IssueToken, OmitsIssuerAndAudienceWhenNotConfigured) {
    auth_options o;
    o.secret = secret;
    auto token = issue_token(o, user_id{"carol"}, timestamp{now.micros + 999'999});
    ASSERT_TRUE(token);
    const std::string& t = token.value();
    auto claims =
        boost::json::parse(unb64(t.substr(t.find('.') + 1, t.rfind('.') - t.find('.') - 1)));
    EXPECT_FALSE(claims.as_object().contains("iss"));
    EXPECT_FALSE(claims.as_object().contains("aud"));
    EXPECT_EQ(claims.at("iat").as_int64(), now_s);  // rounded down to the second
}

TEST(IssueToken, HonoursTheLifetime) {
    auto token = issue_token(hs_options(), user_id{"carol"}, now, std::chrono::minutes(5));
    ASSERT_TRUE(token);
    auto v = make(hs_options());
    EXPECT_TRUE(accepted(v.verify(token.value(), timestamp{now.micros + 299'000'000}), "carol"));
    EXPECT_TRUE(refused(v.verify(token.value(), timestamp{now.micros + 330'000'000}),
                        errc::permission_denied, "expired"));
}

TEST(IssueToken, RefusesUnusableRequests) {
    EXPECT_TRUE(refused(issue_token(rs_options(), user_id{"carol"}, now), errc::invalid_argument,
                        "only with HS256"));
    auth_options short_secret;
    short_secret.secret = "short";
    EXPECT_TRUE(refused(issue_token(short_secret, user_id{"carol"}, now), errc::invalid_argument,
                        "at least 32 bytes"));
    EXPECT_TRUE(
        refused(issue_token(hs_options(), user_id{}, now), errc::invalid_argument, "needs a user"));
    EXPECT_TRUE(refused(issue_token(hs_options(), user_id{"carol"}, now, std::chrono::seconds{0}),
                        errc::invalid_argument, "lifetime"));
}

TEST(IssueToken, IsRefusedByAnotherSecret) {
    auto token = issue_token(hs_options(), user_id{"carol"}, now);
    ASSERT_TRUE(token);
    auth_options o = hs_options();
    o.secret = secret + " but different";
    EXPECT_TRUE(refused(make(o).verify(token.value(), now), errc::permission_denied,
                        "signature does not verify"));
}

}  // namespace
}  // namespace migops::api
