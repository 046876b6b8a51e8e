#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/artifacts.h"
#include "tests/unit/temp_dir.h"

namespace migops::engine {
namespace {

using namespace std::string_view_literals;

TEST(MediaTypes, AllowedTypesByExtensionAndContent) {
    EXPECT_EQ(detect_media_type("plan.pdf", "%PDF-1.7\n").value(), "application/pdf");
    EXPECT_EQ(detect_media_type("Plan.PDF", "%PDF-1.4").value(), "application/pdf");
    EXPECT_EQ(detect_media_type("shot.png", "\x89PNG\r\n\x1A\n...."sv).value(), "image/png");
    EXPECT_EQ(detect_media_type("photo.jpg", "\xFF\xD8\xFF\xE0"sv).value(), "image/jpeg");
    EXPECT_EQ(detect_media_type("photo.jpeg", "\xFF\xD8\xFF\xE0"sv).value(), "image/jpeg");
    EXPECT_EQ(detect_media_type("deck.pptx", "PK\x03\x04rest"sv).value(),
              "application/vnd.openxmlformats-officedocument.presentationml.presentation");
    EXPECT_EQ(detect_media_type("sheet.xlsx", "PK\x03\x04"sv).value(),
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    EXPECT_EQ(detect_media_type("old.doc", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv).value(),
              "application/msword");
    EXPECT_EQ(detect_media_type("data.csv", "a,b\n1,2\n").value(), "text/csv");
    EXPECT_EQ(detect_media_type("notes.txt", "").value(), "text/plain");
}

TEST(MediaTypes, RefusesOtherTypesAndLyingContent) {
    auto exe = detect_media_type("setup.exe", "MZ");
    ASSERT_FALSE(exe);
    EXPECT_NE(exe.error().message.find("files of type .exe are not allowed"), std::string::npos);
    EXPECT_FALSE(detect_media_type("noextension", "%PDF-"));
    EXPECT_FALSE(detect_media_type("evil.pdf", "\x89PNG\r\n\x1A\n"sv)) << "a PNG named .pdf";
    EXPECT_FALSE(detect_media_type("evil.txt", "MZ\0\0binary"sv)) << "binary named .txt";
    EXPECT_FALSE(detect_media_type("evil.docx", "%PDF-")) << "not a zip";
    EXPECT_FALSE(detect_media_type("short.png", "\x89PN"sv));
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::size_t files_in(const std::filesystem::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
}

TEST(BlobStore, StoresContentUnderItsHash) {
    testing_support::temp_dir dir;
    auto store = open_file_blob_store(dir.path() / "blobs");
    ASSERT_TRUE(store) << store.error().message;
    auto w = store.value()->begin(1024);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w.value()->write("hel"));
    ASSERT_TRUE(w.value()->write("lo"));
    auto info = w.value()->commit();
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info.value().sha256,
              "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    EXPECT_EQ(info.value().size, 5u);
    auto path = store.value()->locate(info.value().sha256);
    ASSERT_TRUE(path);
    EXPECT_EQ(read_all(path.value()), "hello");
    EXPECT_EQ(path.value().parent_path().filename(), "2c");

    // The same content again: one stored copy.
    auto again = store.value()->begin(1024).value();
    ASSERT_TRUE(again->write("hello"));
    EXPECT_EQ(again->commit().value().sha256, info.value().sha256);
    EXPECT_EQ(files_in(dir.path() / "blobs" / "2c"), 1u);
    EXPECT_EQ(files_in(dir.path() / "blobs" / "tmp"), 0u);
}

TEST(BlobStore, OversizeAndAbandonedWritesLeaveNothing) {
    testing_support::temp_dir dir;
    auto store = open_file_blob_store(dir.path() / "blobs").value();
    {
        auto w = store->begin(4).value();
        auto r = w->write("too long");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, errc::limit_exceeded);
    }
    {
        auto w = store->begin(100).value();
        ASSERT_TRUE(w->write("never committed"));
    }
    EXPECT_EQ(files_in(dir.path() / "blobs" / "tmp"), 0u);
    EXPECT_EQ(files_in(dir.path() / "blobs"), 1u) << "only tmp/";
}

TEST(BlobStore, ReopeningClearsLeftoversOfACrash) {
    testing_support::temp_dir dir;
    { auto store = open_file_blob_store(dir.path() / "blobs").value(); }
    std::ofstream(dir.path() / "blobs" / "tmp" / "crashed.part") << "half";
    auto store = open_file_blob_store(dir.path() / "blobs").value();
    EXPECT_EQ(files_in(dir.path() / "blobs" / "tmp"), 0u);
}

TEST(BlobStore, LocateRefusesBadHashes) {
    testing_support::temp_dir dir;
    auto store = open_file_blob_store(dir.path() / "blobs").value();
    EXPECT_EQ(store->locate("../../etc/passwd").error().code, errc::invalid_argument);
    EXPECT_EQ(store->locate(std::string(64, 'A')).error().code, errc::invalid_argument);
    EXPECT_EQ(store->locate(std::string(64, 'a')).error().code, errc::not_found);
}

}  // namespace
}  // namespace migops::engine
