#include "api/router.h"

namespace migops::api {

namespace {

std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t start = 1;  // paths start with '/'
    while (start <= path.size()) {
        const auto end = path.find('/', start);
        out.push_back(path.substr(
            start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

bool is_parameter(std::string_view part) {
    return part.size() > 2 && part.front() == '{' && part.back() == '}';
}

// Matches one route's pattern against the path's segments: the literal
// segments first, then the parameters are decoded.
bool matches(const std::vector<std::string>& parts, const std::vector<std::string_view>& segments,
             path_params& params) {
    if (parts.size() != segments.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i)
        if (is_parameter(parts[i]) ? segments[i].empty() : parts[i] != segments[i]) return false;
    path_params found;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (!is_parameter(parts[i])) continue;
        auto decoded = percent_decode(segments[i]);
        if (!decoded) return false;
        found.emplace(parts[i].substr(1, parts[i].size() - 2), std::move(*decoded));
    }
    params = std::move(found);
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (s.size() - i < 3) return std::nullopt;
        const int hi = hex_value(s[i + 1]);
        const int lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        const char c = static_cast<char>(hi << 4 | lo);
        // Ids, file names and query values never hold control characters;
        // decoded, they would reach logs, events and file names as they are.
        constexpr char del = 0x7f;
        if (static_cast<unsigned char>(c) < 0x20 || c == del) return std::nullopt;
        out.push_back(c);
        i += 2;
    }
    return out;
}

void router::add(std::string method, std::string pattern, std::string name, route_handler handler) {
    const auto parts = split(pattern);
    routes_.push_back({std::move(method), std::move(pattern), std::move(name), std::move(handler),
                       std::vector<std::string>(parts.begin(), parts.end())});
}

route_match router::match(std::string_view method, std::string_view target) const {
    const auto path = target.substr(0, target.find('?'));
    route_match m;
    if (path.empty() || path.front() != '/') return m;
    const auto segments = split(path);
    for (const auto& r : routes_) {
        path_params params;
        if (!matches(r.segments, segments, params)) continue;
        if (r.method == method || (method == "HEAD" && r.method == "GET")) {
            m.matched = &r;
            m.params = std::move(params);
            m.allowed.clear();
            return m;
        }
        m.allowed.push_back(r.method);
    }
    return m;
}

}  // namespace migops::api
