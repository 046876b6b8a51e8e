#include "api/curl_support.h"

namespace migops::api {

void init_curl() {
    static const bool once = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    (void)once;
}

result<url_parts> parse_url(const std::string& url) {
    init_curl();
    CURLU* u = curl_url();
    if (!u) return failure(errc::io_error, "out of memory");
    url_parts out;
    const bool parsed = curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK;
    auto get = [u](CURLUPart part, std::string& into) {
        char* v = nullptr;
        if (curl_url_get(u, part, &v, 0) == CURLUE_OK && v) into = v;
        curl_free(v);
    };
    if (parsed) {
        get(CURLUPART_SCHEME, out.scheme);
        get(CURLUPART_HOST, out.host);
        get(CURLUPART_PORT, out.port);
        get(CURLUPART_PATH, out.path);
        get(CURLUPART_QUERY, out.query);
        get(CURLUPART_FRAGMENT, out.fragment);
        get(CURLUPART_USER, out.user);
    }
    curl_url_cleanup(u);
    if (!parsed) return failure(errc::invalid_argument, "not a URL");
    return out;
}

int cancel_on_flag(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

}  // namespace migops::api
