#pragma once
// The OpenAPI 3.1 document of the whole HTTP API (api/openapi.json), compiled
// into the binary by cmake/embed_file.cmake and served at GET /openapi.json.
// tests/unit/openapi_test.cpp keeps it equal to the route table.

#include <string_view>

namespace migops::api {

// The document's JSON text.
std::string_view openapi_document();

}  // namespace migops::api
