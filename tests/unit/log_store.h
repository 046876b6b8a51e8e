#pragma once
// A store with the log's column families in a directory and a rocks_log of
// `partitions` over it: where most engine and projection tests start.
// Assign it with std::tie(store_, log_) = open_log_store(dir, n); tune, when
// given, sets the options of each column family (as the server's do).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <utility>

#include "events/rocks_log.h"

namespace migops::testing_support {

inline std::pair<std::unique_ptr<events::rocks_store>, std::unique_ptr<events::rocks_log>>
open_log_store(const std::filesystem::path& dir, std::uint32_t partitions,
               events::family_tuning tune = nullptr) {
    auto store =
        events::rocks_store::open({dir,
                                   {events::events_column_family, events::meta_column_family},
                                   nullptr,
                                   nullptr,
                                   std::move(tune)});
    if (!store) throw std::runtime_error("cannot open the store: " + store.error().message);
    auto log = events::rocks_log::open(*store.value(), {.partitions = partitions});
    if (!log) throw std::runtime_error("cannot open the log: " + log.error().message);
    return {std::move(store).value(), std::move(log).value()};
}

}  // namespace migops::testing_support
