#include "api/webhook.h"

#include <array>
#include <atomic>
#include <mutex>

#include "api/curl_support.h"

namespace migops::api {

namespace {

// Of a receiver's answer, only this much is kept (for the failure reason).
constexpr std::size_t answer_kept = 512;

constexpr long http_ok_min = 200;
constexpr long http_ok_end = 300;
constexpr long http_redirect_min = 300;
constexpr long http_client_error_end = 500;
// Client errors that say "try again": timeout, too early, too many requests.
constexpr std::array<long, 3> http_retry_later = {408, 425, 429};

std::size_t keep_answer(char* data, std::size_t size, std::size_t count, void* user) {
    auto* answer = static_cast<std::string*>(user);
    const std::size_t n = size * count;
    if (answer->size() < answer_kept)
        answer->append(data, std::min(n, answer_kept - answer->size()));
    return n;
}

class curl_webhook_transport final : public webhook_transport {
  public:
    explicit curl_webhook_transport(std::chrono::milliseconds timeout) : timeout_(timeout) {
        init_curl();
        handle_ = curl_easy_init();
    }
    ~curl_webhook_transport() override {
        if (handle_) curl_easy_cleanup(handle_);
    }
    curl_webhook_transport(const curl_webhook_transport&) = delete;
    curl_webhook_transport& operator=(const curl_webhook_transport&) = delete;

    delivery_outcome post(const std::string& url, const headers& h,
                          const std::string& body) override {
        std::lock_guard lock(mutex_);
        if (!handle_) return {false, false, "webhook: curl could not start"};
        if (cancelled_.load()) return {false, false, "webhook: stopping"};
        CURL* c = handle_;
        curl_easy_reset(c);  // keeps the connections for the next POST
        std::array<char, CURL_ERROR_SIZE> error{};
        std::string answer;
        curl_slist* list = nullptr;
        for (const auto& [name, value] : h)
            list = curl_slist_append(list, (name + ": " + value).c_str());
        list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error.data());
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, cancel_on_flag);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &cancelled_);
        const CURLcode rc = curl_easy_perform(c);
        curl_slist_free_all(list);
        if (rc != CURLE_OK) {
            std::string reason = "webhook: " + std::string(curl_easy_strerror(rc));
            if (error[0] != '\0') reason += ": " + std::string(error.data());
            return {false, false, reason};
        }
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status >= http_ok_min && status < http_ok_end) return {true, false, ""};
        for (auto& ch : answer)
            if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
        std::string reason = "webhook: the receiver answered " + std::to_string(status);
        if (!answer.empty()) reason += ": " + answer;
        const bool retry_later = std::find(http_retry_later.begin(), http_retry_later.end(),
                                           status) != http_retry_later.end();
        const bool permanent =
            status >= http_redirect_min && status < http_client_error_end && !retry_later;
        return {false, permanent, reason};
    }

    void cancel() override { cancelled_.store(true); }

  private:
    std::chrono::milliseconds timeout_;
    std::mutex mutex_;
    CURL* handle_ = nullptr;
    std::atomic<bool> cancelled_{false};
};

}  // namespace

result<void> check_webhook_url(const std::string& url) {
    auto u = parse_url(url);
    const bool ok =
        u && (u.value().scheme == "http" || u.value().scheme == "https") && !u.value().host.empty();
    if (!ok)
        return failure(errc::invalid_argument,
                       "webhook_urls: \"" + url +
                           "\" is not an http:// or https:// URL like https://hooks.example.com/x");
    return success();
}

std::unique_ptr<webhook_transport> make_webhook_transport(std::chrono::milliseconds timeout) {
    return std::make_unique<curl_webhook_transport>(timeout);
}

}  // namespace migops::api
