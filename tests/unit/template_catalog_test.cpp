#include <gtest/gtest.h>

#include <fstream>

#include "engine/template_catalog.h"
#include "tests/unit/temp_dir.h"

namespace migops::engine {
namespace {

TEST(TemplateCatalog, TheBuiltInTemplatesLoadAndValidate) {
    auto all = builtin_templates();
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ(all.value().size(), 3u);
    std::vector<std::string> ids;
    for (const auto& t : all.value()) {
        ids.push_back(t.template_id);
        EXPECT_FALSE(t.phases.empty()) << t.template_id;
        EXPECT_TRUE(validate_template(t)) << t.template_id;
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"migops-database-migration",
                                             "migops-general-migration", "migops-quick-start"}));
    const auto& general = all.value()[1];
    EXPECT_EQ(general.phases.size(), 4u);
    EXPECT_EQ(general.phases[0].title, "Assess");
    EXPECT_EQ(general.phases[3].title, "Operate");
}

TEST(TemplateCatalog, OurFormatRoundTrips) {
    auto builtins = builtin_templates();
    for (const auto& t : builtins.value()) {
        auto again = parse_template(template_to_json(t), "round trip");
        ASSERT_TRUE(again) << again.error().message;
        EXPECT_EQ(again.value(), t);
        EXPECT_EQ(template_hash(again.value()), template_hash(t));
    }
}

TEST(TemplateCatalog, BadTemplatesAreRefusedWithTheirOrigin) {
    EXPECT_NE(parse_template("{", "a.json").error().message.find("a.json: not JSON"),
              std::string::npos);
    EXPECT_NE(
        parse_template("[]", "b.json").error().message.find("b.json: template must be an object"),
        std::string::npos);
    // A key given twice is refused before the template is read: which value
    // is meant is not known.
    auto text = template_to_json(builtin_templates().value()[0]);
    text.insert(text.find('{') + 1, R"("name":"Shadow",)");
    auto twice = parse_template(text, "d.json");
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().message, R"(d.json: the key "name" is given twice in one object)");
    auto missing = parse_template(R"({"template_id":"x","version":"1"})", "c.json");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("template.name is missing"), std::string::npos)
        << missing.error().message;
    auto t = builtin_templates().value()[2];
    t.phases[0].modules[0].tasks[0].title.clear();
    auto invalid = parse_template(template_to_json(t), "d.json");
    ASSERT_FALSE(invalid);
    EXPECT_NE(invalid.error().message.find("title is required"), std::string::npos)
        << invalid.error().message;
    // Ids and versions are named in URLs and file names; a template has work in it.
    const auto refused = [](const events::template_spec& spec) {
        auto r = parse_template(template_to_json(spec), "e.json");
        return r ? std::string() : r.error().message;
    };
    auto slashed = builtin_templates().value()[0];
    slashed.template_id = "a b/../c";
    EXPECT_EQ(refused(slashed),
              "e.json: template id may hold only letters, digits, '.', '_' and '-'");
    auto spaced = builtin_templates().value()[0];
    spaced.template_version = "v 1 / 2";
    EXPECT_EQ(refused(spaced),
              "e.json: template version may hold only letters, digits, '.', '_' and '-'");
    auto empty = builtin_templates().value()[0];
    empty.phases.clear();
    EXPECT_EQ(refused(empty), "e.json: a template has at least one phase");
    auto fine = builtin_templates().value()[0];
    fine.template_id = "Rehost_Migration-2.x";
    EXPECT_EQ(refused(fine), "");
}

TEST(TemplateCatalog, LoadsADirectoryOfTemplates) {
    testing_support::temp_dir dir;
    auto builtins = builtin_templates();
    for (const auto& t : builtins.value())
        std::ofstream(dir.path() / (t.template_id + ".json")) << template_to_json(t);
    std::ofstream(dir.path() / "README.txt") << "not a template";
    auto loaded = load_template_dir(dir.path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded.value().size(), 3u);
    std::ofstream(dir.path() / "zz-broken.json") << "{";
    EXPECT_FALSE(load_template_dir(dir.path()));
    EXPECT_FALSE(load_template_dir(dir.path() / "missing"));
}

}  // namespace
}  // namespace migops::engine
