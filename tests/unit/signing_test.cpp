// Signed chain heads: Ed25519 keys from PEM files sign checkpoints, and a
// checkpoint verifies only with its own key and its own content.

#include <gtest/gtest.h>

#include <fstream>

#include "events/codec.h"
#include "events/signing.h"
#include "tests/unit/ed25519_keys.h"
#include "tests/unit/temp_dir.h"

namespace migops::events {
namespace {

using testing_support::temp_dir;
using testing_support::write_ed25519_key;

class SigningTest : public ::testing::Test {
  protected:
    void SetUp() override {
        keys_ = write_ed25519_key(dir_.path(), "a");
        other_ = write_ed25519_key(dir_.path(), "b");
    }
    chain_checkpoint signed_one() const {
        auto signer = checkpoint_signer::load(keys_.private_pem);
        EXPECT_TRUE(signer) << signer.error().message;
        auto c = signer.value().sign(3, chain_head{41, sha256("head")},
                                     timestamp{1'795'000'000'000'000});
        EXPECT_TRUE(c) << c.error().message;
        return c.value();
    }

    temp_dir dir_;
    testing_support::key_files keys_;
    testing_support::key_files other_;
};

TEST_F(SigningTest, AGoodSignatureVerifies) {
    const auto c = signed_one();
    EXPECT_EQ(c.partition, 3u);
    EXPECT_EQ(c.position, 41u);
    EXPECT_EQ(c.head_hash, sha256("head"));
    EXPECT_EQ(c.algorithm, "ed25519");
    EXPECT_EQ(c.signature.size(), 128u);
    auto key = checkpoint_key::load(keys_.public_pem);
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key.value().key_id(), c.key_id);
    auto ok = key.value().verify(c);
    EXPECT_TRUE(ok) << ok.error().message;
}

TEST_F(SigningTest, TheSignedMessageIsTheCanonicalDataWithoutTheSignature) {
    chain_checkpoint c;
    c.partition = 3;
    c.position = 6;
    c.head_hash = hash_bytes{};
    c.signed_at = timestamp{1'795'000'000'123'456};
    c.algorithm = "ed25519";
    c.key_id = "k";
    c.signature = "ff";
    EXPECT_EQ(checkpoint_message(c),
              "migops chain checkpoint v1\n"
              "{\"algorithm\":\"ed25519\",\"head_hash\":\"" +
                  std::string(64, '0') +
                  "\",\"key_id\":\"k\",\"partition\":3,\"position\":6,"
                  "\"signed_at\":\"2026-11-18T11:06:40.123456Z\"}");
}

TEST_F(SigningTest, APublicKeyIsAlsoReadFromThePrivateKeyFile) {
    auto from_private = checkpoint_key::load(keys_.private_pem);
    ASSERT_TRUE(from_private) << from_private.error().message;
    EXPECT_TRUE(from_private.value().verify(signed_one()));
}

TEST_F(SigningTest, AnotherKeyDoesNotVerify) {
    auto key = checkpoint_key::load(other_.public_pem);
    ASSERT_TRUE(key);
    auto r = key.value().verify(signed_one());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::corruption);
    EXPECT_NE(r.error().message.find("not by the key given"), std::string::npos)
        << r.error().message;

    // Claiming the other key's id does not help: the signature is checked.
    auto c = signed_one();
    c.key_id = key.value().key_id();
    auto forged = key.value().verify(c);
    ASSERT_FALSE(forged);
    EXPECT_NE(forged.error().message.find("does not match"), std::string::npos)
        << forged.error().message;
}

TEST_F(SigningTest, ATamperedHeadPositionOrTimeDoesNotVerify) {
    auto key = checkpoint_key::load(keys_.public_pem);
    ASSERT_TRUE(key);
    auto head = signed_one();
    head.head_hash[0] ^= 1;
    EXPECT_FALSE(key.value().verify(head));
    auto pos = signed_one();
    pos.position += 1;
    EXPECT_FALSE(key.value().verify(pos));
    auto part = signed_one();
    part.partition = 4;
    EXPECT_FALSE(key.value().verify(part));
    auto time = signed_one();
    time.signed_at.micros += 1;
    EXPECT_FALSE(key.value().verify(time));
    auto sig = signed_one();
    sig.signature[0] = sig.signature[0] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(key.value().verify(sig));
    auto short_sig = signed_one();
    short_sig.signature.resize(10);
    auto r = key.value().verify(short_sig);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("128 hex digits"), std::string::npos) << r.error().message;
}

TEST_F(SigningTest, BadKeyFilesAreRefusedWithTheReason) {
    auto missing = checkpoint_signer::load(dir_.path() / "none.pem");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("cannot read"), std::string::npos);

    std::ofstream(dir_.path() / "junk.pem") << "not a key\n";
    auto junk = checkpoint_signer::load(dir_.path() / "junk.pem");
    ASSERT_FALSE(junk);
    EXPECT_NE(junk.error().message.find("is not a PEM private key"), std::string::npos)
        << junk.error().message;
    EXPECT_FALSE(checkpoint_key::load(dir_.path() / "junk.pem"));

    // A public key cannot sign.
    EXPECT_FALSE(checkpoint_signer::load(keys_.public_pem));

    auto rsa = checkpoint_signer::load(testing_support::write_rsa_key(dir_.path()));
    ASSERT_FALSE(rsa);
    EXPECT_NE(rsa.error().message.find("Ed25519"), std::string::npos) << rsa.error().message;
}

}  // namespace
}  // namespace migops::events
