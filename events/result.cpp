#include "events/result.h"

namespace migops {

std::string_view to_string(errc code) {
    switch (code) {
        case errc::invalid_argument:
            return "invalid_argument";
        case errc::not_found:
            return "not_found";
        case errc::already_exists:
            return "already_exists";
        case errc::rule_refused:
            return "rule_refused";
        case errc::permission_denied:
            return "permission_denied";
        case errc::busy:
            return "busy";
        case errc::unavailable:
            return "unavailable";
        case errc::io_error:
            return "io_error";
        case errc::corruption:
            return "corruption";
        case errc::limit_exceeded:
            return "limit_exceeded";
        case errc::precondition_failed:
            return "precondition_failed";
        case errc::shutting_down:
            return "shutting_down";
        case errc::locked:
            return "locked";
    }
    return "unknown";
}

}  // namespace migops
