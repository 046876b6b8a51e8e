// What a WebSocket client of /v1/stream sends (api/stream_request.h): the
// first message with its token, and the upgrade request's target with its
// filters and cursor.
//
// Properties: a token is given back exactly as the message's JSON string
// says and survives being written out again; accepted filters hold only
// printable ASCII ids whose task, journey and space agree; a cursor that
// parses prints back to a cursor that parses to the same positions.

#include <cstdint>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/stream_request.h"
#include "engine/commands.h"
#include "engine/state.h"
#include "events/event_log.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace migops;
using namespace migops::api;

bool printable_id(const std::string& s) {
    for (const char c : s)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7E)
            return false;
    return !s.empty();
}

void check_cursor(const std::vector<position>& from, std::uint32_t partitions,
                  std::optional<partition_id> only) {
    MIGOPS_FUZZ_CHECK(from.size() == partitions);
    const auto text = format_cursor(from, only);
    const auto again = parse_cursor(text, partitions, only);
    MIGOPS_FUZZ_CHECK(again);
    if (only) {
        MIGOPS_FUZZ_CHECK(again.value().at(*only) == from.at(*only));
    } else {
        MIGOPS_FUZZ_CHECK(again.value() == from);
    }
}

void check_target(std::string_view target, std::uint32_t partitions) {
    auto r = parse_stream_target(target, partitions);
    if (!r) {
        MIGOPS_FUZZ_CHECK(r.error().code == errc::invalid_argument);
        return;
    }
    const auto& f = r.value().filter;
    if (f.task) {
        MIGOPS_FUZZ_CHECK(printable_id(f.task->value));
        MIGOPS_FUZZ_CHECK(f.journey && engine::journey_of_id(f.task->value) == *f.journey);
    }
    if (f.journey) {
        MIGOPS_FUZZ_CHECK(printable_id(f.journey->value));
        MIGOPS_FUZZ_CHECK(f.space && engine::space_of_id(f.journey->value) == *f.space);
    }
    if (f.space) MIGOPS_FUZZ_CHECK(printable_id(f.space->value));
    if (r.value().from) {
        std::optional<partition_id> only;
        if (f.space) only = events::partition_of(*f.space, partitions);
        check_cursor(*r.value().from, partitions, only);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::text_of(data, size);

    if (auto token = parse_stream_message(text)) {
        const auto v = boost::json::parse(text);
        MIGOPS_FUZZ_CHECK(v.as_object().at("token").as_string() == token.value());
        const auto written = boost::json::serialize(boost::json::object{{"token", token.value()}});
        auto again = parse_stream_message(written);
        MIGOPS_FUZZ_CHECK(again && again.value() == token.value());
    } else {
        MIGOPS_FUZZ_CHECK(token.error().code == errc::invalid_argument);
    }

    for (const std::uint32_t partitions : {1u, 8u}) {
        check_target(text, partitions);
        check_target("/v1/stream?" + std::string(text), partitions);
        for (const std::optional<partition_id> only :
             {std::optional<partition_id>{}, std::optional<partition_id>{0}}) {
            if (auto cursor = parse_cursor(text, partitions, only))
                check_cursor(cursor.value(), partitions, only);
        }
    }
    return 0;
}
