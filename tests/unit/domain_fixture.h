#pragma once
// Given/when/then for the pure domain: commands are decided and their
// events applied to an in-memory partition state, as the processor does.

#include <gtest/gtest.h>

#include "engine/domain.h"
#include "events/codec.h"
#include "tests/unit/sample_events.h"

namespace migops::testing {

class domain_fixture : public ::testing::Test {
  protected:
    using payloads = std::vector<events::payload>;

    // Decides c as actor; on success applies the events. Returns the events.
    result<payloads> when(const std::string& actor, engine::command c) {
        engine::command_context ctx{user_id{actor}, now, &bounds};
        auto d = engine::decide(state, ctx, c);
        if (!d) return failure(d.error());
        for (const auto& p : d.value().events) {
            events::envelope e;
            e.event_id = random_id();
            e.space = engine::space_of(c);
            e.time = now;
            e.actor = user_id{actor};
            e.data = p;
            events::seal(e, state.head);
            engine::apply(state, e);
            log.push_back(e);
        }
        now.micros += 1'000'000;
        return d.value().events;
    }

    // A command that must succeed.
    payloads given(const std::string& actor, engine::command c) {
        auto r = when(actor, std::move(c));
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? r.value() : payloads{};
    }

    static errc code_of(const result<payloads>& r) { return r ? errc{} : r.error().code; }

    // A space "s" created by "admin", with a journey "s.j1" from the sample
    // template, and members: jadmin (journey admin), contrib (journey
    // contributor), teammate (in team s.t1, team contributor on s.j1),
    // scontrib (space contributor). "outsider" holds nothing.
    void standard_space() {
        given("admin", engine::create_space{space_id{"s"}, "Exit", ""});
        auto tpl = sample_template();
        given("admin", engine::create_journey{space_id{"s"}, "Wave 1", "", std::nullopt, tpl,
                                              engine::template_hash(tpl)});
        given("admin",
              engine::grant_role{
                  space_id{"s"}, journey, user_id{"jadmin"}, {}, events::role::journey_admin});
        given(
            "admin",
            engine::grant_role{
                space_id{"s"}, journey, user_id{"contrib"}, {}, events::role::journey_contributor});
        given("admin",
              engine::grant_role{
                  space_id{"s"}, {}, user_id{"scontrib"}, {}, events::role::space_contributor});
        given("admin", engine::create_team{space_id{"s"}, "Database experts"});
        given("admin", engine::add_team_member{team, user_id{"teammate"}});
        given("admin",
              engine::grant_role{space_id{"s"}, journey, {}, team, events::role::team_contributor});
    }

    const engine::journey_state& j() const { return state.journeys.at(journey); }
    const engine::node_state& node(const std::string& id) const {
        return j().nodes.at(node_id{id});
    }

    // Ids in the standard journey (instantiation order).
    const journey_id journey{"s.j1"};
    const node_id phase{"s.j1.n1"};
    const node_id module{"s.j1.n2"};
    const node_id task{"s.j1.n3"};     // "Build the business case"
    const node_id subtask{"s.j1.n4"};  // "Collect licences"
    const team_id team{"s.t1"};

    engine::partition_state state;
    engine::limits bounds;
    timestamp now{1'800'000'000'000'000};
    std::vector<events::envelope> log;
};

}  // namespace migops::testing
