#include "api/smtp.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <fstream>
#include <mutex>

#include "api/curl_support.h"
#include "api/notification.h"

namespace migops::api {

namespace {

struct upload {
    const std::string* text = nullptr;
    std::size_t at = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* u = static_cast<upload*>(user);
    const std::size_t n = std::min(size * count, u->text->size() - u->at);
    std::copy_n(u->text->data() + u->at, n, buffer);
    u->at += n;
    return n;
}

// SMTP reply codes: 5xx is a permanent refusal (RFC 5321 4.2.1).
constexpr long smtp_permanent_min = 500;
constexpr long smtp_permanent_end = 600;

class smtp_transport final : public mail_transport {
  public:
    explicit smtp_transport(smtp_options o) : options_(std::move(o)) {
        init_curl();
        handle_ = curl_easy_init();
    }
    ~smtp_transport() override {
        if (handle_) curl_easy_cleanup(handle_);
    }
    smtp_transport(const smtp_transport&) = delete;
    smtp_transport& operator=(const smtp_transport&) = delete;

    delivery_outcome send(const std::string& to, const std::string& message) override {
        std::lock_guard lock(mutex_);
        if (!handle_) return {false, false, "smtp: curl could not start"};
        if (cancelled_.load()) return {false, false, "smtp: stopping"};
        CURL* h = handle_;
        // A reset keeps the handle's connections: the next message may go
        // over the same session.
        curl_easy_reset(h);
        std::array<char, CURL_ERROR_SIZE> error{};
        upload body{&message, 0};
        const std::string mail_from = "<" + options_.from + ">";
        curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
        curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str());
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        if (!options_.ca_file.empty())
            curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
        curl_easy_setopt(h, CURLOPT_USE_SSL,
                         options_.tls == "none" ? static_cast<long>(CURLUSESSL_NONE)
                                                : static_cast<long>(CURLUSESSL_ALL));
        if (!options_.user.empty()) {
            curl_easy_setopt(h, CURLOPT_USERNAME, options_.user.c_str());
            curl_easy_setopt(h, CURLOPT_PASSWORD, options_.password.c_str());
        }
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
        curl_easy_setopt(h, CURLOPT_READDATA, &body);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data());
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cancel_on_flag);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &cancelled_);
        const CURLcode rc = curl_easy_perform(h);
        curl_slist_free_all(rcpt);
        if (rc == CURLE_OK) return {true, false, ""};
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        std::string reason = "smtp: " + std::string(curl_easy_strerror(rc));
        if (error[0] != '\0') reason += ": " + std::string(error.data());
        if (code > 0) reason += " (the server answered " + std::to_string(code) + ")";
        const bool permanent = code >= smtp_permanent_min && code < smtp_permanent_end;
        return {false, permanent, reason};
    }

    void cancel() override { cancelled_.store(true); }

  private:
    smtp_options options_;
    std::mutex mutex_;
    CURL* handle_ = nullptr;
    std::atomic<bool> cancelled_{false};
};

}  // namespace

result<void> check_smtp_url(const std::string& url) {
    const std::string example =
        "a URL like smtp://mail.example.com:587 or smtps://mail.example.com";
    auto u = parse_url(url);
    if (!u) return failure(errc::invalid_argument, "smtp_url: \"" + url + "\" is not " + example);
    const auto& p = u.value();
    if (p.scheme != "smtp" && p.scheme != "smtps")
        return failure(errc::invalid_argument,
                       "smtp_url: \"" + url + "\" must start with smtp:// or smtps://");
    if (p.host.empty())
        return failure(errc::invalid_argument, "smtp_url: \"" + url + "\" has no host");
    if (!p.user.empty())
        return failure(errc::invalid_argument,
                       "smtp_url: put credentials in smtp_user and smtp_password, not in the URL");
    if ((!p.path.empty() && p.path != "/") || !p.query.empty() || !p.fragment.empty())
        return failure(errc::invalid_argument, "smtp_url: \"" + url + "\" must be " + example +
                                                   ", without a path or query");
    return success();
}

result<smtp_options> check_smtp(smtp_options o) {
    if (auto r = check_smtp_url(o.url); !r) return failure(r.error());
    const bool implicit_tls = parse_url(o.url).value().scheme == "smtps";
    if (o.tls.empty()) o.tls = implicit_tls ? "tls" : "starttls";
    if (o.tls != "none" && o.tls != "starttls" && o.tls != "tls")
        return failure(errc::invalid_argument,
                       "smtp_tls must be one of none, starttls, tls, not \"" + o.tls + "\"");
    if (o.tls == "tls" && !implicit_tls)
        return failure(errc::invalid_argument,
                       "smtp_tls tls (TLS from the first byte) needs an smtps:// smtp_url; use "
                       "starttls or none with smtp://");
    if (o.tls != "tls" && implicit_tls)
        return failure(
            errc::invalid_argument,
            "smtp_url smtps:// is TLS from the first byte: smtp_tls must be tls, not " + o.tls);
    if (o.from.empty())
        return failure(errc::invalid_argument,
                       "smtp_from is required with smtp_url: the sender's address, like "
                       "migops@example.com");
    if (!valid_address(o.from))
        return failure(errc::invalid_argument,
                       "smtp_from: \"" + o.from + "\" is not an address like migops@example.com");
    if (o.user.empty() && !o.password.empty())
        return failure(errc::invalid_argument, "smtp_password is set but smtp_user is not");
    if (!o.ca_file.empty()) {
        if (o.tls == "none")
            return failure(errc::invalid_argument,
                           "smtp_ca_file is set but smtp_tls is none: nothing would use it");
        std::ifstream ca(o.ca_file);
        std::string first;
        if (!ca || !std::getline(ca, first) || !first.starts_with("-----BEGIN "))
            return failure(errc::invalid_argument,
                           "smtp_ca_file: " + o.ca_file + " is not a readable PEM file");
    }
    return o;
}

std::unique_ptr<mail_transport> make_smtp_transport(const smtp_options& o) {
    return std::make_unique<smtp_transport>(o);
}

}  // namespace migops::api
