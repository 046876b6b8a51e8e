#pragma once
// /metrics in the Prometheus text format (prometheus-cpp): requests and
// their latency per route, commands, events appended, group-commit batch
// sizes and append (sync) time, the stages of a command's answer, queue
// depth, how far each read model is behind the log, WebSocket clients.
//
// Request and commit figures are recorded as they happen (any thread);
// gauges are sampled from the sources given to sample() at each scrape.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/partition_processor.h"

namespace migops::api {

class metrics {
  public:
    metrics();
    ~metrics();
    metrics(const metrics&) = delete;
    metrics& operator=(const metrics&) = delete;

    void request(const std::string& route, const std::string& method, unsigned status,
                 std::chrono::steady_clock::duration took);
    void group(const engine::group_report& g);
    // A command answered with events: how long from its submission until
    // they were durable, then until the board and the audit index had
    // applied them (its answer waits for both).
    void command_stages(std::chrono::steady_clock::duration to_durable,
                        std::chrono::steady_clock::duration to_applied);

    // A gauge read at every scrape; gauges of one name differ by their
    // labels.
    void sample(const std::string& name, const std::string& help, std::function<double()> read,
                const std::map<std::string, std::string>& labels = {});

    std::string render() const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace migops::api
