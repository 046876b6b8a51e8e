// Threads are named for what they do, so that top -H, perf and gdb tell
// the partition threads, the log writer and each read model apart.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <string>
#include <thread>

#include "engine/partition_processor.h"
#include "events/rocks_log.h"
#include "events/thread_name.h"
#include "projections/read_models.h"
#include "tests/unit/log_store.h"
#include "tests/unit/temp_dir.h"

namespace migops {
namespace {

// The names of this process's threads, as /proc shows them.
std::multiset<std::string> thread_names() {
    std::multiset<std::string> out;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        if (std::getline(comm, name)) out.insert(name);
    }
    return out;
}

TEST(ThreadName, NamesTheThreadItStartsAndKeepsItsFirstFifteenBytes) {
    std::promise<void> release;
    auto done = release.get_future();
    std::thread t = named_thread("log-writer", [&] { done.wait(); });
    EXPECT_EQ(thread_name(t), "log-writer");
    std::thread u = named_thread("a-name-longer-than-fifteen-bytes", [&] { done.wait(); });
    EXPECT_EQ(thread_name(u), "a-name-longer-t");
    release.set_value();
    t.join();
    u.join();
    EXPECT_EQ(thread_name(t), "");
}

TEST(ThreadName, TheProcessorAndTheReadModelsNameTheirThreads) {
    testing_support::temp_dir dir;
    auto [store, log] = testing_support::open_log_store(dir.path(), 2);
    engine::partition_processor processor(*log, {});
    ASSERT_TRUE(processor.start());
    auto models = projections::read_models::open(*store, *log);
    ASSERT_TRUE(models) << models.error().message;
    ASSERT_TRUE(models.value()->start());

    const auto names = thread_names();
    EXPECT_EQ(names.count("log-writer"), 1U);
    EXPECT_EQ(names.count("partition-0"), 1U);
    EXPECT_EQ(names.count("partition-1"), 1U);
    EXPECT_EQ(names.count("board"), 1U);
    EXPECT_EQ(names.count("audit_index"), 1U);
    EXPECT_EQ(names.count("space_directory"), 1U);

    models.value()->stop();
    processor.stop();
    const auto after = thread_names();
    EXPECT_EQ(after.count("log-writer"), 0U);
    EXPECT_EQ(after.count("board"), 0U);
}

}  // namespace
}  // namespace migops
