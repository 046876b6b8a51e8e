// The stream's subscriptions in process, with a connection the test drives:
// the test thread plays the connection's strand (it runs what the
// subscription schedules and reports frames written), the board runner
// delivers live batches on its own thread.

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <list>
#include <mutex>
#include <thread>

#include <boost/json/parse.hpp>

#include "api/stream.h"
#include "engine/partition_processor.h"
#include "events/rocks_log.h"
#include "projections/board.h"
#include "tests/unit/temp_dir.h"

namespace migops::api {
namespace {

using namespace std::chrono_literals;

// A connection whose strand is the test thread.
class test_connection final : public ws_connection {
  public:
    void send(ws_frame f) override {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        frames_.push_back(std::move(f));
        changed_.notify_all();
    }
    void close(std::uint16_t code, std::string reason, bool discard_queued) override {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = true;
        code_ = code;
        reason_ = std::move(reason);
        discard_ = discard_queued;
        changed_.notify_all();
    }
    void after(std::chrono::milliseconds delay, std::function<void()> f) override {
        std::lock_guard lock(mutex_);
        (delay.count() <= 0 ? soon_ : later_).push_back(std::move(f));
        changed_.notify_all();
    }

    // Runs what was scheduled without delay until nothing is left.
    void pump() {
        for (;;) {
            std::function<void()> f;
            {
                std::lock_guard lock(mutex_);
                if (soon_.empty()) return;
                f = std::move(soon_.front());
                soon_.erase(soon_.begin());
            }
            f();
        }
    }
    // Runs the delayed callbacks as if their time had come.
    void fire_timers() {
        std::vector<std::function<void()>> due;
        {
            std::lock_guard lock(mutex_);
            due.swap(later_);
        }
        for (auto& f : due) f();
    }
    // Waits (pumping) until there are n frames or more; false when the
    // connection closed with fewer, or at the deadline.
    bool wait_frames(std::size_t n) {
        return wait([&] { return frames_.size() >= n; }) && frames().size() >= n;
    }
    bool wait_closed() {
        return wait([] { return false; }) && closed();
    }
    // The frames as text, in order.
    std::vector<std::string> texts() {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& f : frames_) out.push_back(f.head + (f.body ? *f.body : "") + f.tail);
        return out;
    }
    std::vector<ws_frame> frames() {
        std::lock_guard lock(mutex_);
        return frames_;
    }
    bool closed() {
        std::lock_guard lock(mutex_);
        return closed_;
    }
    std::uint16_t code() {
        std::lock_guard lock(mutex_);
        return code_;
    }
    std::string reason() {
        std::lock_guard lock(mutex_);
        return reason_;
    }
    bool discarded() {
        std::lock_guard lock(mutex_);
        return discard_;
    }

  private:
    // Pumps until done() (called under the lock) holds or the connection closed.
    bool wait(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (;;) {
            pump();
            std::unique_lock lock(mutex_);
            if (done() || closed_) return done() || closed_;
            if (!soon_.empty()) continue;
            if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) return false;
        }
    }

    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<ws_frame> frames_;
    std::vector<std::function<void()>> soon_;
    std::vector<std::function<void()>> later_;
    bool closed_ = false;
    std::uint16_t code_ = 0;
    std::string reason_;
    bool discard_ = false;
};

struct decoded {
    std::string cursor;
    bool live = false;
    std::string type;
    std::string space;
    position pos = 0;
};

decoded decode(const std::string& text) {
    const auto v = boost::json::parse(text);
    const auto& o = v.as_object();
    decoded d;
    d.cursor = std::string(o.at("cursor").as_string());
    if (o.contains("live")) {
        d.live = true;
        return d;
    }
    const auto& e = o.at("event").as_object();
    d.type = std::string(e.at("type").as_string());
    d.space = std::string(e.at("partitionkey").as_string());
    d.pos = e.at("migopsposition").to_number<position>();
    return d;
}

class StreamHubTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::vector<std::string> families{events::events_column_family, events::meta_column_family};
        store_ = std::move(events::rocks_store::open({dir_.path(), families, nullptr}).value());
        log_ = std::move(events::rocks_log::open(*store_, {.partitions = 2}).value());
        processor_ =
            std::make_unique<engine::partition_processor>(*log_, engine::processor_options{});
        ASSERT_TRUE(processor_->start());
        models_ = std::move(projections::read_models::open(*store_, *log_).value());
        ASSERT_TRUE(models_->start());
        auth_.secret = std::string(32, 's');
        verifier_.emplace(token_verifier::create(auth_).value());
        run(engine::create_space{space_, "Space", ""}, alice_);
    }
    void TearDown() override {
        if (hub_) hub_->stop();
        models_->stop();
        processor_->stop();
    }
    void make_hub(std::size_t queue_limit) {
        hub_ = std::make_unique<stream_hub>(*models_, *log_, *verifier_, clock_,
                                            stream_options{.queue_limit = queue_limit});
        hub_->start();
    }
    // Events durable and applied by the board.
    std::vector<events::envelope> run(engine::command c, const user_id& who) {
        std::promise<result<std::vector<events::envelope>>> done;
        auto f = done.get_future();
        EXPECT_TRUE(processor_->submit({std::move(c), who, clock_.now(), ""},
                                       [&](auto r) { done.set_value(std::move(r)); }));
        auto r = f.get();
        EXPECT_TRUE(r) << r.error().message;
        // Asked again of current() now and then: a rebuild's switch may stop
        // the generation it gave before that one applies them.
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        bool caught_up = false;
        while (!(caught_up = models_->current()->wait_caught_up(100ms)) &&
               std::chrono::steady_clock::now() < deadline) {
        }
        if (!caught_up) {
            // Which model stopped short, and where.
            auto g = models_->current();
            for (std::size_t i = 0; i < g->runners.size(); ++i) {
                const auto at = g->runners[i]->position_now();
                std::string line = g->models[i]->name() + " of generation " +
                                   std::to_string(g->number) + " is not caught up:";
                for (partition_id p = 0; p < log_->partitions(); ++p)
                    line += " partition " + std::to_string(p) + " at " + std::to_string(at.at(p)) +
                            " of " + std::to_string(log_->head(p).pos);
                if (auto bad = g->runners[i]->failed()) line += "; failed: " + bad->message;
                ADD_FAILURE() << line;
            }
        }
        return r ? r.value() : std::vector<events::envelope>{};
    }
    position rename(int i) {
        auto events = run(engine::rename_space{space_, "Name " + std::to_string(i)}, alice_);
        return events.empty() ? 0 : events.back().pos;
    }
    std::string bearer(const user_id& u) {
        return "Bearer " + issue_token(auth_, u, clock_.now()).value();
    }
    // Subscribes through the hub as the server would.
    std::shared_ptr<ws_endpoint> subscribe(const std::string& query, const user_id& who,
                                           test_connection& conn, bool header = true,
                                           bool pump = true) {
        http_request req;
        req.method = "GET";
        req.target = "/v1/stream" + query;
        if (header) req.headers.emplace_back("authorization", bearer(who));
        auto r = hub_->upgrade(req);
        auto* endpoint = std::get_if<std::shared_ptr<ws_endpoint>>(&r);
        EXPECT_TRUE(endpoint) << (std::holds_alternative<http_response>(r)
                                      ? std::get<http_response>(r).body
                                      : "not handled");
        if (!endpoint) return nullptr;
        (*endpoint)->opened(std::shared_ptr<ws_connection>(&conn, [](ws_connection*) {}));
        if (pump) conn.pump();
        return *endpoint;
    }
    test_connection& connection() { return connections_.emplace_back(); }
    // Reports every frame so far as written, as the socket would.
    static void written(ws_endpoint& e, std::size_t& acked, test_connection& conn) {
        const auto n = conn.frames().size();
        for (; acked < n; ++acked) e.sent();
        conn.pump();
    }

    testing_support::temp_dir dir_;
    std::unique_ptr<events::rocks_store> store_;
    std::unique_ptr<events::rocks_log> log_;
    std::unique_ptr<engine::partition_processor> processor_;
    std::unique_ptr<projections::read_models> models_;
    scheduler::manual_clock clock_{timestamp{1'700'000'000'000'000}};
    auth_options auth_;
    std::optional<token_verifier> verifier_;
    std::list<test_connection> connections_;  // outlive the subscriptions
    std::unique_ptr<stream_hub> hub_;
    const space_id space_{"s1"};
    const user_id alice_{"alice"};
};

TEST_F(StreamHubTest, HistoryGoesOnlyAsFastAsTheClientTakesIt) {
    std::vector<position> written_positions;
    for (int i = 0; i < 20; ++i) written_positions.push_back(rename(i));
    make_hub(4);
    auto& conn = connection();
    auto e = subscribe("?space=s1&from=0", alice_, conn);
    ASSERT_TRUE(e);
    // Four frames, the queue's worth, and then nothing until some are written.
    EXPECT_EQ(conn.frames().size(), 4u);
    conn.pump();
    EXPECT_EQ(conn.frames().size(), 4u);
    e->sent();
    conn.pump();
    EXPECT_EQ(conn.frames().size(), 4u) << "three waiting is more than half the queue";
    e->sent();
    conn.pump();
    EXPECT_EQ(conn.frames().size(), 6u) << "refilled once half of it was written";
    std::size_t acked = 2;
    for (int round = 0; round < 100 && !conn.closed() && conn.texts().size() < 22; ++round)
        written(*e, acked, conn);
    EXPECT_FALSE(conn.closed()) << "history never overflows";
    auto texts = conn.texts();
    ASSERT_EQ(texts.size(), 22u) << "space created, 20 renames, the live marker";
    EXPECT_EQ(decode(texts[0]).type, "io.migops.space.created.v1");
    for (std::size_t i = 1; i <= 20; ++i) EXPECT_EQ(decode(texts[i]).pos, written_positions[i - 1]);
    EXPECT_TRUE(decode(texts[21]).live);
    EXPECT_EQ(decode(texts[21]).cursor, std::to_string(written_positions.back()));
}

TEST_F(StreamHubTest, WritesWhileCatchingUpAreSentOnceInOrder) {
    std::vector<position> expected{1, rename(0)};
    make_hub(64);
    auto& conn = connection();
    auto e = subscribe("?space=s1&from=0", alice_, conn, true, false);
    ASSERT_TRUE(e);
    // Written and applied while the subscription catches up: the board's
    // live batches reach it before it is live, the log has them; now and
    // then a catch-up step runs in between.
    for (int i = 1; i < 10; ++i) {
        expected.push_back(rename(i));
        if (i % 3 == 0) conn.pump();
    }
    std::size_t acked = 0;
    written(*e, acked, conn);
    ASSERT_TRUE(conn.wait_frames(12));
    // Live for sure now: later writes arrive on the runner's thread.
    for (int i = 10; i < 15; ++i) expected.push_back(rename(i));
    ASSERT_TRUE(conn.wait_frames(17));
    std::vector<position> got;
    int markers = 0;
    for (const auto& t : conn.texts()) {
        auto d = decode(t);
        if (d.live)
            ++markers;
        else
            got.push_back(d.pos);
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(markers, 1);
}

// A rebuild of the read models switches the board under a live stream:
// batches may come from both generations around the switch, and the client
// still gets every event once, in order.
TEST_F(StreamHubTest, ARebuildUnderALiveStreamAddsNoGapAndNoDuplicate) {
    make_hub(4096);
    auto& conn = connection();
    auto e = subscribe("?space=s1", alice_, conn);
    ASSERT_TRUE(e);
    ASSERT_TRUE(conn.wait_frames(1));  // live
    std::vector<position> expected;
    for (int i = 0; i < 200; ++i) expected.push_back(rename(i));
    std::atomic<bool> writing{true};
    std::vector<position> during;
    std::thread writer([&] {
        for (int i = 200; writing.load() || i < 260; ++i) during.push_back(rename(i));
    });
    ASSERT_TRUE(models_->rebuild());
    writing.store(false);
    writer.join();
    expected.insert(expected.end(), during.begin(), during.end());
    EXPECT_EQ(models_->current()->number, 1u);
    for (int i = 0; i < 5; ++i) expected.push_back(rename(1000 + i));
    const auto want = expected.size() + 1;
    ASSERT_TRUE(conn.wait_frames(want));
    std::vector<position> got;
    for (const auto& t : conn.texts()) {
        auto d = decode(t);
        if (!d.live) got.push_back(d.pos);
    }
    EXPECT_EQ(got, expected);
}

// The board moves its checkpoint, then calls its listeners. A catch-up that
// reads the log in between turns live with the batch already sent; the
// batch, arriving live afterwards, is not sent again.
TEST_F(StreamHubTest, ABatchReadFromTheLogIsNotSentAgainWhenItArrivesLive) {
    std::mutex gate_mutex;
    std::condition_variable gate_changed;
    bool hold = false;
    bool held = false;
    // Listeners are called in the order they were added: this one first.
    // It holds the batch of the rename only (an earlier batch may still be
    // on its way through the listeners).
    auto* board = models_->current()->board_model;
    const auto gate = board->listen([&](std::span<const events::envelope> batch) {
        const bool rename = std::any_of(batch.begin(), batch.end(), [](const auto& e) {
            return std::holds_alternative<events::space_renamed>(e.data);
        });
        std::unique_lock lock(gate_mutex);
        held = hold && rename;
        gate_changed.notify_all();
        gate_changed.wait(lock, [&] { return !held || !hold; });
        held = false;
    });
    make_hub(64);
    auto& conn = connection();
    auto e = subscribe("?space=s1&from=0", alice_, conn, true, false);
    ASSERT_TRUE(e);
    {
        std::lock_guard lock(gate_mutex);
        hold = true;
    }
    const auto first = rename(1);  // applied; its listeners wait at the gate
    {
        std::unique_lock lock(gate_mutex);
        ASSERT_TRUE(gate_changed.wait_for(lock, 10s, [&] { return held; }));
    }
    conn.pump();  // catches up through `first` and turns live
    auto texts = conn.texts();
    ASSERT_EQ(texts.size(), 3u);
    EXPECT_EQ(decode(texts[1]).pos, first);
    EXPECT_TRUE(decode(texts[2]).live);
    {
        std::lock_guard lock(gate_mutex);
        hold = false;
    }
    gate_changed.notify_all();
    const auto second = rename(2);
    ASSERT_TRUE(conn.wait_frames(4));
    texts = conn.texts();
    EXPECT_EQ(texts.size(), 4u);
    EXPECT_EQ(decode(texts[3]).pos, second);
    hub_->stop();
    board->unlisten(gate);
}

TEST_F(StreamHubTest, OverflowSendsWhatIsQueuedThenClosesWithItsCursor) {
    make_hub(2);
    auto& conn = connection();
    auto e = subscribe("?space=s1", alice_, conn);
    ASSERT_TRUE(e);
    std::size_t acked = 0;
    written(*e, acked, conn);  // the live marker
    ASSERT_EQ(conn.frames().size(), 1u);
    const auto a = rename(1);
    const auto b = rename(2);
    ASSERT_TRUE(conn.wait_frames(3));
    EXPECT_FALSE(conn.closed());
    rename(3);  // the queue holds two frames: no room
    ASSERT_TRUE(conn.wait_closed());
    EXPECT_EQ(conn.code(), ws_close_overflow);
    EXPECT_EQ(conn.reason(), "overflow; from=" + std::to_string(b));
    EXPECT_FALSE(conn.discarded()) << "the queued frames go out before the close";
    auto texts = conn.texts();
    ASSERT_EQ(texts.size(), 3u);
    EXPECT_EQ(decode(texts[1]).pos, a);
    EXPECT_EQ(decode(texts[2]).cursor, std::to_string(b));
    EXPECT_EQ(hub_->overflows(), 1u);
}

TEST_F(StreamHubTest, ClientsShareOneEncodingPerEvent) {
    make_hub(16);
    auto& one = connection();
    auto& two = connection();
    auto e1 = subscribe("", alice_, one);
    auto e2 = subscribe("?space=s1", alice_, two);
    ASSERT_TRUE(e1 && e2);
    EXPECT_EQ(hub_->clients(), 2u);
    rename(1);
    ASSERT_TRUE(one.wait_frames(2));
    ASSERT_TRUE(two.wait_frames(2));
    const auto f1 = one.frames()[1];
    const auto f2 = two.frames()[1];
    ASSERT_TRUE(f1.body && f2.body);
    EXPECT_EQ(f1.body.get(), f2.body.get()) << "the same encoded text";
    EXPECT_NE(f1.head, f2.head) << "each with its own cursor form";
    e1->closed();
    EXPECT_EQ(hub_->clients(), 1u);
}

TEST_F(StreamHubTest, RevokedRoleClosesAndDropsWhatWasQueued) {
    const user_id bob{"bob"};
    run(engine::grant_role{space_, {}, bob, {}, events::role::space_contributor}, alice_);
    make_hub(16);
    auto& filtered = connection();
    auto& everything = connection();
    auto e1 = subscribe("?space=s1", bob, filtered);
    auto e2 = subscribe("", bob, everything);
    ASSERT_TRUE(e1 && e2);
    run(engine::revoke_role{space_, {}, bob, {}}, alice_);
    ASSERT_TRUE(filtered.wait_closed());
    EXPECT_EQ(filtered.code(), ws_close_not_visible);
    EXPECT_TRUE(filtered.discarded());
    // Without a filter the space's events are skipped from now on; Bob's
    // own space still shows.
    rename(1);
    run(engine::create_space{space_id{"s2"}, "Bob's", ""}, bob);
    ASSERT_TRUE(everything.wait_frames(2));
    EXPECT_FALSE(everything.closed());
    auto texts = everything.texts();
    EXPECT_TRUE(decode(texts[0]).live);
    for (std::size_t i = 1; i < texts.size(); ++i)
        EXPECT_EQ(decode(texts[i]).space, "s2") << texts[i];
}

TEST_F(StreamHubTest, TokenByFirstMessageOrClosedAfterTheTimeout) {
    make_hub(16);
    auto& late = connection();
    auto e = subscribe("", alice_, late, false);
    ASSERT_TRUE(e);
    EXPECT_TRUE(late.frames().empty());
    late.fire_timers();
    EXPECT_TRUE(late.closed());
    EXPECT_EQ(late.code(), ws_close_policy);

    auto& prompt = connection();
    auto p = subscribe("", alice_, prompt, false);
    ASSERT_TRUE(p);
    p->received(R"({"token":")" + bearer(alice_).substr(7) + R"("})");
    prompt.pump();
    prompt.fire_timers();  // the timeout passes: already authenticated
    ASSERT_EQ(prompt.frames().size(), 1u);
    EXPECT_TRUE(decode(prompt.texts()[0]).live);
    EXPECT_FALSE(prompt.closed());

    auto& wrong = connection();
    auto w = subscribe("", alice_, wrong, false);
    w->received(R"({"token":"x.y.z"})");
    EXPECT_TRUE(wrong.closed());
    EXPECT_EQ(wrong.code(), ws_close_policy);
}

TEST_F(StreamHubTest, ExpiredTokenClosesTheStream) {
    make_hub(16);
    auto& conn = connection();
    auto e = subscribe("", alice_, conn);
    ASSERT_TRUE(e);
    conn.fire_timers();  // not yet expired: the check is scheduled again
    EXPECT_FALSE(conn.closed());
    clock_.advance(std::chrono::hours(13));
    conn.fire_timers();
    EXPECT_TRUE(conn.closed());
    EXPECT_EQ(conn.code(), ws_close_policy);
    EXPECT_EQ(conn.reason(), "the token expired");
}

TEST_F(StreamHubTest, UpgradeRefusalsAreHttpAnswers) {
    make_hub(16);
    const auto status = [&](const std::string& target,
                            std::vector<std::pair<std::string, std::string>> headers) {
        http_request req;
        req.method = "GET";
        req.target = target;
        req.headers = std::move(headers);
        auto r = hub_->upgrade(req);
        if (auto* h = std::get_if<http_response>(&r)) return static_cast<int>(h->status);
        return std::holds_alternative<std::monostate>(r) ? 0 : 101;
    };
    EXPECT_EQ(status("/v1/spaces", {}), 0) << "not the stream: plain HTTP";
    EXPECT_EQ(status("/v1/stream", {{"origin", "https://evil.example"}}), 403);
    hub_->set_own_origin("127.0.0.1", 8080);
    EXPECT_EQ(status("/v1/stream", {{"origin", "http://localhost:8080"}}), 101);
    EXPECT_EQ(status("/v1/stream", {{"origin", "http://localhost:8081"}}), 403);
    // The page of the name the server was reached by: same origin as Host.
    EXPECT_EQ(
        status("/v1/stream", {{"origin", "http://Ops.Example:8080"}, {"host", "ops.example:8080"}}),
        101);
    EXPECT_EQ(
        status("/v1/stream", {{"origin", "http://ops.example:8080"}, {"host", "ops.example"}}),
        403);
    EXPECT_EQ(
        status("/v1/stream", {{"origin", "https://evil.example"}, {"host", "ops.example:8080"}}),
        403);
    EXPECT_EQ(status("/v1/stream", {{"origin", "null"}, {"host", "null"}}), 403);
    EXPECT_EQ(status("/v1/stream?from=0.0", {}), 101) << "a cursor of the two partitions";
    EXPECT_EQ(status("/v1/stream?from=99.99", {}), 400) << "ahead of the log";
    EXPECT_EQ(status("/v1/stream", {{"authorization", "Bearer nope"}}), 401);
    EXPECT_EQ(status("/v1/stream?space=s1", {{"authorization", bearer(user_id{"eve"})}}), 404);
    EXPECT_EQ(status("/v1/stream?space=s1", {{"authorization", bearer(alice_)}}), 101);
}

}  // namespace
}  // namespace migops::api
