// The wire codec of events (events/codec.h): from_cloudevent on any JSON,
// as the export verifier and the Kafka catch-up meet it.
//
// Properties: an event that decodes is written out as a CloudEvent that
// decodes to the same event, with the same canonical JSON and hash; its
// canonical JSON is itself JSON that canonicalises to the same text; its
// storage form decodes to the same event.

#include <cstdint>
#include <string>

#include <boost/json/parse.hpp>

#include "events/codec.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace migops;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(fuzz::text_of(data, size), ec);
    if (ec || !v.is_object()) return 0;
    auto decoded = events::from_cloudevent(v.get_object());
    if (!decoded) {
        MIGOPS_FUZZ_CHECK(decoded.error().code == errc::invalid_argument);
        return 0;
    }
    const auto& e = decoded.value();
    const auto o = events::to_cloudevent(e);
    auto again = events::from_cloudevent(o);
    MIGOPS_FUZZ_CHECK(again && again.value() == e);
    const auto canonical = events::canonical_json(o);
    MIGOPS_FUZZ_CHECK(events::valid_utf8(canonical));
    MIGOPS_FUZZ_CHECK(events::canonical_json(events::to_cloudevent(again.value())) == canonical);
    MIGOPS_FUZZ_CHECK(events::canonical_json(boost::json::parse(canonical)) == canonical);
    MIGOPS_FUZZ_CHECK(events::compute_hash(again.value()) == events::compute_hash(e));

    auto stored = events::decode_binary(events::encode_binary(e));
    MIGOPS_FUZZ_CHECK(stored && stored.value() == e);
    return 0;
}
