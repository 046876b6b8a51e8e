// Export and verify against the real binary: an export taken while the
// server runs verifies, with migops and with the README's Python recipe, and
// a tampered copy (one byte of one event's data changed; one event removed)
// does not; signed checkpoints are recorded periodically and on stop, verify
// with the right public key (and with the README's OpenSSL recipe) and not
// with another; a value changed directly in RocksDB is named; bad input is a
// clear message and exit 2.

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "events/codec.h"
#include "events/rocks_log.h"
#include "tests/integration/process.h"
#include "tests/unit/ed25519_keys.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr std::string_view checkpoint_type = "io.migops.chain.checkpoint.v1";

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

void write_lines(const fs::path& p, const std::vector<std::string>& lines) {
    std::ofstream out(p, std::ios::binary);
    for (const auto& l : lines) out << l << "\n";
}

// The README's fenced block whose first line starts with `first_line`.
std::string readme_block(const std::string& first_line) {
    const auto readme = read_text(MIGOPS_README);
    const auto start = readme.find("\n" + first_line);
    if (start == std::string::npos) return {};
    const auto end = readme.find("\n```", start + 1);
    return readme.substr(start + 1, end - start);
}

struct outcome {
    int status = -1;
    std::string output;  // stdout and stderr
};

class AuditTest : public ::testing::Test {
  protected:
    void SetUp() override {
        keys_ = write_ed25519_key(dir_.path(), "checkpoint");
        other_ = write_ed25519_key(dir_.path(), "other");
        start_server();
    }
    void TearDown() override {
        if (server_.pid > 0) stop_server();
    }

    void start_server() {
        port_ = free_port();
        server_ = start_process(
            MIGOPS_BINARY,
            {"serve", "--data-dir", data(), "--listen", "127.0.0.1:" + std::to_string(port_),
             "--signing-key-file", keys_.private_pem.string(), "--checkpoint-interval", "1"},
            dir_.path() / "serve.log");
        ASSERT_TRUE(wait_until([&] { return http_get(port_, "/readyz").status == 200; }, 30s))
            << server_.stderr_text();
    }
    void stop_server() {
        ::kill(server_.pid, SIGTERM);
        EXPECT_EQ(wait_exit(server_, 25s), 0) << server_.stderr_text();
    }
    std::string data() const { return (dir_.path() / "data").string(); }

    outcome run(const std::vector<std::string>& args, const std::string& name) {
        auto c = start_process(MIGOPS_BINARY, args, dir_.path() / (name + ".out"));
        auto status = wait_exit(c, 60s);
        return {status.value_or(-1), c.stderr_text()};
    }
    // A shell command line (for stdout redirection and the recipes).
    outcome shell(const std::string& command, const std::string& name) {
        auto c = start_process("/bin/sh", {"-c", command}, dir_.path() / (name + ".out"));
        auto status = wait_exit(c, 60s);
        return {status.value_or(-1), c.stderr_text()};
    }
    outcome python_recipe(const fs::path& file) {
        const auto script = dir_.path() / "verify_export.py";
        std::ofstream(script) << readme_block("# verify_export.py");
        return shell("python3 '" + script.string() + "' '" + file.string() + "'", "python");
    }

    std::string token(const std::string& user) {
        auto r = run({"token", "--user", user, "--data-dir", data()}, "token-" + user);
        EXPECT_EQ(r.status, 0);
        if (!r.output.empty()) r.output.pop_back();
        return "Authorization: Bearer " + r.output;
    }
    // Three spaces, each with a journey from a built-in template and three
    // members: five events a space.
    std::string make_history() {
        const auto alice = token("alice");
        std::string first;
        for (const auto* name : {"DC exit", "Wave 2", "Archive"}) {
            auto r =
                http_call(port_, "POST", "/v1/spaces", {"Content-Type: application/json", alice},
                          std::string(R"({"name":")") + name + R"("})");
            EXPECT_EQ(r.status, 201) << r.body;
            const std::string id(boost::json::parse(r.body).at("id").as_string());
            if (first.empty()) first = id;
            auto j = http_call(port_, "POST", "/v1/spaces/" + id + "/journeys",
                               {"Content-Type: application/json", alice},
                               R"({"name":"Wave 1","template_id":"migops-quick-start"})");
            EXPECT_EQ(j.status, 201) << j.body;
            for (const auto* user : {"bob", "carol", "dave"}) {
                auto m = http_call(port_, "PUT", "/v1/spaces/" + id + "/members/" + user,
                                   {"Content-Type: application/json", alice},
                                   R"({"role":"space_contributor"})");
                EXPECT_EQ(m.status / 100, 2) << m.body;
            }
        }
        return first;
    }

    // Exports everything to file; fails the test unless it exits 0.
    void export_all(const fs::path& file) {
        auto r = run({"export", "--all", "--data-dir", data(), "--out", file.string()}, "export");
        ASSERT_EQ(r.status, 0) << r.output;
        EXPECT_NE(r.output.find("migops export: "), std::string::npos) << r.output;
        EXPECT_NE(r.output.find(" events ("), std::string::npos) << r.output;
    }

    // The index of a line in the middle of its partition (lines of it before
    // and after), not a checkpoint, whose data has a "name".
    static std::size_t pick_event(const std::vector<std::string>& lines) {
        for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
            const auto before = boost::json::parse(lines[i - 1]).as_object();
            const auto o = boost::json::parse(lines[i]).as_object();
            const auto next = boost::json::parse(lines[i + 1]).as_object();
            if (o.at("type").as_string() != checkpoint_type &&
                before.at("migopspartition") == o.at("migopspartition") &&
                o.at("data").as_object().contains("name") &&
                next.at("migopspartition") == o.at("migopspartition"))
                return i;
        }
        ADD_FAILURE() << "no event to tamper with";
        return 0;
    }
    static std::string where(const std::string& line) {
        const auto o = boost::json::parse(line).as_object();
        return "partition " + std::to_string(o.at("migopspartition").to_number<int>()) +
               " position " + std::to_string(o.at("migopsposition").to_number<int>()) + " (event " +
               std::string(o.at("id").as_string()) + ")";
    }

    temp_dir dir_;
    key_files keys_;
    key_files other_;
    std::uint16_t port_ = 0;
    child_process server_;
};

TEST_F(AuditTest, AnExportTakenWhileServingVerifiesAndATamperedCopyDoesNot) {
    make_history();
    const auto file = dir_.path() / "all.jsonl";
    // Checkpoints come every second: wait for one in an export.
    ASSERT_TRUE(wait_until(
        [&] {
            export_all(file);
            return read_text(file).find(checkpoint_type) != std::string::npos;
        },
        30s));
    EXPECT_EQ(http_get(port_, "/healthz").status, 200) << "the server runs on";
    // Checkpoints belong to no space: the history API shows them to no one.
    const auto alice = token("alice");
    http_reply history;
    EXPECT_TRUE(wait_until(
        [&] {
            history = http_call(port_, "GET", "/v1/events?limit=1000", {alice});
            return history.body.find("io.migops.space.created.v1") != std::string::npos;
        },
        10s))
        << history.body;
    EXPECT_EQ(history.body.find(checkpoint_type), std::string::npos) << history.body;

    auto ok = run({"verify", file.string(), "--public-key", keys_.public_pem.string()}, "verify");
    EXPECT_EQ(ok.status, 0) << ok.output;
    EXPECT_EQ(ok.output.rfind("ok: ", 0), 0u) << ok.output;
    EXPECT_NE(ok.output.find("verified with key"), std::string::npos) << ok.output;
    auto py = python_recipe(file);
    EXPECT_EQ(py.status, 0) << py.output;
    EXPECT_EQ(py.output.rfind("ok: ", 0), 0u) << py.output;

    const auto lines = lines_of(read_text(file));
    const auto i = pick_event(lines);

    // One byte of one event's data changed.
    auto changed = lines;
    const auto at = changed[i].find("\"name\":\"");
    ASSERT_NE(at, std::string::npos);
    char& byte = changed[i][at + 8];
    byte = byte == 'x' ? 'y' : 'x';
    const auto changed_file = dir_.path() / "changed.jsonl";
    write_lines(changed_file, changed);
    auto bad = run({"verify", changed_file.string()}, "verify-changed");
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find("line " + std::to_string(i + 1) + ": " + where(lines[i]) +
                              ": the hash does not match the event's content"),
              std::string::npos)
        << bad.output;
    auto py_changed = python_recipe(changed_file);
    EXPECT_NE(py_changed.status, 0) << py_changed.output;
    EXPECT_NE(py_changed.output.find("the hash does not match the content"), std::string::npos)
        << py_changed.output;

    // One event removed.
    auto removed = lines;
    removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(i));
    const auto removed_file = dir_.path() / "removed.jsonl";
    write_lines(removed_file, removed);
    auto gap = run({"verify", removed_file.string()}, "verify-removed");
    EXPECT_EQ(gap.status, 1) << gap.output;
    EXPECT_NE(gap.output.find(where(lines[i + 1]) + ": follows position"), std::string::npos)
        << gap.output;
    EXPECT_NE(gap.output.find("is missing"), std::string::npos) << gap.output;
    auto py_removed = python_recipe(removed_file);
    EXPECT_NE(py_removed.status, 0) << py_removed.output;
    EXPECT_NE(py_removed.output.find("does not follow"), std::string::npos) << py_removed.output;
}

TEST_F(AuditTest, ASpaceExportToStdoutHoldsThatSpaceAndVerifiesAsPartial) {
    const auto space = make_history();
    const auto file = dir_.path() / "space.jsonl";
    auto r = shell("'" + std::string(MIGOPS_BINARY) + "' export --space " + space +
                       " --data-dir '" + data() + "' > '" + file.string() + "'",
                   "export-space");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("of space " + space), std::string::npos) << r.output;
    const auto lines = lines_of(read_text(file));
    ASSERT_FALSE(lines.empty());
    std::size_t of_space = 0;
    for (const auto& l : lines) {
        const auto o = boost::json::parse(l).as_object();
        if (o.at("type").as_string() == checkpoint_type) continue;
        EXPECT_EQ(o.at("partitionkey").as_string(), space) << l;
        ++of_space;
    }
    EXPECT_EQ(of_space, 5u) << "created, a journey, three members";
    auto v = run({"verify", file.string(), "--partial"}, "verify-space");
    EXPECT_EQ(v.status, 0) << v.output;
    EXPECT_NE(v.output.find("linked to the event before them"), std::string::npos) << v.output;

    // A space the log holds, at a time it has no event: an empty export.
    const auto before = dir_.path() / "before.jsonl";
    auto none = run({"export", "--space", space, "--until", "2000-01-01T00:00:00Z", "--data-dir",
                     data(), "--out", before.string()},
                    "export-before");
    EXPECT_EQ(none.status, 0) << none.output;
    EXPECT_NE(none.output.find("migops export: 0 events"), std::string::npos) << none.output;
    EXPECT_TRUE(fs::exists(before));
}

TEST_F(AuditTest, StoppingSignsEveryHeadAndOnlyTheRightKeyVerifiesIt) {
    make_history();
    stop_server();

    auto ok = run({"verify", data(), "--public-key", keys_.public_pem.string()}, "verify-dir");
    EXPECT_EQ(ok.status, 0) << ok.output;
    EXPECT_NE(ok.output.find("verified with key"), std::string::npos) << ok.output;
    EXPECT_EQ(ok.output.find("not signed"), std::string::npos) << ok.output;

    // The last event of every partition is the checkpoint recorded on stop.
    const auto file = dir_.path() / "all.jsonl";
    export_all(file);
    const auto lines = lines_of(read_text(file));
    std::map<std::int64_t, std::string> last;
    std::map<std::int64_t, std::size_t> last_line;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto o = boost::json::parse(lines[i]).as_object();
        last[o.at("migopspartition").to_number<std::int64_t>()] = o.at("type").as_string();
        last_line[o.at("migopspartition").to_number<std::int64_t>()] = i + 1;
    }
    ASSERT_FALSE(last.empty());
    for (const auto& [p, type] : last) EXPECT_EQ(type, checkpoint_type) << "partition " << p;

    auto wrong =
        run({"verify", data(), "--public-key", other_.public_pem.string()}, "verify-wrong");
    EXPECT_EQ(wrong.status, 1) << wrong.output;
    EXPECT_NE(wrong.output.find("not by the key given"), std::string::npos) << wrong.output;

    // The README's OpenSSL recipe on one checkpoint, with each key.
    const auto script = dir_.path() / "check_checkpoint.sh";
    std::ofstream(script) << readme_block("# check_checkpoint.sh");
    const std::string line = std::to_string(last_line.begin()->second);
    auto good = shell("cd '" + dir_.path().string() + "' && sh '" + script.string() + "' '" +
                          file.string() + "' " + line + " '" + keys_.public_pem.string() + "'",
                      "openssl-good");
    EXPECT_EQ(good.status, 0) << good.output;
    EXPECT_NE(good.output.find("Signature Verified Successfully"), std::string::npos)
        << good.output;
    auto bad = shell("cd '" + dir_.path().string() + "' && sh '" + script.string() + "' '" +
                         file.string() + "' " + line + " '" + other_.public_pem.string() + "'",
                     "openssl-bad");
    EXPECT_NE(bad.status, 0) << bad.output;
}

TEST_F(AuditTest, AValueChangedDirectlyInRocksDbIsNamed) {
    make_history();
    stop_server();
    std::string place;
    {
        auto store = events::rocks_store::open(
            {data(), {events::events_column_family, events::meta_column_family}, nullptr});
        ASSERT_TRUE(store) << store.error().message;
        auto* cf = store.value()->column_family(events::events_column_family);
        std::unique_ptr<rocksdb::Iterator> it(store.value()->db().NewIterator({}, cf));
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            auto e = events::decode_binary({it->value().data(), it->value().size()});
            ASSERT_TRUE(e) << e.error().message;
            auto* created = std::get_if<events::space_created>(&e.value().data);
            if (!created) continue;
            // The content changes, the stored hash stays.
            created->name += " (rewritten)";
            rocksdb::WriteOptions wo;
            wo.sync = true;
            ASSERT_TRUE(
                store.value()->db().Put(wo, cf, it->key(), events::encode_binary(e.value())).ok());
            place = "partition " + std::to_string(e.value().partition) + " position " +
                    std::to_string(e.value().pos) + " (event " + e.value().event_id + ")";
            break;
        }
        ASSERT_FALSE(place.empty());
    }
    auto r = run({"verify", data()}, "verify-tampered");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_NE(r.output.find(place + ": the hash does not match the event's content"),
              std::string::npos)
        << r.output;

    // An export of it fails the Python recipe too.
    const auto file = dir_.path() / "tampered.jsonl";
    export_all(file);
    auto py = python_recipe(file);
    EXPECT_NE(py.status, 0) << py.output;
}

TEST_F(AuditTest, BadInputIsAClearMessageAndExitTwo) {
    const auto expect_usage = [&](const std::vector<std::string>& args, const std::string& what) {
        auto r = run(args, "bad");
        EXPECT_EQ(r.status, 2) << r.output;
        EXPECT_NE(r.output.find(what), std::string::npos) << r.output;
    };
    const auto not_json = dir_.path() / "not.jsonl";
    std::ofstream(not_json) << "hello\n";
    const auto no_hash = dir_.path() / "nohash.jsonl";
    std::ofstream(no_hash) << R"({"id":"x","type":"t","migopspartition":0,"migopsposition":1})"
                           << "\n";
    fs::create_directories(dir_.path() / "empty");
    std::ofstream(dir_.path() / "junk.pem") << "not a key\n";

    expect_usage({"verify", (dir_.path() / "none").string()}, "does not exist");
    expect_usage({"verify", (dir_.path() / "empty").string()}, "is not a migops data directory");
    expect_usage({"verify", not_json.string()}, "line 1: not JSON");
    expect_usage({"verify", no_hash.string()}, "line 1: attribute \"migopsprevhash\" is missing");
    expect_usage({"verify", data(), "--partial"}, "--partial is for export files");
    expect_usage({"verify", not_json.string(), "--public-key", (dir_.path() / "junk.pem").string()},
                 "is not a PEM public key");
    expect_usage({"export", "--data-dir", data()}, "give --space SPACE or --all");
    expect_usage({"export", "--all", "--since", "yesterday", "--data-dir", data()},
                 "--since must be an RFC 3339 date-time");
    expect_usage({"export", "--all", "--data-dir", (dir_.path() / "none").string()},
                 "does not exist");
    expect_usage({"export", "--all", "--since", "2026-12-01T00:00:00Z", "--until",
                  "2026-01-01T00:00:00Z", "--data-dir", data()},
                 "--since must not be after --until");
    // A space the log knows nothing of: no file, not an empty one.
    const auto unknown = dir_.path() / "unknown.jsonl";
    expect_usage({"export", "--space", "nosuch", "--data-dir", data(), "--out", unknown.string()},
                 "there is no space nosuch in the log");
    EXPECT_FALSE(fs::exists(unknown));
    EXPECT_FALSE(fs::exists(unknown.string() + ".partial"));
    // The command line's own usage errors exit 2 too.
    expect_usage({"export", "--all", "--space", "s", "--data-dir", data()}, "excludes");
    expect_usage({"export", "--all", "--no-such-flag", "--data-dir", data()}, "no-such-flag");

    // The server refuses a signing key that is not one.
    auto serve = run({"serve", "--data-dir", (dir_.path() / "other-data").string(), "--listen",
                      "127.0.0.1:" + std::to_string(free_port()), "--signing-key-file",
                      (dir_.path() / "junk.pem").string()},
                     "serve-junk-key");
    EXPECT_EQ(serve.status, 1) << serve.output;
    EXPECT_NE(serve.output.find("signing_key_file: "), std::string::npos) << serve.output;
}

}  // namespace
}  // namespace migops
