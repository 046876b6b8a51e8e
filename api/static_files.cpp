#include "api/static_files.h"

#include <array>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "api/problems.h"
#include "events/codec.h"

namespace migops::api {

namespace {

// The dashboard's files are small; anything larger is not one of them.
constexpr std::uintmax_t max_file_bytes = std::uintmax_t{4} * 1024 * 1024;
// Hex digits of the content's SHA-256 in an ETag.
constexpr std::size_t etag_hex_digits = 32;
constexpr std::size_t max_shown_name = 64;

// The page loads only its own files and talks only to its own server.
constexpr const char* page_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

http_response not_found(std::string_view what) {
    return to_response(make_problem(
        404, "/problems/not-found", "No such resource",
        std::string(what.substr(0, max_shown_name)) + " is not a file of the dashboard"));
}

http_response bad_name(std::string_view name) {
    return to_response(
        make_problem(400, "/problems/invalid-argument", "The request is not valid",
                     "\"" + std::string(name.substr(0, max_shown_name)) +
                         "\" is not a file name: the dashboard serves plain names under /assets/"));
}

// Whether path, once symbolic links and dots are resolved, lies inside root.
bool inside(const std::filesystem::path& root, const std::filesystem::path& path) {
    std::error_code ec;
    const auto base = std::filesystem::canonical(root, ec);
    if (ec) return false;
    const auto real = std::filesystem::weakly_canonical(path, ec);
    if (ec) return false;
    auto b = base.begin();
    auto r = real.begin();
    for (; b != base.end(); ++b, ++r)
        if (r == real.end() || *r != *b) return false;
    return r != real.end();
}

}  // namespace

std::filesystem::path default_web_dir() {
    return MIGOPS_WEB_DIR;
}

std::optional<std::string> static_media_type(std::string_view file_name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> types{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".woff2", "font/woff2"},
    }};
    for (const auto& [ext, type] : types)
        if (file_name.size() > ext.size() && file_name.ends_with(ext)) return std::string(type);
    return std::nullopt;
}

bool is_plain_file_name(std::string_view name) {
    if (name.empty() || name.front() == '.') return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return name.find("..") == std::string_view::npos;
}

http_response static_file_response(const std::filesystem::path& dir, std::string_view relative,
                                   const http_request& req) {
    auto type = static_media_type(relative);
    if (!type) return not_found(relative);
    const auto path = dir / relative;
    std::error_code ec;
    if (!inside(dir, path) || !std::filesystem::is_regular_file(path, ec)) {
        if (relative == "index.html" && !std::filesystem::is_directory(dir, ec))
            return to_response(make_problem(
                404, "/problems/not-found", "No such resource",
                "the dashboard's files are not at " + dir.string() + " (see web_dir)"));
        return not_found(relative);
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size > max_file_bytes) return not_found(relative);
    std::ifstream in(path, std::ios::binary);
    std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof())
        return to_response(problem_for(
            make_error(errc::io_error, "cannot read the dashboard file " + std::string(relative))));

    const std::string etag = "\"" + to_hex(events::sha256(body)).substr(0, etag_hex_digits) + "\"";
    http_response r;
    r.content_type = std::move(*type);
    r.headers.emplace_back("ETag", etag);
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    if (relative.ends_with(".html")) {
        r.headers.emplace_back("Content-Security-Policy", page_policy);
        r.headers.emplace_back("Referrer-Policy", "no-referrer");
    }
    if (none_match(req, etag)) {
        r.status = 304;  // the same Content-Type, so a cache keeps the right one
        return r;
    }
    r.body = std::move(body);
    return r;
}

void add_static_routes(router& r, const std::filesystem::path& web_dir) {
    r.add("GET", "/", "dashboard",
          [web_dir](const http_request& req, const path_params&, const responder& respond) {
              respond(static_file_response(web_dir, "index.html", req));
          });
    r.add("GET", "/assets/{file}", "dashboard_asset",
          [web_dir](const http_request& req, const path_params& p, const responder& respond) {
              const auto& name = p.find("file")->second;
              // The router decoded the segment: "..%2F" arrives as "../".
              if (!is_plain_file_name(name)) return respond(bad_name(name));
              respond(static_file_response(web_dir / "assets", name, req));
          });
}

}  // namespace migops::api
