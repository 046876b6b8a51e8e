#include "engine/artifacts.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <openssl/evp.h>

#include "events/types.h"

namespace migops::engine {

namespace {

struct file_type {
    std::string_view extension;
    std::string_view media_type;
    enum class content { text, pdf, ole, zip, jpeg, png } magic;
};

constexpr std::array<file_type, 11> allowed_types{{
    {"csv", "text/csv", file_type::content::text},
    {"txt", "text/plain", file_type::content::text},
    {"pdf", "application/pdf", file_type::content::pdf},
    {"doc", "application/msword", file_type::content::ole},
    {"ppt", "application/vnd.ms-powerpoint", file_type::content::ole},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     file_type::content::zip},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
     file_type::content::zip},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     file_type::content::zip},
    {"jpeg", "image/jpeg", file_type::content::jpeg},
    {"jpg", "image/jpeg", file_type::content::jpeg},
    {"png", "image/png", file_type::content::png},
}};

bool starts_with(std::string_view head, std::string_view magic) {
    return head.substr(0, magic.size()) == magic;
}

bool content_matches(file_type::content c, std::string_view head) {
    using namespace std::string_view_literals;
    switch (c) {
        case file_type::content::text:
            // No NUL byte in what we saw: text, not a binary renamed .txt.
            return head.find('\0') == std::string_view::npos;
        case file_type::content::pdf:
            return starts_with(head, "%PDF-");
        case file_type::content::ole:
            return starts_with(head, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv);
        case file_type::content::zip:
            return starts_with(head, "PK\x03\x04"sv);
        case file_type::content::jpeg:
            return starts_with(head, "\xFF\xD8\xFF"sv);
        case file_type::content::png:
            return starts_with(head, "\x89PNG\r\n\x1A\n"sv);
    }
    return false;
}

std::string hex(const unsigned char* bytes, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    return out;
}

error errno_error(const std::string& what) {
    return make_error(errno == ENOSPC ? errc::unavailable : errc::io_error,
                      what + ": " + std::strerror(errno));
}

result<void> sync_dir(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return failure(errno_error("cannot open " + dir.string()));
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return failure(errno_error("cannot sync " + dir.string()));
    return success();
}

class file_blob_writer final : public blob_writer {
  public:
    file_blob_writer(std::filesystem::path root, std::filesystem::path temp, int fd,
                     std::uint64_t max)
        : root_(std::move(root)),
          temp_(std::move(temp)),
          fd_(fd),
          max_(max),
          digest_(EVP_MD_CTX_new()) {
        EVP_DigestInit_ex(digest_, EVP_sha256(), nullptr);
    }
    ~file_blob_writer() override {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) {
            std::error_code ec;
            std::filesystem::remove(temp_, ec);
        }
        EVP_MD_CTX_free(digest_);
    }
    file_blob_writer(const file_blob_writer&) = delete;
    file_blob_writer& operator=(const file_blob_writer&) = delete;

    result<void> write(std::string_view chunk) override {
        if (size_ + chunk.size() > max_)
            return failure(errc::limit_exceeded,
                           "the file is larger than " + std::to_string(max_) + " bytes");
        EVP_DigestUpdate(digest_, chunk.data(), chunk.size());
        while (!chunk.empty()) {
            const ssize_t n = ::write(fd_, chunk.data(), chunk.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                return failure(errno_error("cannot write " + temp_.string()));
            }
            chunk.remove_prefix(static_cast<std::size_t>(n));
            size_ += static_cast<std::size_t>(n);
        }
        return success();
    }

    result<blob_info> commit() override {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(digest_, md, &len);
        blob_info info{hex(md, len), size_};
        if (::fsync(fd_) != 0) return failure(errno_error("cannot sync " + temp_.string()));
        ::close(fd_);
        fd_ = -1;
        const auto dir = root_ / info.sha256.substr(0, 2);
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec)
            return failure(errc::io_error, "cannot create " + dir.string() + ": " + ec.message());
        const auto target = dir / info.sha256;
        // Same content already stored: keep the stored one.
        if (std::filesystem::exists(target, ec)) {
            std::filesystem::remove(temp_, ec);
            committed_ = true;
            return info;
        }
        if (::rename(temp_.c_str(), target.c_str()) != 0)
            return failure(errno_error("cannot move the blob into place"));
        committed_ = true;
        if (auto r = sync_dir(dir); !r) return failure(r.error());
        if (auto r = sync_dir(root_); !r) return failure(r.error());
        return info;
    }

  private:
    std::filesystem::path root_;
    std::filesystem::path temp_;
    int fd_;
    std::uint64_t max_;
    std::uint64_t size_ = 0;
    bool committed_ = false;
    EVP_MD_CTX* digest_;
};

class file_blob_store final : public blob_store {
  public:
    explicit file_blob_store(std::filesystem::path dir) : dir_(std::move(dir)) {}

    result<std::unique_ptr<blob_writer>> begin(std::uint64_t max_size) override {
        const auto temp = dir_ / "tmp" / (random_id() + ".part");
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd < 0) return failure(errno_error("cannot create " + temp.string()));
        return std::unique_ptr<blob_writer>(new file_blob_writer(dir_, temp, fd, max_size));
    }

    result<std::filesystem::path> locate(std::string_view sha256) const override {
        if (sha256.size() != 64 ||
            sha256.find_first_not_of("0123456789abcdef") != std::string_view::npos)
            return failure(errc::invalid_argument, "not a SHA-256");
        auto path = dir_ / std::string(sha256.substr(0, 2)) / std::string(sha256);
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec))
            return failure(errc::not_found, "blob " + std::string(sha256) + " is not stored");
        return path;
    }

  private:
    std::filesystem::path dir_;
};

}  // namespace

bool is_evidence_media_type(std::string_view media_type) {
    return std::any_of(allowed_types.begin(), allowed_types.end(),
                       [&](const file_type& t) { return t.media_type == media_type; });
}

std::string evidence_media_types() {
    std::string out;
    for (const auto& t : allowed_types) {
        if (out.find(t.media_type) != std::string::npos) continue;  // jpeg and jpg
        if (!out.empty()) out += ", ";
        out += t.media_type;
    }
    return out;
}

result<std::string> detect_media_type(std::string_view name, std::string_view head) {
    const auto dot = name.rfind('.');
    std::string ext = dot == std::string_view::npos ? "" : std::string(name.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const auto& t : allowed_types) {
        if (t.extension != ext) continue;
        if (!content_matches(t.magic, head))
            return failure(errc::invalid_argument,
                           "the content of " + std::string(name) + " is not a ." + ext + " file");
        return std::string(t.media_type);
    }
    return failure(errc::invalid_argument,
                   "files of type ." + (ext.empty() ? std::string("(none)") : ext) +
                       " are not allowed (csv, pdf, doc, docx, ppt, pptx, xlsx, txt, jpeg, png)");
}

result<std::unique_ptr<blob_store>> open_file_blob_store(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir / "tmp", ec);
    if (ec) return failure(errc::io_error, "cannot create " + dir.string() + ": " + ec.message());
    // Leftovers of writes that never committed (a crash mid-upload).
    for (const auto& entry : std::filesystem::directory_iterator(dir / "tmp", ec))
        std::filesystem::remove(entry.path(), ec);
    return std::unique_ptr<blob_store>(new file_blob_store(dir));
}

}  // namespace migops::engine
