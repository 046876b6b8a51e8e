#pragma once
// The dashboard's files (the repository's web/ folder, or web_dir): GET /
// answers web_dir/index.html and GET /assets/{file} answers
// web_dir/assets/<file>. No token is needed: the files hold no data, the
// pages call the API with the user's token. Only a plain file name of a
// known type inside web_dir/assets is served; a name with a path in it, a
// hidden or unknown file is not (so web/tests, for one, never is). Each
// answer carries an ETag of its content and Cache-Control: no-cache, so a
// browser revalidates (304) and sees an edited file at once.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "api/router.h"

namespace migops::api {

// The web_dir used when none is configured: the web/ folder of the source
// tree the binary was built from.
std::filesystem::path default_web_dir();

// The media type of a file served by name, by its extension; nullopt for
// a type the dashboard does not serve.
std::optional<std::string> static_media_type(std::string_view file_name);

// Whether a decoded path segment is a plain file name that may be looked up
// under assets/: letters, digits, '-', '_' and '.', not starting with '.'.
bool is_plain_file_name(std::string_view name);

// The answer to GET of one file of dir (a relative path, checked by the
// caller), honouring the request's If-None-Match.
http_response static_file_response(const std::filesystem::path& dir, std::string_view relative,
                                   const http_request& req);

// Registers GET / and GET /assets/{file}, served from web_dir.
void add_static_routes(router& r, const std::filesystem::path& web_dir);

}  // namespace migops::api
