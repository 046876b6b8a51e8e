#pragma once
// Mail over SMTP with libcurl: one message per call, one recipient per
// message, the connection kept between calls when the server allows it.

#include <chrono>
#include <memory>
#include <string>

#include "api/delivery.h"
#include "events/result.h"

namespace migops::api {

struct smtp_options {
    std::string url;      // smtp://host[:port] or smtps://host[:port]
    std::string tls;      // none | starttls | tls (implicit, smtps://)
    std::string ca_file;  // PEM certificates trusted for the server's; empty: the system's
    std::string user;     // AUTH when set
    std::string password;
    std::string from;                          // the envelope sender (MAIL FROM)
    std::chrono::milliseconds timeout{15000};  // per message, connecting included
};

// Checks the URL alone: smtp:// or smtps:// with a host, and nothing else.
result<void> check_smtp_url(const std::string& url);

// Checks the URL and the TLS mode together: smtp:// with none or starttls
// (the default), smtps:// with tls (the default); no path, query or
// credentials in the URL. Returns the options with the TLS mode filled in.
result<smtp_options> check_smtp(smtp_options o);

std::unique_ptr<mail_transport> make_smtp_transport(const smtp_options& o);

}  // namespace migops::api
