#include "api/metrics.h"

#include <mutex>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace migops::api {

namespace {

// Seconds: 100 µs … 10 s.
prometheus::Histogram::BucketBoundaries latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
            0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
}
prometheus::Histogram::BucketBoundaries size_buckets() {
    return {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096};
}

std::string status_class(unsigned status) {
    return std::to_string(status / 100) + "xx";
}

}  // namespace

struct metrics::impl {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    prometheus::Family<prometheus::Counter>& requests =
        prometheus::BuildCounter()
            .Name("migops_http_requests_total")
            .Help("HTTP requests answered, by route, method and status class")
            .Register(*registry);
    prometheus::Family<prometheus::Histogram>& latency =
        prometheus::BuildHistogram()
            .Name("migops_http_request_duration_seconds")
            .Help("Time from a request's arrival to its answer, by route")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& commands =
        prometheus::BuildCounter()
            .Name("migops_commands_total")
            .Help("Commands answered by the partition processor, by outcome")
            .Register(*registry);
    prometheus::Counter& accepted = commands.Add({{"outcome", "accepted"}});
    prometheus::Counter& refused = commands.Add({{"outcome", "refused"}});
    prometheus::Counter& events = prometheus::BuildCounter()
                                      .Name("migops_events_appended_total")
                                      .Help("Events appended to the log of record")
                                      .Register(*registry)
                                      .Add({});
    prometheus::Counter& failed_appends = prometheus::BuildCounter()
                                              .Name("migops_append_failures_total")
                                              .Help("Group appends that failed")
                                              .Register(*registry)
                                              .Add({});
    prometheus::Histogram& batch_commands =
        prometheus::BuildHistogram()
            .Name("migops_group_commit_commands")
            .Help("Commands answered by one group commit (one sync)")
            .Register(*registry)
            .Add({}, size_buckets());
    prometheus::Histogram& batch_events = prometheus::BuildHistogram()
                                              .Name("migops_group_commit_events")
                                              .Help("Events written by one group commit")
                                              .Register(*registry)
                                              .Add({}, size_buckets());
    prometheus::Histogram& append_time =
        prometheus::BuildHistogram()
            .Name("migops_append_duration_seconds")
            .Help("Time of one group append to the log of record, its sync included")
            .Register(*registry)
            .Add({}, latency_buckets());
    prometheus::Family<prometheus::Histogram>& stages =
        prometheus::BuildHistogram()
            .Name("migops_command_stage_seconds")
            .Help(
                "Time of each stage of a command answered with events: durable (from its "
                "submission until its events were durable), read_models (from then until the "
                "board and the audit index had applied them)")
            .Register(*registry);
    prometheus::Histogram& to_durable = stages.Add({{"stage", "durable"}}, latency_buckets());
    prometheus::Histogram& to_applied = stages.Add({{"stage", "read_models"}}, latency_buckets());
    mutable std::mutex samples_mutex;
    std::vector<std::pair<prometheus::Gauge*, std::function<double()>>> samples;
};

metrics::metrics() : impl_(std::make_unique<impl>()) {}
metrics::~metrics() = default;

void metrics::request(const std::string& route, const std::string& method, unsigned status,
                      std::chrono::steady_clock::duration took) {
    impl_->requests.Add({{"route", route}, {"method", method}, {"status", status_class(status)}})
        .Increment();
    impl_->latency.Add({{"route", route}}, latency_buckets())
        .Observe(std::chrono::duration<double>(took).count());
}

void metrics::group(const engine::group_report& g) {
    impl_->accepted.Increment(static_cast<double>(g.commands - g.refused));
    impl_->refused.Increment(static_cast<double>(g.refused));
    impl_->events.Increment(static_cast<double>(g.events));
    if (g.failed) impl_->failed_appends.Increment();
    impl_->batch_commands.Observe(static_cast<double>(g.commands));
    if (g.batches > 0) {
        impl_->batch_events.Observe(static_cast<double>(g.events));
        impl_->append_time.Observe(std::chrono::duration<double>(g.append_time).count());
    }
}

void metrics::command_stages(std::chrono::steady_clock::duration to_durable,
                             std::chrono::steady_clock::duration to_applied) {
    impl_->to_durable.Observe(std::chrono::duration<double>(to_durable).count());
    impl_->to_applied.Observe(std::chrono::duration<double>(to_applied).count());
}

void metrics::sample(const std::string& name, const std::string& help, std::function<double()> read,
                     const std::map<std::string, std::string>& labels) {
    // A second gauge of the same name joins the first one's family.
    auto& gauge =
        prometheus::BuildGauge().Name(name).Help(help).Register(*impl_->registry).Add(labels);
    std::lock_guard lock(impl_->samples_mutex);
    impl_->samples.emplace_back(&gauge, std::move(read));
}

std::string metrics::render() const {
    {
        std::lock_guard lock(impl_->samples_mutex);
        for (auto& [gauge, read] : impl_->samples) gauge->Set(read());
    }
    return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace migops::api
