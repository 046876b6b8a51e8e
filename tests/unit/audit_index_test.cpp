// The audit index answers history by space, journey, task, actor, type and
// time from its own keys, pages without duplicates or gaps, refuses cursors
// that are not its own, rebuilds to the same rows, and a task's history
// costs the same however many unrelated events the store holds.

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include <rocksdb/slice_transform.h>

#include "engine/domain.h"
#include "engine/partition_processor.h"
#include "events/big_endian.h"
#include "events/codec.h"
#include "events/rocks_log.h"
#include "projections/audit_index.h"
#include "projections/catalogue.h"
#include "tests/unit/sample_events.h"
#include "tests/unit/temp_dir.h"

namespace migops::projections {
namespace {

constexpr std::int64_t second = 1'000'000;
constexpr std::int64_t start_micros = std::int64_t{1'800'000'000} * second;

class AuditIndexTest : public ::testing::Test {
  protected:
    void SetUp() override {
        open();
        start_runner();
        scenario();
        ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(30)));
    }
    void TearDown() override { close(); }

    void open() {
        store_ = std::move(
            events::rocks_store::open({dir_.path(),
                                       {events::events_column_family, events::meta_column_family,
                                        column_family_of(index_)},
                                       nullptr,
                                       nullptr,
                                       tune_family})
                .value());
        log_ = std::move(events::rocks_log::open(*store_, {.partitions = 4}).value());
        cf_ = store_->column_family(column_family_of(index_));
    }
    void start_processor() {
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
    }
    void close() {
        runner_.reset();
        processor_.reset();
        log_.reset();
        store_.reset();
    }
    void start_runner() {
        runner_ = std::make_unique<runner>(*store_, *log_, index_,
                                           runner_options{.batch_events = 5, .catch_up_events = 5});
        ASSERT_TRUE(runner_->start());
    }

    // Runs a command at the next second of the scenario's clock.
    std::vector<events::envelope> run(engine::command c, const std::string& actor) {
        if (!processor_) start_processor();
        clock_ += second;
        std::promise<result<std::vector<events::envelope>>> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->submit({std::move(c), user_id{actor}, timestamp{clock_}, ""},
                                       [&](auto r) { done.set_value(std::move(r)); }));
        auto r = f.get();
        EXPECT_TRUE(r) << r.error().message;
        return r ? r.value() : std::vector<events::envelope>{};
    }

    static node_id added(const std::vector<events::envelope>& es) {
        for (const auto& e : es)
            if (const auto* a = std::get_if<events::node_added>(&e.data)) return a->node;
        ADD_FAILURE() << "no node was added";
        return {};
    }
    static events::task_spec task(const std::string& title) {
        events::task_spec t;
        t.title = title;
        return t;
    }

    // Two spaces worked on by alice and bob, and a third made from a template.
    void scenario() {
        using namespace engine;
        run(create_space{space_id{"sa"}, "A", ""}, "alice");
        run(create_space{space_id{"sb"}, "B", ""}, "bob");
        run(grant_role{space_id{"sa"}, {}, user_id{"bob"}, {}, role::space_contributor}, "alice");
        run(create_journey{space_id{"sa"}, "J1", "", std::nullopt, std::nullopt, ""}, "alice");
        run(create_journey{space_id{"sa"}, "J2", "", std::nullopt, std::nullopt, ""}, "alice");
        const auto phase = added(run(add_phase{journey_id{"sa.j1"}, "Assess", "", {}}, "alice"));
        const auto module = added(run(add_module{phase, "Business", "", {}}, "alice"));
        task_a_ = added(run(add_task{module, task("Task A"), {}, std::nullopt}, "alice"));
        task_b_ = added(run(add_task{module, task("Task B"), {}, std::nullopt}, "alice"));
        run(add_task{task_a_, task("Subtask A1"), {}, std::nullopt}, "bob");
        run(assign_task{task_a_, user_id{"bob"}, {}}, "alice");
        run(change_task_status{task_a_, task_status::in_progress, "", {}}, "bob");
        run(change_task_status{task_b_, task_status::in_progress, "", {}}, "alice");
        run(add_comment{task_a_, "started"}, "bob");
        run(add_comment{task_b_, "other task"}, "bob");
        run(request_help{journey_id{"sa.j1"}, task_a_.value, help_kind::advice, "how?"}, "bob");
        run(cancel_help{journey_id{"sa.j1"}, "sa.j1.h1"}, "bob");
        run(add_phase{journey_id{"sa.j2"}, "Other", "", {}}, "alice");
        run(change_task_status{task_a_, task_status::blocked, "waiting", {}}, "alice");
        run(rename_space{space_id{"sb"}, "B2"}, "bob");
        run(create_journey{space_id{"sb"}, "BJ", "", std::nullopt, std::nullopt, ""}, "bob");
        const auto b_phase = added(run(add_phase{journey_id{"sb.j1"}, "P", "", {}}, "bob"));
        const auto b_module = added(run(add_module{b_phase, "M", "", {}}, "bob"));
        const auto b_task = added(run(add_task{b_module, task("T"), {}, std::nullopt}, "bob"));
        run(change_task_status{b_task, task_status::in_progress, "", {}}, "bob");
        run(create_space{space_id{"sc"}, "C", ""}, "carol");
        auto tpl = testing::sample_template();
        const auto hash = template_hash(tpl);
        run(create_journey{space_id{"sc"}, "From template", "", std::nullopt, tpl, hash}, "carol");
    }

    std::vector<events::envelope> all_events() {
        std::vector<events::envelope> out;
        for (partition_id p = 0; p < log_->partitions(); ++p) {
            auto read = log_->read(p, 1, 1'000'000);
            EXPECT_TRUE(read);
            for (auto& e : read.value()) out.push_back(std::move(e));
        }
        return out;
    }

    events::envelope event_at(const audit_hit& h) {
        auto read = log_->read(h.partition, h.pos, 1);
        EXPECT_TRUE(read);
        EXPECT_EQ(read.value().size(), 1u);
        return read.value().front();
    }

    audit_page page(const audit_query& q) {
        auto p = query_audit_index(store_->db(), cf_, q);
        EXPECT_TRUE(p) << p.error().message;
        return p ? std::move(p).value() : audit_page{};
    }

    // Every page of the query, limit events at a time.
    std::vector<audit_hit> all_pages(audit_query q, std::size_t limit) {
        q.limit = limit;
        std::vector<audit_hit> out;
        for (int pages = 0; pages < 1000; ++pages) {
            auto p = page(q);
            EXPECT_LE(p.hits.size(), limit);
            out.insert(out.end(), p.hits.begin(), p.hits.end());
            if (!p.next_cursor) return out;
            q.after_cursor = *p.next_cursor;
        }
        ADD_FAILURE() << "paging does not end";
        return out;
    }

    std::vector<events::envelope> events_of(const std::vector<audit_hit>& hits) {
        std::vector<events::envelope> out;
        for (const auto& h : hits) out.push_back(event_at(h));
        return out;
    }

    static std::vector<std::string> types_of(const std::vector<events::envelope>& es) {
        std::vector<std::string> out;
        for (const auto& e : es) out.emplace_back(events::type_name_of(e.data));
        return out;
    }

    static std::string subject_of(const events::envelope& e) {
        return std::string(events::to_cloudevent(e).at("subject").as_string());
    }

    // The oracle: the events of the whole log for which pred holds, in
    // log order (local indexes) or time order (cross-partition indexes).
    std::vector<audit_hit> expected(const std::function<bool(const events::envelope&)>& pred,
                                    bool by_time) {
        auto es = all_events();
        if (by_time)
            std::stable_sort(es.begin(), es.end(), [](const auto& a, const auto& b) {
                return std::tie(a.time, a.partition, a.pos) < std::tie(b.time, b.partition, b.pos);
            });
        std::vector<audit_hit> out;
        for (const auto& e : es)
            if (pred(e)) out.push_back({e.partition, e.pos});
        return out;
    }

    // What the index holds, entry by entry (blocks opened).
    std::map<std::string, std::string> dump() {
        auto entries = audit_index_entries(store_->db(), cf_);
        EXPECT_TRUE(entries);
        return entries ? std::move(entries).value() : std::map<std::string, std::string>{};
    }

    testing_support::temp_dir dir_;
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    rocksdb::ColumnFamilyHandle* cf_ = nullptr;
    audit_index index_;
    std::unique_ptr<runner> runner_;
    std::int64_t clock_ = start_micros;
    node_id task_a_;
    node_id task_b_;
};

TEST_F(AuditIndexTest, ByTaskFindsEveryEventAboutTheTaskInLogOrder) {
    audit_query q;
    q.task = task_a_;
    auto p = page(q);
    EXPECT_FALSE(p.next_cursor);
    const auto es = events_of(p.hits);
    // Its creation, a subtask added under it, and the help request's later
    // event, which names only the request.
    EXPECT_EQ(types_of(es),
              (std::vector<std::string>{"node.added", "node.added", "task.assigned",
                                        "task.status_changed", "comment.added", "help.requested",
                                        "help.cancelled", "task.status_changed"}));
    for (std::size_t i = 1; i < es.size(); ++i) EXPECT_LT(es[i - 1].pos, es[i].pos);
    EXPECT_EQ(std::get<events::node_added>(es[1].data).parent.value, task_a_.value);
}

TEST_F(AuditIndexTest, ANodeCreatedWithItsJourneyHasTheJourneyCreationInItsHistory) {
    audit_query by_space;
    by_space.space = space_id{"sc"};
    by_space.type_id = events::journey_created::type_id;
    auto created = events_of(page(by_space).hits);
    ASSERT_EQ(created.size(), 1u);
    const auto& j = std::get<events::journey_created>(created.front().data);
    const auto& sub = j.phases.at(0).modules.at(0).tasks.at(0).subtasks.at(0);
    audit_query q;
    q.task = node_id{sub.id};
    auto es = events_of(page(q).hits);
    ASSERT_EQ(es.size(), 1u);
    EXPECT_EQ(es.front().event_id, created.front().event_id);
}

TEST_F(AuditIndexTest, ByJourneyFindsTheJourneyAndEverythingInIt) {
    audit_query q;
    q.journey = journey_id{"sa.j1"};
    auto hits = page(q).hits;
    auto want = expected(
        [](const events::envelope& e) {
            const auto s = subject_of(e);
            return s == "sa.j1" || s.starts_with("sa.j1.");
        },
        false);
    EXPECT_EQ(hits, want);
    EXPECT_EQ(hits.size(), 14u);
    // j10 would share a textual prefix with j1: ids are length-prefixed.
    audit_query other;
    other.journey = journey_id{"sa.j"};
    EXPECT_TRUE(page(other).hits.empty());
}

TEST_F(AuditIndexTest, BySpaceFindsEveryEventOfTheSpaceInLogOrder) {
    for (const std::string s : {"sa", "sb", "sc"}) {
        audit_query q;
        q.space = space_id{s};
        EXPECT_EQ(page(q).hits,
                  expected([&](const events::envelope& e) { return e.space.value == s; }, false))
            << s;
    }
    audit_query none;
    none.space = space_id{"nope"};
    EXPECT_TRUE(page(none).hits.empty());
}

TEST_F(AuditIndexTest, ByActorTypeAndTimeAcrossSpacesInTimeOrder) {
    audit_query by_actor;
    by_actor.actor = user_id{"bob"};
    auto bob = page(by_actor).hits;
    EXPECT_EQ(bob, expected([](const auto& e) { return e.actor.value == "bob"; }, true));
    std::set<std::string> spaces;
    for (const auto& e : events_of(bob)) spaces.insert(e.space.value);
    EXPECT_EQ(spaces, (std::set<std::string>{"sa", "sb"}));

    audit_query by_type;
    by_type.type_id = events::task_status_changed::type_id;
    auto changes = page(by_type).hits;
    EXPECT_EQ(changes.size(), 4u);
    EXPECT_EQ(changes, expected(
                           [](const auto& e) {
                               return std::holds_alternative<events::task_status_changed>(e.data);
                           },
                           true));

    audit_query everything;
    everything.limit = audit_max_limit;
    EXPECT_EQ(page(everything).hits, expected([](const auto&) { return true; }, true));
}

TEST_F(AuditIndexTest, SinceIsInclusiveAndUntilExclusiveOnEveryIndex) {
    const auto all = all_events();
    // The scenario's 10th and 20th command times.
    const timestamp since{start_micros + 10 * second};
    const timestamp until{start_micros + 20 * second};
    auto in_range = [&](const events::envelope& e) { return e.time >= since && e.time < until; };
    ASSERT_TRUE(
        std::any_of(all.begin(), all.end(), [&](const auto& e) { return e.time == since; }));
    ASSERT_TRUE(
        std::any_of(all.begin(), all.end(), [&](const auto& e) { return e.time == until; }));

    audit_query by_time;
    by_time.since = since;
    by_time.until = until;
    EXPECT_EQ(page(by_time).hits, expected(in_range, true));

    audit_query by_space = by_time;
    by_space.space = space_id{"sa"};
    EXPECT_EQ(page(by_space).hits,
              expected([&](const auto& e) { return e.space.value == "sa" && in_range(e); }, false));

    audit_query by_actor = by_time;
    by_actor.actor = user_id{"bob"};
    EXPECT_EQ(page(by_actor).hits,
              expected([&](const auto& e) { return e.actor.value == "bob" && in_range(e); }, true));

    audit_query only_since;
    only_since.since = until;
    EXPECT_EQ(page(only_since).hits,
              expected([&](const auto& e) { return e.time >= until; }, true));
    audit_query only_until;
    only_until.until = since;
    EXPECT_EQ(page(only_until).hits, expected([&](const auto& e) { return e.time < since; }, true));

    audit_query empty;
    empty.since = since;
    empty.until = since;
    EXPECT_TRUE(page(empty).hits.empty());
}

TEST_F(AuditIndexTest, CombinedConditionsMustAllHold) {
    audit_query space_actor;
    space_actor.space = space_id{"sa"};
    space_actor.actor = user_id{"bob"};
    EXPECT_EQ(
        page(space_actor).hits,
        expected([](const auto& e) { return e.space.value == "sa" && e.actor.value == "bob"; },
                 false));
    EXPECT_FALSE(page(space_actor).hits.empty());

    audit_query journey_type;
    journey_type.journey = journey_id{"sa.j1"};
    journey_type.type_id = events::comment_added::type_id;
    EXPECT_EQ(types_of(events_of(page(journey_type).hits)),
              (std::vector<std::string>{"comment.added", "comment.added"}));

    audit_query task_in_journey;
    task_in_journey.task = task_a_;
    task_in_journey.journey = journey_id{"sa.j1"};
    EXPECT_EQ(page(task_in_journey).hits.size(), 8u);
    task_in_journey.journey = journey_id{"sa.j2"};
    EXPECT_TRUE(page(task_in_journey).hits.empty());

    audit_query task_in_space;
    task_in_space.task = task_a_;
    task_in_space.space = space_id{"sb"};
    EXPECT_TRUE(page(task_in_space).hits.empty());

    audit_query task_actor_type;
    task_actor_type.task = task_a_;
    task_actor_type.actor = user_id{"alice"};
    task_actor_type.type_id = events::task_status_changed::type_id;
    auto es = events_of(page(task_actor_type).hits);
    ASSERT_EQ(es.size(), 1u);
    EXPECT_EQ(std::get<events::task_status_changed>(es.front().data).to,
              events::task_status::blocked);

    audit_query actor_type;
    actor_type.actor = user_id{"bob"};
    actor_type.type_id = events::task_status_changed::type_id;
    EXPECT_EQ(page(actor_type).hits,
              expected(
                  [](const auto& e) {
                      return e.actor.value == "bob" &&
                             std::holds_alternative<events::task_status_changed>(e.data);
                  },
                  true));
    EXPECT_EQ(page(actor_type).hits.size(), 2u);

    audit_query allowed;
    allowed.type_id = events::task_status_changed::type_id;
    allowed.space_allowed = [](const space_id& s) { return s.value == "sb"; };
    auto only_sb = events_of(page(allowed).hits);
    ASSERT_EQ(only_sb.size(), 1u);
    EXPECT_EQ(only_sb.front().space.value, "sb");
}

TEST_F(AuditIndexTest, PagesHaveNoDuplicatesAndNoGaps) {
    std::vector<audit_query> queries(5);
    queries[0].space = space_id{"sa"};
    queries[1].journey = journey_id{"sa.j1"};
    queries[2].actor = user_id{"bob"};
    queries[3].type_id = events::node_added::type_id;
    queries[4].since = timestamp{start_micros + 3 * second};
    queries[4].actor = user_id{"alice"};
    queries[4].type_id = events::node_added::type_id;
    for (auto& q : queries) {
        q.limit = audit_max_limit;
        const auto whole = page(q).hits;
        ASSERT_GE(whole.size(), 3u);
        for (std::size_t limit : {std::size_t{1}, std::size_t{2}, std::size_t{3}, whole.size()})
            EXPECT_EQ(all_pages(q, limit), whole) << "limit " << limit;
    }
    // A page that ends exactly with the last event says there is no more.
    audit_query exact = queries[0];
    exact.limit = page(queries[0]).hits.size();
    EXPECT_FALSE(page(exact).next_cursor);
}

TEST_F(AuditIndexTest, ACursorCarriesOnAfterNewEvents) {
    audit_query q;
    q.space = space_id{"sb"};
    q.limit = 2;
    auto first = page(q);
    ASSERT_TRUE(first.next_cursor);
    const auto before = all_pages(q, 100).size();
    run(engine::describe_space{space_id{"sb"}, "more"}, "bob");
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    q.after_cursor = *first.next_cursor;
    q.limit = audit_max_limit;
    auto rest = page(q);
    EXPECT_EQ(first.hits.size() + rest.hits.size(), before + 1);
    EXPECT_EQ(std::string(events::type_name_of(event_at(rest.hits.back()).data)),
              "space.described");
}

TEST_F(AuditIndexTest, RefusesBadCursorsAndBounds) {
    audit_query q;
    q.space = space_id{"sa"};
    q.limit = 1;
    auto first = page(q);
    ASSERT_TRUE(first.next_cursor);
    const auto good = *first.next_cursor;
    auto refused = [&](audit_query bad) {
        auto r = query_audit_index(store_->db(), cf_, bad);
        return !r && r.error().code == errc::invalid_argument;
    };
    for (const std::string& cursor :
         {std::string("zz"), std::string("abc"), good.substr(0, good.size() - 2), good + "00",
          std::string(good.size(), 'f'), std::string("not a cursor")}) {
        auto bad = q;
        bad.after_cursor = cursor;
        EXPECT_TRUE(refused(bad)) << cursor;
    }
    // Another query's cursor.
    auto other = q;
    other.space = space_id{"sb"};
    other.after_cursor = good;
    EXPECT_TRUE(refused(other));
    auto by_actor = q;
    by_actor.space = {};
    by_actor.actor = user_id{"alice"};
    by_actor.after_cursor = good;
    EXPECT_TRUE(refused(by_actor));

    auto zero = q;
    zero.limit = 0;
    EXPECT_TRUE(refused(zero));
    auto too_many = q;
    too_many.limit = audit_max_limit + 1;
    EXPECT_TRUE(refused(too_many));
    auto backwards = q;
    backwards.since = timestamp{start_micros + 5 * second};
    backwards.until = timestamp{start_micros + 4 * second};
    EXPECT_TRUE(refused(backwards));
}

TEST_F(AuditIndexTest, AScanBudgetEndsAPageWithACursor) {
    audit_query q;
    q.space = space_id{"sa"};
    q.actor = user_id{"carol"};  // never acts in sa: every entry is rejected
    q.scan_budget = 4;
    auto p = page(q);
    EXPECT_TRUE(p.hits.empty());
    EXPECT_LE(p.visited, 5u);
    ASSERT_TRUE(p.next_cursor);
    audit_query rest = q;
    rest.scan_budget = audit_default_scan_budget;
    rest.after_cursor = *p.next_cursor;
    auto r = page(rest);
    EXPECT_TRUE(r.hits.empty());
    EXPECT_FALSE(r.next_cursor);
}

// Answers of queries and of space_events, every page at several limits.
struct answers {
    std::vector<std::vector<audit_hit>> pages;
    std::vector<std::vector<space_event>> space_reads;
    friend bool operator==(const answers&, const answers&) = default;
};

TEST_F(AuditIndexTest, BlocksOfARebuildAnswerAsTheIndexBuiltEventByEventDoes) {
    // Enough events about one task, its journey and its space for a rebuild
    // to write them in more than one block each.
    const std::size_t changes = 2 * audit_block_entries + 50;
    for (std::size_t i = 0; i < changes; ++i)
        run(engine::change_task_status{task_a_,
                                       i % 2 == 0 ? events::task_status::in_progress
                                                  : events::task_status::planned,
                                       "",
                                       {}},
            i % 3 == 0 ? "alice" : "bob");
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(30)));

    std::vector<audit_query> queries(6);
    queries[0].task = task_a_;
    queries[1].task = task_a_;
    queries[1].journey = journey_id{"sa.j1"};
    queries[2].journey = journey_id{"sa.j1"};
    queries[2].actor = user_id{"alice"};
    queries[3].space = space_id{"sa"};
    queries[3].since = timestamp{start_micros + 40 * second};
    queries[3].until = timestamp{start_micros + 300 * second};
    queries[4].space = space_id{"sa"};
    queries[4].type_id = events::task_status_changed::type_id;
    queries[5].space = space_id{"sa"};
    const auto head = log_->head(events::partition_of(space_id{"sa"}, log_->partitions())).pos;
    const std::vector<std::pair<position, position>> ranges{
        {0, head}, {10, 50}, {140, 300}, {head - 1, head}, {head, head + 5}};
    auto answer = [&] {
        answers out;
        for (const auto& q : queries)
            for (std::size_t limit : {std::size_t{1}, std::size_t{7}, audit_max_limit})
                out.pages.push_back(all_pages(q, limit));
        for (const auto& [after, up_to] : ranges)
            for (std::size_t limit : {std::size_t{3}, audit_max_limit}) {
                auto read = space_events(store_->db(), cf_, space_id{"sa"}, after, up_to, limit);
                EXPECT_TRUE(read);
                out.space_reads.push_back(read ? read.value() : std::vector<space_event>{});
            }
        return out;
    };
    const auto incremental = answer();
    const auto incremental_entries = dump();

    // The oracle, for the answers of the index built event by event.
    const auto of_sa = [](const events::envelope& e) { return e.space == space_id{"sa"}; };
    EXPECT_EQ(incremental.pages[5 * 3], expected(of_sa, false));
    EXPECT_EQ(incremental.pages[3 * 3], expected(
                                            [&](const events::envelope& e) {
                                                return of_sa(e) && e.time >= *queries[3].since &&
                                                       e.time < *queries[3].until;
                                            },
                                            false));
    const auto changes_of_a = expected(
        [&](const events::envelope& e) {
            const auto* c = std::get_if<events::task_status_changed>(&e.data);
            return c && c->task == task_a_;
        },
        false);
    ASSERT_GT(changes_of_a.size(), changes);
    const auto& on_a = incremental.pages[0];
    for (const auto& hit : changes_of_a)
        EXPECT_NE(std::find(on_a.begin(), on_a.end(), hit), on_a.end());
    std::size_t read = 0;
    for (const auto& [after, up_to] : ranges)
        for (std::size_t limit : {std::size_t{3}, audit_max_limit}) {
            std::vector<space_event> want;
            for (const auto& e : all_events())
                if (of_sa(e) && e.pos > after && e.pos <= up_to && want.size() < limit)
                    want.push_back({e.pos, e.time});
            EXPECT_EQ(incremental.space_reads[read++], want) << after << " " << up_to;
        }

    runner_->stop();
    runner_.reset();
    runner rebuilder(*store_, *log_, index_);  // batches of thousands of events
    ASSERT_TRUE(rebuilder.rebuild());

    // The space's entries are now in a few blocks of at most
    // audit_block_entries.
    std::string space_prefix = "s/";
    events::append_big_endian(space_prefix, 2, 4);
    space_prefix += "sa";
    std::size_t space_rows = 0;
    std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator({}, cf_));
    for (it->Seek(space_prefix); it->Valid() && it->key().starts_with(space_prefix); it->Next())
        ++space_rows;
    const auto space_entries = incremental.pages[5 * 3].size();
    ASSERT_GT(space_entries, 2 * audit_block_entries);
    EXPECT_EQ(space_rows, (space_entries + audit_block_entries - 1) / audit_block_entries);

    EXPECT_EQ(dump(), incremental_entries);
    EXPECT_EQ(answer(), incremental);
}

TEST_F(AuditIndexTest, TimedBlocksOfARebuildMergeThePartitionsInTimeOrder) {
    // Status changes in two spaces of different partitions, by turns, so
    // that the partitions' runs of a/, y/ and m/ interleave in time.
    ASSERT_NE(events::partition_of(space_id{"sa"}, log_->partitions()),
              events::partition_of(space_id{"sb"}, log_->partitions()));
    const auto phase = added(run(engine::add_phase{journey_id{"sb.j1"}, "P2", "", {}}, "bob"));
    const auto module = added(run(engine::add_module{phase, "M2", "", {}}, "bob"));
    const auto task_c =
        added(run(engine::add_task{module, task("Task C"), {}, std::nullopt}, "bob"));
    const std::size_t changes = 2 * audit_block_entries + 50;
    for (std::size_t i = 0; i < changes; ++i) {
        const auto status =
            i % 4 < 2 ? events::task_status::in_progress : events::task_status::planned;
        if (i % 2 == 0)
            run(engine::change_task_status{task_a_, status, "", {}}, i % 3 == 0 ? "alice" : "bob");
        else
            run(engine::change_task_status{task_c, status, "", {}}, "bob");
    }
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(30)));

    const timestamp mid{start_micros + 120 * second};
    const timestamp later{start_micros + 301 * second};
    std::vector<audit_query> queries(7);
    queries[0].actor = user_id{"bob"};
    queries[1].actor = user_id{"alice"};
    queries[1].since = mid;
    queries[1].until = later;
    queries[2].type_id = events::task_status_changed::type_id;
    queries[3].type_id = events::task_status_changed::type_id;
    queries[3].since = mid;
    queries[4].since = mid;
    queries[4].until = later;
    queries[5].until = later;
    queries[6].since = later;
    const auto changed = [](const events::envelope& e) {
        return std::holds_alternative<events::task_status_changed>(e.data);
    };
    const auto in = [](const events::envelope& e, const audit_query& q) {
        return (!q.since || e.time >= *q.since) && (!q.until || e.time < *q.until);
    };
    std::vector<std::vector<audit_hit>> oracle;
    oracle.push_back(expected([&](const auto& e) { return e.actor.value == "bob"; }, true));
    oracle.push_back(expected(
        [&](const auto& e) { return e.actor.value == "alice" && in(e, queries[1]); }, true));
    oracle.push_back(expected(changed, true));
    oracle.push_back(
        expected([&](const auto& e) { return changed(e) && in(e, queries[3]); }, true));
    for (std::size_t i = 4; i < queries.size(); ++i)
        oracle.push_back(expected([&](const auto& e) { return in(e, queries[i]); }, true));
    for (const auto& o : oracle) ASSERT_FALSE(o.empty());
    ASSERT_GT(oracle[2].size(), changes);

    const auto answer = [&] {
        std::vector<std::vector<audit_hit>> out;
        for (const auto& q : queries)
            for (std::size_t limit : {std::size_t{1}, std::size_t{7}, audit_max_limit})
                out.push_back(all_pages(q, limit));
        return out;
    };
    const auto check = [&](const std::vector<std::vector<audit_hit>>& got) {
        for (std::size_t i = 0; i < got.size(); ++i)
            EXPECT_EQ(got[i], oracle[i / 3]) << "query " << i / 3 << ", limit #" << i % 3;
    };
    const auto incremental = answer();
    check(incremental);
    const auto incremental_entries = dump();

    runner_->stop();
    runner_.reset();
    runner rebuilder(*store_, *log_, index_);  // batches of thousands of events
    ASSERT_TRUE(rebuilder.rebuild());
    // The time index holds a few blocks per partition now.
    std::size_t time_rows = 0;
    std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator({}, cf_));
    for (it->Seek("m/"); it->Valid() && it->key().starts_with("m/"); it->Next()) ++time_rows;
    EXPECT_LE(time_rows, all_events().size() / (audit_block_entries / 2));
    EXPECT_EQ(dump(), incremental_entries);
    check(answer());
}

TEST_F(AuditIndexTest, AnEventTimedBeforeAnEarlierOneOfItsPartitionIsFoundAtThatTime) {
    const auto type = events::task_status_changed::type_id;
    const auto first =
        run(engine::change_task_status{task_b_, events::task_status::planned, "", {}}, "alice");
    const timestamp at = first.front().time;
    clock_ -= 10 * second;  // a clock that went back
    const auto early =
        run(engine::change_task_status{task_b_, events::task_status::in_progress, "", {}}, "alice");
    ASSERT_LT(early.front().time, at);
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    const auto hits_of = [](const std::vector<events::envelope>& es) {
        return audit_hit{es.front().partition, es.front().pos};
    };
    // The timed indexes hold it at the earlier event's time, after it.
    audit_query since_then;
    since_then.type_id = type;
    since_then.since = at;
    EXPECT_EQ(page(since_then).hits, (std::vector<audit_hit>{hits_of(first), hits_of(early)}));
    audit_query before_then;
    before_then.actor = user_id{"alice"};
    before_then.until = at;
    for (const auto& h : page(before_then).hits) EXPECT_NE(h, hits_of(early));
    // An index ordered by position filters on the event's own time.
    audit_query in_space;
    in_space.space = space_id{"sa"};
    in_space.until = at;
    const auto local = page(in_space).hits;
    EXPECT_NE(std::find(local.begin(), local.end(), hits_of(early)), local.end());

    // The partition's index time is kept across a restart.
    runner_->stop();
    runner_.reset();
    audit_index restarted;
    runner follower(*store_, *log_, restarted);
    ASSERT_TRUE(follower.start());
    clock_ -= 20 * second;
    const auto earlier =
        run(engine::change_task_status{task_b_, events::task_status::planned, "", {}}, "alice");
    ASSERT_TRUE(follower.wait_caught_up(std::chrono::seconds(10)));
    EXPECT_EQ(page(since_then).hits,
              (std::vector<audit_hit>{hits_of(first), hits_of(early), hits_of(earlier)}));

    const auto incremental = dump();
    follower.stop();
    runner rebuilder(*store_, *log_, index_);
    ASSERT_TRUE(rebuilder.rebuild());
    EXPECT_EQ(dump(), incremental);
    EXPECT_EQ(page(since_then).hits,
              (std::vector<audit_hit>{hits_of(first), hits_of(early), hits_of(earlier)}));
}

TEST_F(AuditIndexTest, ADamagedBlockIsCorruptionNotAnAnswer) {
    std::string key = "s/";
    events::append_big_endian(key, 2, 4);
    key += "sa";
    events::append_big_endian(key, 1'000'000, 8);  // after every entry of sa
    for (const std::string& bad :
         {std::string("\x02", 1), std::string("\x02\x00\x00\x00\xff", 5),
          std::string("\x02\x00\x00\x00\x01\x01", 6), std::string("\x02\x00\x00", 3)}) {
        ASSERT_TRUE(store_->db().Put({}, cf_, key, bad).ok());
        audit_query q;
        q.space = space_id{"sa"};
        q.limit = audit_max_limit;
        auto r = query_audit_index(store_->db(), cf_, q);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, errc::corruption);
        auto read = space_events(store_->db(), cf_, space_id{"sa"}, 0, 2'000'000, 10'000);
        ASSERT_FALSE(read);
        EXPECT_EQ(read.error().code, errc::corruption);
        EXPECT_FALSE(audit_index_entries(store_->db(), cf_));
    }
}

TEST_F(AuditIndexTest, ADamagedIndexTimeOrTimedKeyIsCorruption) {
    runner_->stop();
    runner_.reset();
    // A partition's index time that is not 8 bytes stops the index at the
    // next event of the partition, which it does not apply.
    const auto p = events::partition_of(space_id{"sa"}, log_->partitions());
    std::string time_key = "t/";
    events::append_big_endian(time_key, p, 4);
    ASSERT_TRUE(store_->db().Put({}, cf_, time_key, "x").ok());
    audit_index fresh;
    runner follower(*store_, *log_, fresh);
    ASSERT_TRUE(follower.start());
    const auto before = dump();
    run(engine::change_task_status{task_b_, events::task_status::planned, "", {}}, "alice");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!follower.failed() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(follower.failed());
    EXPECT_EQ(follower.failed()->code, errc::corruption);
    EXPECT_EQ(dump(), before);
    follower.stop();

    // A time index key too short for a partition, a time and a position.
    ASSERT_TRUE(store_->db().Put({}, cf_, std::string("m/\x01", 3), "x").ok());
    audit_query everything;
    auto r = query_audit_index(store_->db(), cf_, everything);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::corruption);
}

// RocksDB puts a row beside the last one written of its run (row_runs):
// a run is an id's entries (and, in a/, y/ and m/, one partition's), which
// are written in key order; every other row is a run of its own.
TEST_F(AuditIndexTest, ARunIsAnIdsEntriesAndAnyOtherRowIsItsOwn) {
    const auto runs = index_.row_runs();
    ASSERT_NE(runs, nullptr);
    std::map<std::string, std::vector<std::string>> by_run;
    std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator({}, cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const auto key = it->key().ToString();
        const auto run = runs->Transform(key).ToString();
        ASSERT_TRUE(key.starts_with(run)) << key;
        by_run[run].push_back(key);
    }
    ASSERT_TRUE(it->status().ok());
    const auto id_run = [](std::string_view tag, std::string_view id) {
        std::string k(tag);
        events::append_big_endian(k, id.size(), 4);
        k += id;
        return k;
    };
    // A node's, a journey's and a space's entries: each a run, keyed on by
    // the position.
    for (const auto& run : {id_run("n/", task_a_.value), id_run("n/", task_b_.value),
                            id_run("j/", "sa.j1"), id_run("s/", "sa")}) {
        ASSERT_TRUE(by_run.contains(run)) << run;
        for (const auto& key : by_run.at(run)) EXPECT_EQ(key.size(), run.size() + 8);
    }
    // An actor's entries: a run per partition, keyed on by time and position.
    const auto bob = id_run("a/", "bob");
    std::set<std::uint64_t> partitions;
    for (const auto& [run, keys] : by_run) {
        if (!run.starts_with(bob)) continue;
        ASSERT_EQ(run.size(), bob.size() + 4);
        partitions.insert(events::get_big_endian(run.data() + bob.size(), 4));
        for (const auto& key : keys) EXPECT_EQ(key.size(), run.size() + 16);
    }
    EXPECT_EQ(partitions,
              (std::set<std::uint64_t>{events::partition_of(space_id{"sa"}, log_->partitions()),
                                       events::partition_of(space_id{"sb"}, log_->partitions())}));
    // The rows that are no index entries.
    std::string time_key = "t/";
    events::append_big_endian(time_key, events::partition_of(space_id{"sa"}, log_->partitions()),
                              4);
    for (const auto& row : {time_key, std::string("checkpoint"), std::string("format")}) {
        ASSERT_TRUE(by_run.contains(row)) << row;
        EXPECT_EQ(by_run.at(row), std::vector<std::string>{row});
    }
}

TEST_F(AuditIndexTest, ARebuildFromTheStartEqualsTheIncrementalIndex) {
    const auto incremental = dump();
    ASSERT_GT(incremental.size(), 100u);
    runner_->stop();
    runner_.reset();
    runner rebuilder(*store_, *log_, index_);
    ASSERT_TRUE(rebuilder.rebuild());
    EXPECT_EQ(dump(), incremental);
}

TEST_F(AuditIndexTest, ResumesAfterARestartWithTheSameRows) {
    runner_->stop();
    run(engine::request_help{journey_id{"sa.j1"}, task_b_.value, events::help_kind::advice, "?"},
        "alice");
    processor_->stop();
    processor_.reset();
    runner_.reset();
    close();
    open();
    start_runner();
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    run(engine::accept_help{journey_id{"sa.j1"}, "sa.j1.h2"}, "bob");
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(10)));
    audit_query q;
    q.task = task_b_;
    q.type_id = events::help_accepted::type_id;
    EXPECT_EQ(page(q).hits.size(), 1u) << "the request's target was read back after the restart";
    const auto incremental = dump();
    runner_->stop();
    runner_.reset();
    runner rebuilder(*store_, *log_, index_);
    ASSERT_TRUE(rebuilder.rebuild());
    EXPECT_EQ(dump(), incremental);
}

// Unrelated events: other tasks of the same journey and space, the same
// actor, the same types, and other spaces in every partition.
void append_unrelated(events::event_log& log, std::size_t count, std::int64_t time,
                      const node_id& task) {
    constexpr std::size_t chunk = 5000;
    std::vector<std::vector<events::envelope>> batches(log.partitions());
    std::vector<events::chain_head> heads;
    for (partition_id p = 0; p < log.partitions(); ++p) heads.push_back(log.head(p));
    auto flush = [&] {
        for (partition_id p = 0; p < log.partitions(); ++p) {
            if (batches[p].empty()) continue;
            ASSERT_TRUE(log.append(p, batches[p]));
            batches[p].clear();
        }
    };
    for (std::size_t i = 0; i < count; ++i) {
        events::envelope e;
        e.event_id = random_id();
        e.time = timestamp{time + static_cast<std::int64_t>(i)};
        e.actor = user_id{"bob"};
        if (i % 2 == 0) {
            e.space = space_id{"sa"};
            // The task's id is a textual prefix of these nodes' ids.
            e.data = events::comment_added{node_id{task.value + std::to_string(i % 50)},
                                           "c" + std::to_string(i), "noise"};
        } else {
            e.space = space_id{"noise" + std::to_string(i % 97)};
            e.data = events::task_status_changed{node_id{e.space.value + ".j1.n3"},
                                                 events::task_status::planned,
                                                 events::task_status::in_progress,
                                                 "",
                                                 {}};
        }
        e.partition = events::partition_of(e.space, log.partitions());
        heads[e.partition] = events::seal(e, heads[e.partition]);
        batches[e.partition].push_back(std::move(e));
        if (i % chunk == chunk - 1) flush();
    }
    flush();
}

TEST_F(AuditIndexTest, ATaskQueryVisitsTheSameEntriesWhateverElseTheStoreHolds) {
    audit_query q;
    q.task = task_a_;
    const auto small = page(q);
    ASSERT_EQ(small.hits.size(), 8u);
    audit_query by_type = q;
    by_type.type_id = events::task_status_changed::type_id;
    const auto small_typed = page(by_type);

    processor_->stop();
    processor_.reset();
    constexpr std::size_t unrelated = 100'000;
    append_unrelated(*log_, unrelated, clock_ + second, task_a_);
    ASSERT_TRUE(runner_->wait_caught_up(std::chrono::seconds(300)));
    audit_query everything;
    everything.actor = user_id{"bob"};
    everything.scan_budget = unrelated * 2;
    everything.limit = audit_max_limit;
    ASSERT_TRUE(page(everything).next_cursor) << "the noise is indexed";

    const auto large = page(q);
    EXPECT_EQ(large.hits, small.hits);
    EXPECT_EQ(large.visited, small.visited);
    EXPECT_EQ(large.visited, small.hits.size());
    const auto large_typed = page(by_type);
    EXPECT_EQ(large_typed.hits, small_typed.hits);
    EXPECT_EQ(large_typed.visited, small_typed.visited);
}

TEST(AuditEventTypes, NamesAreCloudEventsTypesOrShortNames) {
    EXPECT_EQ(event_type_id("io.migops.task.status_changed.v1"),
              events::task_status_changed::type_id);
    EXPECT_EQ(event_type_id("task.status_changed"), events::task_status_changed::type_id);
    EXPECT_EQ(event_type_id("space.created"), events::space_created::type_id);
    EXPECT_FALSE(event_type_id("io.migops.task.status_changed.v2"));
    EXPECT_FALSE(event_type_id("task.status_changed.v1"));
    EXPECT_FALSE(event_type_id("io.migops.task.status_changed"));
    EXPECT_FALSE(event_type_id(""));
    EXPECT_FALSE(event_type_id("task"));
    std::size_t known = 0;
    events::for_each_event_type([&]<class E>(std::type_identity<E>) {
        EXPECT_EQ(event_type_id(E::type_name), E::type_id);
        EXPECT_EQ(event_type_id(events::cloudevents_type_of(E{})), E::type_id);
        ++known;
    });
    EXPECT_EQ(known, std::variant_size_v<events::payload>);
}

}  // namespace
}  // namespace migops::projections
