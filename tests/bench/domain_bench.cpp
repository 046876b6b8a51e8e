// decide + apply in process, no I/O: task status changes on a journey of
// 1000 tasks, on one thread. The baseline is the goal itself (500,000
// commands/s per core): the row's ratio is how far above it we are.

#include <chrono>
#include <random>

#include "engine/domain.h"
#include "tests/bench/bench.h"

namespace migops::bench {

namespace {
constexpr double goal_per_second = 500'000;
constexpr std::size_t commands = 2'000'000;
}  // namespace

void domain_status_changes() {
    using namespace engine;
    partition_state state;
    std::int64_t pos = 0;
    auto run = [&](const command& c) {
        auto d = decide(state, command_context{user_id{"admin"}, timestamp{pos}, nullptr}, c);
        if (!d) std::abort();
        for (auto& p : d.value().events) {
            events::envelope e;
            e.space = space_id{"s"};
            e.actor = user_id{"admin"};
            e.pos = static_cast<position>(++pos);
            e.data = std::move(p);
            apply(state, e);
        }
    };
    run(create_space{space_id{"s"}, "Bench", ""});
    events::template_spec tpl{"bench", "1", "Bench", "", {}};
    tpl.phases.push_back({"", "Phase", "", {}});
    for (int m = 0; m < 10; ++m) {
        events::module_spec mod{"", "Module " + std::to_string(m), "", {}};
        for (int t = 0; t < 100; ++t) {
            events::task_spec task;
            task.title = "Task " + std::to_string(m * 100 + t);
            mod.tasks.push_back(task);
        }
        tpl.phases[0].modules.push_back(std::move(mod));
    }
    run(create_journey{space_id{"s"}, "J", "", std::nullopt, tpl, template_hash(tpl)});
    std::vector<node_id> tasks;
    for (const auto& [id, n] : state.journeys.begin()->second.nodes)
        if (n.kind == events::node_kind::task) tasks.push_back(id);
    if (tasks.size() != 1000) std::abort();

    // A cycle of 4096 commands in which every task is toggled an even number
    // of times, so that each pass starts from the same statuses and every
    // command is a real transition.
    std::mt19937 rng(7);
    std::vector<std::size_t> picks;
    for (std::size_t i = 0; i < 2048; ++i) picks.push_back(rng() % tasks.size());
    picks.insert(picks.end(), picks.begin(), picks.end());
    std::vector<command> cmds;
    cmds.reserve(picks.size());
    std::vector<events::task_status> current(tasks.size(), events::task_status::planned);
    for (const auto k : picks) {
        current[k] = current[k] == events::task_status::in_progress
                         ? events::task_status::planned
                         : events::task_status::in_progress;
        cmds.push_back(change_task_status{tasks[k], current[k], "", {}});
    }
    const auto before = pos;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < commands; ++i) run(cmds[i % cmds.size()]);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (static_cast<std::size_t>(pos - before) != commands) std::abort();  // one event each
    const double rate = static_cast<double>(commands) / secs;
    print({"domain.status_changes", rate, "commands/s", goal_per_second, rate / goal_per_second,
           ">= 1.0"});
}

}  // namespace migops::bench
