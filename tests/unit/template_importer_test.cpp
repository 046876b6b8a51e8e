// The MigOps template importer, run on the real public corpus
// (MIGOPS_SHARED_TEMPLATES, read-only) and on small broken trees made in a
// temp dir. Expected counts come from an independent scan of the files,
// never from the importer itself.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <vector>
#include "engine/domain.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "engine/template_importer.h"
#include "events/fields.h"
#include "temp_dir.h"

namespace {

namespace fs = std::filesystem;
using migops::errc;
using migops::engine::classify_criterion;
using migops::engine::decode_markdown_bytes;
using migops::engine::import_migops_templates;
using migops::engine::imported_template;
using migops::engine::to_template_id;
using migops::events::criterion_kind;
using migops::events::module_spec;
using migops::events::phase_spec;
using migops::events::task_spec;
using migops::events::template_spec;
using migops::testing_support::temp_dir;

const fs::path corpus = MIGOPS_SHARED_TEMPLATES;

bool is_version_folder(const fs::path& p) {
    static const std::regex version(R"(v[0-9]+(\.[0-9]+)*)");
    return fs::is_directory(p) && std::regex_match(p.filename().string(), version);
}

std::vector<fs::path> sorted_subdirs(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// Every (template folder, version folder) pair on disk.
std::set<std::pair<std::string, std::string>> versions_on_disk() {
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& t : sorted_subdirs(corpus))
        for (const auto& v : sorted_subdirs(t))
            if (is_version_folder(v)) out.emplace(t.filename().string(), v.filename().string());
    return out;
}

struct tree_counts {
    std::size_t phases = 0, modules = 0, tasks = 0, subtasks = 0, empty_modules = 0;
    friend bool operator==(const tree_counts&, const tree_counts&) = default;
};

std::ostream& operator<<(std::ostream& os, const tree_counts& c) {
    return os << "phases=" << c.phases << " modules=" << c.modules << " tasks=" << c.tasks
              << " subtasks=" << c.subtasks << " empty_modules=" << c.empty_modules;
}

// Counts a v<N> folder the simple way: folders, and "## Task" headings
// line by line. A module whose tasks.md has no task heading is counted
// apart (the corpus has two); a phase counts when it has a module with tasks.
tree_counts scan_version(const fs::path& version_dir) {
    static const std::regex subtask_heading(R"(^## Task [0-9]+: Subtask [0-9]+:)");
    static const std::regex task_heading(R"(^## Task [0-9]+:)");
    tree_counts c;
    const auto names = sorted_subdirs(version_dir);
    EXPECT_EQ(names.size(), 1u) << version_dir;
    if (names.empty()) return c;
    for (const auto& phase : sorted_subdirs(names.front())) {
        bool phase_has_tasks = false;
        for (const auto& module : sorted_subdirs(phase)) {
            std::ifstream in(module / "tasks.md", std::ios::binary);
            std::size_t tasks = 0, subtasks = 0;
            for (std::string line; std::getline(in, line);) {
                if (std::regex_search(line, subtask_heading))
                    ++subtasks;
                else if (std::regex_search(line, task_heading))
                    ++tasks;
            }
            if (tasks == 0) {
                ++c.empty_modules;
                continue;
            }
            phase_has_tasks = true;
            ++c.modules;
            c.tasks += tasks;
            c.subtasks += subtasks;
        }
        if (phase_has_tasks) ++c.phases;
    }
    return c;
}

// The counts of a spec, walked independently of imported_template's fields.
tree_counts count_spec(const template_spec& s) {
    tree_counts c;
    c.phases = s.phases.size();
    for (const auto& p : s.phases) {
        c.modules += p.modules.size();
        for (const auto& m : p.modules) {
            c.tasks += m.tasks.size();
            for (const auto& t : m.tasks) c.subtasks += t.subtasks.size();
        }
    }
    return c;
}

std::size_t count_warnings(const imported_template& t, std::string_view needle) {
    return static_cast<std::size_t>(
        std::count_if(t.warnings.begin(), t.warnings.end(),
                      [&](const std::string& w) { return w.find(needle) != std::string::npos; }));
}

bool has_warning(const imported_template& t, std::string_view file, std::string_view what) {
    return std::any_of(t.warnings.begin(), t.warnings.end(), [&](const std::string& w) {
        return w.find(file) != std::string::npos && w.find(what) != std::string::npos;
    });
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80                 ? 1
                        : c >= 0xC2 && c <= 0xDF ? 2
                        : c >= 0xE0 && c <= 0xEF ? 3
                        : c >= 0xF0 && c <= 0xF4 ? 4
                                                 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

void write_file(const fs::path& p, std::string_view bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The corpus is imported once; every test reads the same result.
const std::vector<imported_template>& imported_corpus() {
    static const auto imported = [] {
        auto r = import_migops_templates(corpus);
        if (!r) ADD_FAILURE() << r.error().message;
        return r ? std::move(r.value()) : std::vector<imported_template>{};
    }();
    return imported;
}

const imported_template& find_template(std::string_view id, std::string_view version) {
    for (const auto& t : imported_corpus())
        if (t.spec.template_id == id && t.spec.template_version == version) return t;
    ADD_FAILURE() << "template " << id << " " << version << " not imported";
    static const imported_template none;
    return none;
}

const phase_spec& find_phase(const template_spec& s, std::string_view title) {
    for (const auto& p : s.phases)
        if (p.title == title) return p;
    ADD_FAILURE() << "phase " << title << " missing in " << s.template_id;
    static const phase_spec none;
    return none;
}

const module_spec& find_module(const template_spec& s, std::string_view phase,
                               std::string_view title) {
    for (const auto& m : find_phase(s, phase).modules)
        if (m.title == title) return m;
    ADD_FAILURE() << "module " << phase << "/" << title << " missing in " << s.template_id;
    static const module_spec none;
    return none;
}

const task_spec& task_at(const module_spec& m, std::size_t i) {
    if (i < m.tasks.size()) return m.tasks[i];
    ADD_FAILURE() << "module " << m.title << " has " << m.tasks.size() << " tasks";
    static const task_spec none;
    return none;
}

std::vector<std::string> titles(const std::vector<phase_spec>& phases) {
    std::vector<std::string> out;
    for (const auto& p : phases) out.push_back(p.title);
    return out;
}

// ---- the real corpus ------------------------------------------------------

TEST(template_importer_corpus, imports_every_template_and_version_on_disk) {
    const auto& imported = imported_corpus();
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& t : imported) {
        const auto folder = t.source.parent_path().filename().string();
        const auto version = t.source.filename().string();
        EXPECT_TRUE(seen.emplace(folder, version).second) << folder << "/" << version;
        EXPECT_EQ(t.spec.template_version, version.substr(1));
        std::string kebab = folder;
        std::transform(kebab.begin(), kebab.end(), kebab.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        EXPECT_EQ(t.spec.template_id, kebab);
    }
    EXPECT_EQ(seen, versions_on_disk());
    EXPECT_EQ(find_template("rehost-migration", "1.0").source.filename().string(), "v1.0");
    EXPECT_EQ(find_template("rehost-migration", "2.0").source.filename().string(), "v2.0");
}

TEST(template_importer_corpus, counts_match_an_independent_scan_of_the_files) {
    tree_counts total;
    for (const auto& t : imported_corpus()) {
        SCOPED_TRACE(t.source.string());
        const auto expected = scan_version(t.source);
        tree_counts reported{t.phases, t.modules, t.tasks, t.subtasks, 0};
        tree_counts walked = count_spec(t.spec);
        reported.empty_modules = walked.empty_modules = count_warnings(t, "module skipped");
        EXPECT_EQ(reported, expected);
        EXPECT_EQ(walked, expected);
        total.tasks += expected.tasks;
        total.subtasks += expected.subtasks;
    }
    EXPECT_GT(total.tasks, 0u);
    EXPECT_GT(total.subtasks, 0u);
}

TEST(template_importer_corpus, names_descriptions_and_order_come_from_the_readmes) {
    const auto& connect = find_template("amazonconnect-migration", "1.0").spec;
    EXPECT_EQ(connect.name, "AmazonConnect Migration Template");
    EXPECT_TRUE(connect.description.starts_with("This template walks you through the best"));
    EXPECT_EQ(titles(connect.phases),
              (std::vector<std::string>{"Assess", "Mobilize", "Migrate or Transform",
                                        "Operate and Optimize"}));

    const auto& general = find_template("general-migration", "1.0").spec;
    EXPECT_EQ(titles(general.phases),
              (std::vector<std::string>{"Assess", "Mobilize", "Migrate", "Operate"}));
    ASSERT_FALSE(general.phases.front().modules.empty());
    EXPECT_EQ(general.phases.front().modules.front().title, "Initial Engagement with AWS");

    // Not a migration-phase vocabulary: only the readme knows this order.
    const auto& modax = find_template("modernizationebamodax", "1.0").spec;
    EXPECT_EQ(titles(modax.phases),
              (std::vector<std::string>{"Modernisation Assessment", "Getting started with the EBA",
                                        "EBA Prerequisites", "EBA execution", "After the EBA"}));

    // Two readmes side by side; each version takes the one that links into it.
    const auto& rehost2 = find_template("rehost-migration", "2.0").spec;
    const auto& migrate2 = find_phase(rehost2, "Migrate");
    ASSERT_FALSE(migrate2.modules.empty());
    EXPECT_EQ(migrate2.modules.front().title, "Migration Hub setup");
}

TEST(template_importer_corpus, keeps_task_content) {
    const auto& connect = find_template("amazonconnect-migration", "1.0");
    const auto& tco = find_module(connect.spec, "Assess", "Estimate TCO");
    const auto& report = task_at(tco, 1);
    EXPECT_EQ(report.title, "Create a directional TCO report");
    EXPECT_NE(report.description.find("Use the TCO calculator worksheet [GitHub]("),
              std::string::npos);
    ASSERT_EQ(report.links.size(), 1u);
    EXPECT_EQ(report.links[0].title, "GitHub");
    EXPECT_EQ(report.links[0].url,
              "https://github.com/aws-samples/aws-migops-guidance/tree/main/"
              "AmazonConnect-Migration/v1.0/Amazon-Connect");
    ASSERT_EQ(report.criteria.size(), 1u);
    EXPECT_EQ(report.criteria[0].kind, criterion_kind::artifact);
    EXPECT_EQ(report.criteria[0].description,
              "Create a TCO report and upload it as an attachment to this task.");
    EXPECT_EQ(report.criteria[0].pattern, "*");
    EXPECT_TRUE(report.criteria[0].media_types.empty());

    const auto& tei = task_at(tco, 0);
    ASSERT_EQ(tei.criteria.size(), 1u);
    EXPECT_EQ(tei.criteria[0].kind, criterion_kind::text);
    EXPECT_EQ(tei.criteria[0].description,
              "Review the TEI report and discuss any questions with an AWS representative or "
              "AWS support.");
    EXPECT_TRUE(tei.criteria[0].pattern.empty());
    // Byte 0x95 in this file is a Windows-1252 bullet; the "•" of the
    // criterion above is UTF-8 in the same file.
    EXPECT_NE(tei.description.find("\xE2\x80\xA2\tReduction in cloud technology costs"),
              std::string::npos);
    EXPECT_TRUE(has_warning(connect,
                            "AmazonConnect-Migration/v1.0/AmazonConnect/Assess/"
                            "Estimate TCO/tasks.md: ",
                            "Windows-1252"));

    // Several "#### Tools" sections with one tool each, and repeated
    // "#### Acceptance Criteria" sections.
    const auto& kickoff =
        find_module(find_template("rehost-migration", "2.0").spec, "Assess", "Kick off");
    const auto& overview = task_at(kickoff, 0);
    EXPECT_EQ(overview.tools, (std::vector<std::string>{"AWS Rehost Migration"}));
    ASSERT_EQ(overview.criteria.size(), 2u);
    EXPECT_EQ(overview.criteria[0].description,
              "Discovered the list of AWS tools to use in each phase.");
    EXPECT_EQ(overview.criteria[1].description, "Understood the phases of a migration.");
    ASSERT_EQ(overview.links.size(), 1u);
    EXPECT_EQ(overview.links[0].url,
              "https://docs.aws.amazon.com/migrationhub/latest/ug/"
              "whatishub.html");

    const auto& setup =
        find_module(find_template("rehost-migration", "1.0").spec, "Mobilize", "Migration setup");
    EXPECT_EQ(task_at(setup, 2).tools,
              (std::vector<std::string>{"AWS Landing Zone", "AWS Control Tower"}));
    // "a) ..." lines detail the criterion above them.
    ASSERT_EQ(task_at(setup, 1).criteria.size(), 1u);
    EXPECT_EQ(task_at(setup, 1).criteria[0].description,
              "Setup Initial AWS accounts\na) configure Root\nb) BreakGlass Password\nc) MFA\n"
              "d) Password Policy\ne) Alternative Contacts\nf) Security Challenge Questions\n"
              "g) Support Plan");
}

TEST(template_importer_corpus, attaches_subtasks_and_cleans_tools) {
    const auto& connect = find_template("amazonconnect-migration", "1.0");
    const auto& quality =
        find_module(connect.spec, "Operate and Optimize", "Improve call quality if needed");
    ASSERT_EQ(quality.tasks.size(), 3u);
    const auto& environment = quality.tasks[1];
    EXPECT_EQ(environment.title, "Adjust the work environment and reduce background noise");
    ASSERT_EQ(environment.subtasks.size(), 8u);
    EXPECT_EQ(environment.subtasks[0].title, "Choose the right headset");
    EXPECT_EQ(environment.subtasks[7].title, "Check CCP logs");
    EXPECT_EQ(quality.tasks[2].subtasks.size(), 3u);
    EXPECT_TRUE(quality.tasks[0].subtasks.empty());

    // "Tools:" label, "•" bullets and a tool listed twice; "’" from byte 0x92.
    const auto& first = quality.tasks[0];
    EXPECT_EQ(first.tools,
              (std::vector<std::string>{"Connect Endpoint Test Utility",
                                        "This utility checks network connectivity and browser "
                                        "settings.",
                                        "Browser configuration editors for WebRTC settings.",
                                        "For Firefox: about:config", "For Chrome: chrome://flags",
                                        "CCP Log Parser - This tool helps you analyze CCP logs "
                                        "for troubleshooting purposes."}));
    EXPECT_TRUE(first.description.starts_with("Call quality issues are"));
    EXPECT_NE(first.description.find("optimize your agents\xE2\x80\x99 work environment"),
              std::string::npos);
    EXPECT_TRUE(has_warning(connect, "Improve call quality if needed/tasks.md", "'Tools:' label"));
}

TEST(template_importer_corpus, reports_empty_modules_and_leaves_ids_and_steps_empty) {
    EXPECT_TRUE(
        has_warning(find_template("migrationjourneyfordotnetapplicationsrunningoniis", "1.0"),
                    "Mobilize/Build POCs/tasks.md", "module skipped"));
    EXPECT_TRUE(has_warning(find_template("modernizationebamodax", "1.0"),
                            "After the EBA/Your next EBA/tasks.md", "module skipped"));
    std::size_t artifacts = 0, texts = 0;
    for (const auto& t : imported_corpus()) {
        const auto json = boost::json::serialize(migops::events::to_json_value(t.spec));
        EXPECT_TRUE(valid_utf8(json)) << t.source;
        for (const auto& p : t.spec.phases) {
            EXPECT_TRUE(p.id.empty());
            for (const auto& m : p.modules) {
                EXPECT_TRUE(m.id.empty());
                for (const auto& task : m.tasks) {
                    EXPECT_TRUE(task.id.empty());
                    EXPECT_TRUE(task.steps.empty());
                    EXPECT_FALSE(task.title.empty());
                    for (const auto& c : task.criteria) {
                        EXPECT_TRUE(c.id.empty());
                        EXPECT_FALSE(c.description.empty());
                        (c.kind == criterion_kind::artifact ? artifacts : texts)++;
                    }
                    for (const auto& s : task.subtasks) {
                        EXPECT_TRUE(s.id.empty());
                        EXPECT_TRUE(s.steps.empty());
                    }
                }
            }
        }
    }
    EXPECT_GT(artifacts, 0u);
    EXPECT_GT(texts, artifacts);
}

TEST(template_importer_corpus, every_spec_survives_a_json_round_trip) {
    ASSERT_FALSE(imported_corpus().empty());
    for (const auto& t : imported_corpus()) {
        const auto text = boost::json::serialize(migops::events::to_json_value(t.spec));
        template_spec back;
        migops::events::from_json_value(boost::json::parse(text), back, "template");
        EXPECT_EQ(back, t.spec) << t.source;
    }
}

TEST(template_importer_corpus, imports_one_template_folder_or_one_version_folder) {
    auto both = import_migops_templates(corpus / "Rehost-Migration");
    ASSERT_TRUE(both) << both.error().message;
    ASSERT_EQ(both.value().size(), 2u);
    EXPECT_EQ(both.value()[0].spec.template_version, "1.0");
    EXPECT_EQ(both.value()[1].spec.template_version, "2.0");
    EXPECT_EQ(both.value()[1].spec, find_template("rehost-migration", "2.0").spec);

    auto one = import_migops_templates(corpus / "Rehost-Migration" / "v2.0");
    ASSERT_TRUE(one) << one.error().message;
    ASSERT_EQ(one.value().size(), 1u);
    EXPECT_EQ(one.value()[0].spec, find_template("rehost-migration", "2.0").spec);
}

// ---- building blocks ------------------------------------------------------

TEST(template_importer_decode, keeps_utf8_and_reads_other_bytes_as_windows_1252) {
    auto d =
        decode_markdown_bytes("\xEF\xBB\xBF\x93quoted\x94 \x80 caf\xE9 \xE2\x80\xA2 ok\r\nx\ry");
    EXPECT_EQ(d.text,
              "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC caf\xC3\xA9 \xE2\x80\xA2 ok\nx\ny");
    EXPECT_EQ(d.cp1252_bytes, 4u);
    EXPECT_EQ(d.unmapped_bytes, 0u);

    // Undefined in Windows-1252; an overlong form is not UTF-8.
    d = decode_markdown_bytes("a\x81z \xC0\xAF");
    EXPECT_EQ(d.text, "a\xEF\xBF\xBDz \xC3\x80\xC2\xAF");
    EXPECT_EQ(d.cp1252_bytes, 3u);
    EXPECT_EQ(d.unmapped_bytes, 1u);
    EXPECT_TRUE(valid_utf8(d.text));
}

TEST(TemplateImporterText, OneModuleFromItsBytes) {
    const auto imported = migops::engine::import_module_text(
        "# Module: Kick off\nWhy we start.\n## Task 2: Plan\n#### Tools\nCalendar\n"
        "## Task 1: Meet\n#### Acceptance Criteria\n\x95 Upload the notes as an attachment.\n"
        "## Task 1: Subtask 1: Book a room\n",
        "Kick-off folder");
    EXPECT_EQ(imported.module.title, "Kick off");
    EXPECT_EQ(imported.module.description, "Why we start.");
    ASSERT_EQ(imported.module.tasks.size(), 2u);
    EXPECT_EQ(imported.module.tasks[0].title, "Meet") << "tasks come in number order";
    ASSERT_EQ(imported.module.tasks[0].subtasks.size(), 1u);
    EXPECT_EQ(imported.module.tasks[0].subtasks[0].title, "Book a room");
    ASSERT_EQ(imported.module.tasks[0].criteria.size(), 1u);
    EXPECT_EQ(imported.module.tasks[0].criteria[0].kind, criterion_kind::artifact);
    EXPECT_EQ(imported.module.tasks[1].tools, std::vector<std::string>{"Calendar"});
    ASSERT_FALSE(imported.warnings.empty()) << "the 0x95 bullet is Windows-1252";
    EXPECT_EQ(imported.warnings[0].find("1 bytes are not UTF-8"), 0u)
        << "warnings name no file: " << imported.warnings[0];
}

TEST(TemplateImporterText, WithoutAModuleHeadingTheFolderNamesIt) {
    const auto imported = migops::engine::import_module_text("no headings at all\n", "Folder");
    EXPECT_EQ(imported.module.title, "Folder");
    EXPECT_TRUE(imported.module.tasks.empty());
    EXPECT_NE(std::find_if(imported.warnings.begin(), imported.warnings.end(),
                           [](const std::string& w) {
                               return w.find("no '# Module:' heading") != std::string::npos;
                           }),
              imported.warnings.end());
}

TEST(template_importer_classify, asks_for_a_file_only_when_the_text_requires_one) {
    for (std::string_view artifact :
         {"Create a TCO report and upload it as an attachment to this task.",
          "Upload the updated environment-best-practices document.",
          "Attach completed slides in the attach file section.",
          "Fill and upload final RACI matrix as an attachment."})
        EXPECT_EQ(classify_criterion(artifact), criterion_kind::artifact) << artifact;
    for (std::string_view text :
         {"Successful Upload.", "Successfully attach the database on RDS custom SQL Server",
          "The backlog is successfully uploaded into a project management tool",
          "Add all details as comments in the task or create a working spreadsheet and upload "
          "it as an attachment.",
          "If decisions change, ensure that they are documented and uploaded as attachments.",
          "Decide who will perform the migration and upload statements of work as needed",
          "Used the data-import template to upload the collected data",
          "Documented a comprehensive list of workloads to migrate"})
        EXPECT_EQ(classify_criterion(text), criterion_kind::text) << text;
}

TEST(template_importer_ids, are_lower_case_kebab) {
    EXPECT_EQ(to_template_id("Rehost-Migration"), "rehost-migration");
    EXPECT_EQ(to_template_id("SAP-ERP-on-AnyDB-Brownfield"), "sap-erp-on-anydb-brownfield");
    EXPECT_EQ(to_template_id(" My  Template_v2 "), "my-template-v2");
}

// ---- bad input ------------------------------------------------------------

TEST(template_importer_errors, missing_directory) {
    auto r = import_migops_templates("/nonexistent/migops-templates");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("/nonexistent/migops-templates does not exist"),
              std::string::npos);
}

TEST(template_importer_errors, empty_directory_and_plain_file) {
    temp_dir dir;
    auto r = import_migops_templates(dir.path());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("holds no MigOps template"), std::string::npos);

    write_file(dir.path() / "file.md", "# Module: x\n");
    r = import_migops_templates(dir.path() / "file.md");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("is not a directory"), std::string::npos);
}

TEST(template_importer_errors, version_without_any_tasks_file) {
    temp_dir dir;
    fs::create_directories(dir.path() / "Tpl" / "v1.0" / "Tpl" / "Assess" / "Kick off");
    write_file(dir.path() / "Tpl" / "v1.0" / "Tpl" / "Assess" / "Kick off" / "notes.txt", "x");
    auto r = import_migops_templates(dir.path());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("Tpl/v1.0: no tasks.md found"), std::string::npos)
        << r.error().message;
}

TEST(template_importer_errors, only_a_broken_tasks_file) {
    temp_dir dir;
    write_file(dir.path() / "Tpl" / "v1.0" / "Tpl" / "Assess" / "Broken" / "tasks.md",
               std::string_view("\x81\x00 garbage\n## Tasks\n#### Tools\nx\n", 33));
    auto r = import_migops_templates(dir.path() / "Tpl");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    EXPECT_NE(r.error().message.find("no '## Task N:' heading in any tasks.md"), std::string::npos)
        << r.error().message;
}

TEST(template_importer_errors, broken_files_next_to_good_ones_give_warnings) {
    temp_dir dir;
    const auto name = dir.path() / "My-Template" / "v3" / "Mine";
    write_file(
        name / "Assess" / "Good" / "tasks.md",
        "# Module: Good\n## Task 2: Second\n#### Description\nSee [docs](https://x.test/a_(b)).\n"
        "## Task 1: First\n#### Description\n[broken](\n"
        "#### Acceptance Criteria\n\xE2\x80\xA2 Done\n\xE2\x80\xA2 Done\n"
        "## Task 1: Subtask 1: Sub\n#### Notes\nextra\n"
        "## Task 9: Subtask 1: Orphan\n");
    write_file(name / "Assess" / "Broken" / "tasks.md", "\x81\x82 not markdown at all\n");
    write_file(name / "Assess" / "Good" / "screenshot.png", "\x89PNG");
    write_file(name / "Zeta" / "Other" / "tasks.md",
               "# Module: Other\nAbout it.\n### Subtask 1: Orphan\n## Task 1: Only\n"
               "### Steps\nkept\n");
    write_file(dir.path() / "My-Template" / "CHANGELOG.md", "changes");
    fs::create_directories(name / "Assess" / "Missing");

    auto r = import_migops_templates(dir.path());
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r.value().size(), 1u);
    const auto& t = r.value()[0];
    EXPECT_EQ(t.spec.template_id, "my-template");
    EXPECT_EQ(t.spec.template_version, "3");
    EXPECT_EQ(t.spec.name, "Mine");
    EXPECT_EQ(titles(t.spec.phases), (std::vector<std::string>{"Assess", "Zeta"}));
    EXPECT_EQ((tree_counts{t.phases, t.modules, t.tasks, t.subtasks, 0}),
              (tree_counts{2, 2, 3, 1, 0}));

    const auto& good = t.spec.phases[0].modules.at(0);
    ASSERT_EQ(good.tasks.size(), 2u);
    EXPECT_EQ(good.tasks[0].title, "First");
    EXPECT_EQ(good.tasks[1].title, "Second");
    ASSERT_EQ(good.tasks[1].links.size(), 1u);
    EXPECT_EQ(good.tasks[1].links[0].url, "https://x.test/a_(b)");
    ASSERT_EQ(good.tasks[0].criteria.size(), 1u);
    ASSERT_EQ(good.tasks[0].subtasks.size(), 1u);
    EXPECT_EQ(good.tasks[0].subtasks[0].description, "#### Notes\nextra");

    const std::pair<std::string_view, std::string_view> expected[] = {
        {"Assess/Broken/tasks.md", "Windows-1252"},
        {"Assess/Broken/tasks.md", "module skipped"},
        {"Assess/Good/screenshot.png", "unexpected file ignored"},
        {"My-Template/CHANGELOG.md", "unexpected file ignored"},
        {"Assess/Missing", "no tasks.md; module skipped"},
        {"Good/tasks.md", "unclosed link"},
        {"Good/tasks.md", "duplicate acceptance criterion"},
        {"Good/tasks.md", "unknown section '#### Notes'"},
        {"Good/tasks.md", "subtask dropped"},
        {"Good/tasks.md", "sorted by number"},
        {"Zeta/Other/tasks.md",
         "line 3: heading '### Subtask 1: Orphan' before the first '## Task N:' kept in the "
         "module description"},
        {"Zeta/Other/tasks.md",
         "line 5: heading '### Steps' is not a '#### ' section heading; kept as text"},
        {"v3", "no readme"},
        {"v3", "'Zeta' is not a known migration phase"},
    };
    for (const auto& [file, what] : expected)
        EXPECT_TRUE(has_warning(t, file, what)) << file << ": " << what;
}

}  // namespace

namespace migops::engine {
namespace {

// Every imported template version can be published under the default
// limits, and a journey can be created from it.
TEST(TemplateImporterPublishing, EveryImportedTemplateIsPublishable) {
    auto imported = import_migops_templates(MIGOPS_SHARED_TEMPLATES);
    ASSERT_TRUE(imported) << imported.error().message;
    for (const auto& t : imported.value()) {
        partition_state state;
        auto published = decide(state, command_context{user_id{"importer"}, timestamp{1}, nullptr},
                                publish_template{t.spec});
        ASSERT_TRUE(published) << t.spec.template_id << " " << t.spec.template_version << ": "
                               << published.error().message;
        EXPECT_EQ(published.value().events.size(), 1u);
    }
}

}  // namespace
}  // namespace migops::engine
