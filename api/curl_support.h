#pragma once
// What the libcurl transports (smtp.cpp, webhook.cpp) share: the one-time
// global set-up, URL parsing with curl's own parser (so that what is checked
// is what curl will use) and the progress hook that ends a transfer when it
// is cancelled.

#include <atomic>
#include <string>

#include <curl/curl.h>

#include "events/result.h"

namespace migops::api {

void init_curl();

// The parts of a URL; empty when absent.
struct url_parts {
    std::string scheme;
    std::string host;
    std::string port;
    std::string path;
    std::string query;
    std::string fragment;
    std::string user;
};
result<url_parts> parse_url(const std::string& url);

// CURLOPT_XFERINFOFUNCTION with an std::atomic<bool> (cancelled) as data.
int cancel_on_flag(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

}  // namespace migops::api
