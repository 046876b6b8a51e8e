#pragma once
// The two ways a notification leaves the server, as interfaces, so that the
// notifier can be tested without a network: mail (api/smtp.h) and webhook
// POSTs (api/webhook.h), both over libcurl in the server.

#include <string>
#include <utility>
#include <vector>

namespace migops::api {

// One attempt's outcome. A permanent failure (the server refused for good:
// an SMTP 5xx, an HTTP 4xx) is not retried.
struct delivery_outcome {
    bool delivered = false;
    bool permanent = false;
    std::string reason;  // why it failed, for the log and the notification.failed event
};

// Sends one message; blocking, on the notifier's thread. cancel() makes an
// attempt in progress (and later ones) end at once, from any thread.
class mail_transport {
  public:
    virtual ~mail_transport() = default;
    // `message` is the whole RFC 5322 text (headers and body, CRLF).
    virtual delivery_outcome send(const std::string& to, const std::string& message) = 0;
    virtual void cancel() = 0;
};

class webhook_transport {
  public:
    using headers = std::vector<std::pair<std::string, std::string>>;
    virtual ~webhook_transport() = default;
    virtual delivery_outcome post(const std::string& url, const headers& h,
                                  const std::string& body) = 0;
    virtual void cancel() = 0;
};

}  // namespace migops::api
