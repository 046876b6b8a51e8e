// The storage codec of events (events/codec.h): decode_binary on any bytes.
//
// Properties: an event that decodes encodes to bytes that decode to the
// same event, and encoding that again gives the same bytes; its hash does
// not depend on which of the two was hashed; its CloudEvent form decodes to
// the same event, unless one of its times lies outside the years 0000 to
// 9999 that RFC 3339 can write (stored events are written by this code,
// which never makes such a time; a damaged store may hold one, and its
// export then says so when it is read back).

#include <cstdint>
#include <string>

#include "events/codec.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace migops;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto decoded = events::decode_binary(fuzz::text_of(data, size));
    if (!decoded) {
        MIGOPS_FUZZ_CHECK(decoded.error().code == errc::corruption);
        return 0;
    }
    const auto& e = decoded.value();
    const auto bytes = events::encode_binary(e);
    auto again = events::decode_binary(bytes);
    MIGOPS_FUZZ_CHECK(again && again.value() == e);
    MIGOPS_FUZZ_CHECK(events::encode_binary(again.value()) == bytes);
    MIGOPS_FUZZ_CHECK(events::compute_hash(again.value()) == events::compute_hash(e));

    auto wire = events::from_cloudevent(events::to_cloudevent(e));
    if (wire) {
        MIGOPS_FUZZ_CHECK(wire.value() == e);
    } else {
        MIGOPS_FUZZ_CHECK(wire.error().message.find("RFC 3339") != std::string::npos);
    }
    return 0;
}
