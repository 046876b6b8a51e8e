#pragma once
// Webhook POSTs with libcurl: the body as it is, the given headers,
// redirects not followed. 2xx is delivered; 4xx (but 408, 425 and 429) and
// 3xx are permanent failures; the rest, and no answer, are retried.

#include <chrono>
#include <memory>
#include <string>

#include "api/delivery.h"
#include "events/result.h"

namespace migops::api {

// Checks one webhook URL: http:// or https:// with a host.
result<void> check_webhook_url(const std::string& url);

std::unique_ptr<webhook_transport> make_webhook_transport(std::chrono::milliseconds timeout);

}  // namespace migops::api
