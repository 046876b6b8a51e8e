#pragma once
// As-of reads (projections/as_of.h), for audit teams:
//   GET /v1/journeys/{journey}?as_of=<RFC 3339> | ?as_of_position=<n>
//       the board of the journey as it was (the live board's shape, plus
//       "as_of": the last event of the space it includes and that event's
//       time);
//   GET /v1/spaces/{space}/members[?as_of=… | ?as_of_position=…]
//       who holds (held) which role in the space and its journeys.
// A position is one of the space's partition. Whoever may read the space
// now may read its past.

#include <string_view>

#include "api/routes.h"

namespace migops::api {

// Whether the target has a query string with a parameter in it (the live
// reads take none; a bare "?" is none).
bool has_query(std::string_view target);

void journey_as_of(const route_deps& deps, const http_request& req, const principal& who,
                   const journey_id& journey, const responder& respond);

void space_members(const route_deps& deps, const http_request& req, const principal& who,
                   const space_id& space, const responder& respond);

}  // namespace migops::api
