#pragma once
// Process-wide structured logging (spdlog): text for people, JSON lines for
// log collectors.

#include <string>

#include "events/result.h"

namespace migops::api {

result<void> configure_logging(const std::string& format, const std::string& level);

}  // namespace migops::api
