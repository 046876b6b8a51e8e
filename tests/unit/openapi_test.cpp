// /openapi.json against the route table the server really builds: every
// route is documented with its route name as operationId, and the document
// names no route the server does not have.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "api/application.h"
#include "api/openapi.h"
#include "api/router.h"
#include "tests/unit/temp_dir.h"

namespace migops::api {
namespace {

using route_key = std::pair<std::string, std::string>;  // method, path pattern
using route_names = std::map<route_key, std::string>;   // → route name or operationId

// The operations of a path item (OpenAPI 3.1, section 4.8.9).
constexpr std::string_view operation_keys[] = {"get",  "put",   "post",  "delete",
                                               "head", "patch", "trace", "options"};

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

route_names of_router(const router& r) {
    route_names out;
    for (const auto& route : r.routes())
        EXPECT_TRUE(out.emplace(route_key{route.method, route.pattern}, route.name).second)
            << route.method << " " << route.pattern << " is registered twice";
    return out;
}

route_names of_document(const boost::json::object& doc) {
    route_names out;
    for (const auto& [path, item] : doc.at("paths").as_object()) {
        for (const auto method : operation_keys) {
            const auto* op = item.as_object().if_contains(method);
            if (!op) continue;
            const auto* id = op->as_object().if_contains("operationId");
            out.emplace(route_key{upper(method), std::string(path)},
                        id && id->is_string() ? std::string(id->get_string()) : std::string{});
        }
    }
    return out;
}

// One line per difference between what is served and what is documented.
std::vector<std::string> mismatches(const route_names& served, const route_names& documented) {
    std::vector<std::string> out;
    for (const auto& [key, name] : served) {
        const auto it = documented.find(key);
        const std::string route = key.first + " " + key.second;
        if (it == documented.end())
            out.push_back(route + " (" + name + ") is served but not in api/openapi.json");
        else if (it->second != name)
            out.push_back(route + " has operationId \"" + it->second + "\" but the route is \"" +
                          name + "\"");
    }
    for (const auto& [key, id] : documented)
        if (!served.contains(key))
            out.push_back(key.first + " " + key.second + " (" + id +
                          ") is in api/openapi.json but not served");
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

boost::json::object document() {
    return boost::json::parse(openapi_document()).as_object();
}

// The real application, started once for the suite on a temp data dir and
// an ephemeral port: its router is the one the server matches requests on.
class OpenApi : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        suite_dir = std::make_unique<testing_support::temp_dir>();
        config c;
        c.data_dir = (suite_dir->path() / "data").string();
        c.listen_port = 0;
        c.partitions = 2;
        c.http_threads = 1;
        app = std::make_unique<application>(c);
        auto r = app->start();
        if (!r) start_error = r.error().message;
        started = static_cast<bool>(r);
    }
    static void TearDownTestSuite() {
        app.reset();
        suite_dir.reset();
    }
    void SetUp() override { ASSERT_TRUE(started) << start_error; }

    static route_names served() { return of_router(app->routes()); }

    static inline std::unique_ptr<testing_support::temp_dir> suite_dir;
    static inline std::unique_ptr<application> app;
    static inline bool started = false;
    static inline std::string start_error;
};

TEST_F(OpenApi, DocumentsEveryServedRouteAndNothingElse) {
    const auto routes = served();
    EXPECT_GT(routes.size(), 50u) << "the route table looks incomplete";
    EXPECT_TRUE(routes.contains({"GET", "/openapi.json"}));
    const auto diff = mismatches(routes, of_document(document()));
    EXPECT_TRUE(diff.empty()) << joined(diff);
}

TEST_F(OpenApi, NoticesARouteMissingFromEitherSideOrMisnamed) {
    const auto routes = served();
    auto doc = document();

    auto without_path = doc;
    without_path.at("paths").as_object().erase("/v1/spaces/{space}");
    auto diff = mismatches(routes, of_document(without_path));
    EXPECT_EQ(diff.size(), 3u) << joined(diff) << "GET, PATCH and DELETE, one line each";
    EXPECT_NE(joined(diff).find("GET /v1/spaces/{space} (get_space) is served but not in"),
              std::string::npos)
        << joined(diff);

    auto with_route = routes;
    with_route.emplace(route_key{"POST", "/v1/spaces/{space}/archive"}, "archive_space");
    diff = mismatches(with_route, of_document(doc));
    ASSERT_EQ(diff.size(), 1u) << joined(diff);
    EXPECT_EQ(diff.front(),
              "POST /v1/spaces/{space}/archive (archive_space) is served but not in "
              "api/openapi.json");

    auto extra_path = doc;
    extra_path.at("paths").as_object()["/v1/nowhere"] =
        boost::json::object{{"get", boost::json::object{{"operationId", "nowhere"}}}};
    diff = mismatches(routes, of_document(extra_path));
    ASSERT_EQ(diff.size(), 1u) << joined(diff);
    EXPECT_EQ(diff.front(), "GET /v1/nowhere (nowhere) is in api/openapi.json but not served");

    auto renamed = doc;
    renamed.at("paths").at("/v1/me/tasks").at("get").as_object()["operationId"] = "mine";
    diff = mismatches(routes, of_document(renamed));
    ASSERT_EQ(diff.size(), 1u) << joined(diff);
    EXPECT_EQ(diff.front(),
              "GET /v1/me/tasks has operationId \"mine\" but the route is \"my_tasks\"");

    auto unnamed = doc;
    unnamed.at("paths").at("/healthz").at("get").as_object().erase("operationId");
    EXPECT_EQ(mismatches(routes, of_document(unnamed)).size(), 1u);
}

// ---- the document on its own -------------------------------------------------

// Calls f on every object in v, depth first.
template <class F>
void each_object(const boost::json::value& v, const F& f) {
    if (const auto* o = v.if_object()) {
        f(*o);
        for (const auto& [k, child] : *o) each_object(child, f);
    } else if (const auto* a = v.if_array()) {
        for (const auto& child : *a) each_object(child, f);
    }
}

// A "#/components/…" reference resolved in doc; null when it names nothing.
const boost::json::value* resolve(const boost::json::value& doc, std::string_view ref) {
    if (!ref.starts_with("#/")) return nullptr;
    boost::system::error_code ec;
    return doc.find_pointer(ref.substr(1), ec);
}

std::set<std::string> template_parameters(std::string_view path) {
    std::set<std::string> out;
    for (auto open = path.find('{'); open != std::string_view::npos; open = path.find('{', open)) {
        const auto close = path.find('}', open);
        out.emplace(path.substr(open + 1, close - open - 1));
        open = close;
    }
    return out;
}

TEST(OpenApiDocument, IsOpenApi3OfThisVersion) {
    const auto doc = document();
    const std::string version(doc.at("openapi").as_string());
    EXPECT_TRUE(version.starts_with("3.1.")) << version;
    EXPECT_EQ(doc.at("info").at("version").as_string(), MIGOPS_VERSION);
    EXPECT_EQ(doc.at("components").at("securitySchemes").at("bearer").at("scheme").as_string(),
              "bearer");
    for (const char* schema :
         {"Space", "Journey", "Phase", "Module", "Task", "TaskSummary", "Criterion", "Artifact",
          "Comment", "HelpRequest", "Template", "Problem", "CloudEvent"})
        EXPECT_TRUE(doc.at("components").at("schemas").as_object().contains(schema)) << schema;
}

TEST(OpenApiDocument, EveryReferenceResolves) {
    const boost::json::value doc = document();
    std::size_t refs = 0;
    std::vector<std::string> dangling;
    each_object(doc, [&](const boost::json::object& o) {
        const auto* ref = o.if_contains("$ref");
        if (!ref || !ref->is_string()) return;
        ++refs;
        if (!resolve(doc, ref->get_string())) dangling.emplace_back(ref->get_string());
    });
    EXPECT_GT(refs, 100u);
    EXPECT_TRUE(dangling.empty()) << joined(dangling);
    EXPECT_FALSE(resolve(doc, "#/components/schemas/Nothing")) << "the check itself works";
}

TEST(OpenApiDocument, OperationIdsAreUniqueAndPathParametersDeclared) {
    const boost::json::value doc = document();
    std::set<std::string> ids;
    const boost::json::array none;
    for (const auto& [path, item] : doc.at("paths").as_object()) {
        const auto wanted = template_parameters(path);
        for (const auto method : operation_keys) {
            const auto* op = item.as_object().if_contains(method);
            if (!op) continue;
            const std::string where = upper(method) + " " + std::string(path);
            EXPECT_TRUE(ids.emplace(op->at("operationId").as_string()).second) << where;
            EXPECT_TRUE(op->as_object().contains("responses")) << where;
            std::set<std::string> declared;
            const auto* params = op->as_object().if_contains("parameters");
            for (const auto& p : params ? params->as_array() : none) {
                const auto* ref = p.as_object().if_contains("$ref");
                const auto* param = ref ? resolve(doc, ref->as_string()) : &p;
                ASSERT_TRUE(param) << where;
                if (param->at("in").as_string() != "path") continue;
                EXPECT_TRUE(param->at("required").as_bool()) << where;
                declared.emplace(param->at("name").as_string());
            }
            EXPECT_EQ(declared, wanted) << where;
        }
    }
}

}  // namespace
}  // namespace migops::api
