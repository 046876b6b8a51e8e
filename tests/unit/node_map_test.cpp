#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine/state.h"

namespace migops::engine {
namespace {

node_state titled(const std::string& id, const std::string& title) {
    node_state n;
    n.id = node_id{id};
    n.title = title;
    return n;
}

// Ids out of order, some sharing a long prefix as a journey's nodes do.
const std::vector<std::string> ids = {"s.j1.n10",  "s.j1.n2", "s.j1.n1", "s.j2.n1",
                                      "s.j1.n100", "t.j1.n3", "s.j1.n20"};

node_map filled() {
    node_map m;
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (i % 2 == 0)
            m[node_id{ids[i]}] = titled(ids[i], "title of " + ids[i]);
        else
            m.insert_or_assign(m.end(), node_id{ids[i]}, titled(ids[i], "title of " + ids[i]));
    return m;
}

// Every id is found, at the node that holds it.
void expect_finds_all(const node_map& m, const std::string& where) {
    for (const auto& id : ids) {
        const auto it = m.find(node_id{id});
        ASSERT_NE(it, m.end()) << id << " " << where;
        EXPECT_EQ(it->first.value, id) << where;
        EXPECT_EQ(it->second.title, "title of " + id) << where;
        EXPECT_EQ(&m.at(node_id{id}), &it->second) << where;
        EXPECT_TRUE(m.contains(node_id{id})) << where;
    }
}

TEST(NodeMap, FindsWhatItHoldsAndGoesThroughItInIdOrder) {
    auto m = filled();
    ASSERT_EQ(m.size(), ids.size());
    expect_finds_all(m, "filled");
    auto sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::string> seen;
    for (const auto& [id, n] : m) seen.push_back(id.value);
    EXPECT_EQ(seen, sorted);

    EXPECT_EQ(m.find(node_id{"s.j1.n3"}), m.end());
    EXPECT_FALSE(m.contains(node_id{"s.j1"}));
    EXPECT_THROW(m.at(node_id{"s.j1.n3"}), std::out_of_range);
    EXPECT_THROW(std::as_const(m).at(node_id{""}), std::out_of_range);

    // operator[] and insert_or_assign on an id held change that node.
    m[node_id{"s.j1.n2"}].title = "changed";
    EXPECT_EQ(m.at(node_id{"s.j1.n2"}).title, "changed");
    const auto again = m.insert_or_assign(m.begin(), node_id{"s.j1.n1"}, titled("s.j1.n1", "new"));
    EXPECT_EQ(again, m.find(node_id{"s.j1.n1"}));
    EXPECT_EQ(again->second.title, "new");
    EXPECT_EQ(m.size(), ids.size());
}

TEST(NodeMap, AnErasedNodeIsNotFoundAndMayComeBack) {
    auto m = filled();
    EXPECT_EQ(m.erase(node_id{"s.j1.n10"}), 1u);
    EXPECT_EQ(m.erase(node_id{"s.j1.n10"}), 0u);
    EXPECT_EQ(m.erase(node_id{"nowhere"}), 0u);
    EXPECT_EQ(m.size(), ids.size() - 1);
    EXPECT_EQ(m.find(node_id{"s.j1.n10"}), m.end());
    EXPECT_FALSE(m.contains(node_id{"s.j1.n10"}));
    for (const auto& [id, n] : m) EXPECT_NE(id.value, "s.j1.n10");
    m[node_id{"s.j1.n10"}] = titled("s.j1.n10", "title of s.j1.n10");
    expect_finds_all(m, "erased and added again");
    m.clear();
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.find(node_id{"s.j1.n1"}), m.end());
}

// A copy's lookups land on its own nodes, not on the original's.
TEST(NodeMap, ACopyFindsItsOwnNodes) {
    auto original = filled();
    const node_map copy = original;
    node_map assigned;
    assigned[node_id{"x"}] = titled("x", "x");
    assigned = original;
    for (auto& [id, n] : original) n.title = "changed";
    original.erase(node_id{"s.j2.n1"});
    for (const node_map* m : {&copy, static_cast<const node_map*>(&assigned)}) {
        expect_finds_all(*m, "copy");
        EXPECT_FALSE(m->contains(node_id{"x"}));
        for (const auto& id : ids) {
            if (original.contains(node_id{id})) {
                EXPECT_NE(&m->at(node_id{id}), &original.at(node_id{id})) << id;
            }
        }
    }
    EXPECT_NE(copy, original);
    EXPECT_EQ(copy, assigned);
}

TEST(NodeMap, AMovedFromMapIsEmptyAndStaysUsable) {
    auto source = filled();
    const auto* held = &source.at(node_id{"s.j1.n1"});
    node_map moved(std::move(source));
    expect_finds_all(moved, "moved");
    EXPECT_EQ(&moved.at(node_id{"s.j1.n1"}), held) << "a move keeps the nodes where they are";
    EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): it says so
    EXPECT_FALSE(source.contains(node_id{"s.j1.n1"}));
    source[node_id{"y"}] = titled("y", "y");
    EXPECT_EQ(source.at(node_id{"y"}).title, "y");

    node_map assigned;
    assigned = std::move(moved);
    expect_finds_all(assigned, "move assigned");
    EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move): it says so
    EXPECT_EQ(moved.find(node_id{"s.j1.n1"}), moved.end());
}

// Stored as the std::map it keeps: the same bytes, and loaded back whole
// with every node found.
TEST(NodeMap, IsStoredAsAMapOfItsNodes) {
    const auto m = filled();
    std::map<node_id, node_state> plain;
    for (const auto& [id, n] : m) plain.emplace(id, n);
    events::binary_output_archive ours;
    events::save_value(ours, m);
    const auto bytes = std::move(ours).take();
    events::binary_output_archive theirs;
    events::save_value(theirs, plain);
    EXPECT_EQ(bytes, std::move(theirs).take());

    events::binary_input_archive in(bytes);
    node_map back;
    back[node_id{"left over"}] = titled("left over", "");
    events::load_value(in, back);
    EXPECT_TRUE(in.at_end());
    EXPECT_EQ(back, m);
    expect_finds_all(back, "loaded");
    EXPECT_FALSE(back.contains(node_id{"left over"}));
}

}  // namespace
}  // namespace migops::engine
