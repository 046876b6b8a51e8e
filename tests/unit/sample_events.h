#pragma once
// Fixed sample values of every event type, shared by the codec and golden
// tests. Each type must have a sample: sample_of<E>() fails to compile when
// a new type is added without one.

#include "events/catalogue.h"
#include "events/envelope.h"

namespace migops::testing {

template <class E>
E sample_of();

template <>
inline events::space_created sample_of() {
    return {"Data centre exit", "Move the Frankfurt estate — \"all\" of it\n\tby Q3"};
}
template <>
inline events::space_renamed sample_of() {
    return {"DC exit 2027"};
}
template <>
inline events::space_described sample_of() {
    return {"Üñíçødé and control \x01 characters"};
}
template <>
inline events::space_deleted sample_of() {
    return {};
}

// A sealed envelope with fixed ids, time and chain link around payload p.
inline events::envelope sample_envelope(events::payload p) {
    events::envelope e;
    e.event_id = "0123456789abcdef0123456789abcdef";
    e.partition = 3;
    e.space = space_id{"space-1"};
    e.time = timestamp{1'795'000'000'123'456};
    e.actor = user_id{"alice"};
    e.actor_role = "space_admin";
    e.correlation_id = "req-1";
    e.causation_id = "cmd-1";
    e.data = std::move(p);
    return e;
}

}  // namespace migops::testing
