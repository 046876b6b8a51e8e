#include "events/kafka/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "events/codec.h"
#include "events/kafka/produce.h"
#include "events/kafka/record.h"
#include "events/thread_name.h"

namespace migops::events::kafka {

namespace {

using clock = std::chrono::steady_clock;

// How long after delivery_timeout append_group() still waits for delivery
// reports: librdkafka fails a message at message.timeout.ms, so the reports
// of a group normally come before; past this grace the outcome is unknown.
constexpr auto report_grace = std::chrono::seconds(5);
// How long the delivery-report thread blocks in rd_kafka_poll(); it returns
// at once when a report arrives, so this bounds only how long stopping takes.
constexpr int poll_interval_ms = 100;
// Pause between metadata requests while a new topic's leaders are elected.
constexpr auto metadata_retry = std::chrono::milliseconds(100);
// Records appended to the local store per write during catch-up.
constexpr std::size_t catch_up_batch = 1024;
// Messages librdkafka may hold before producev() refuses (a group commit
// of every partition's batch must fit).
constexpr const char* producer_queue_messages = "1000000";
// restore() tries at most this often while the broker is away, so that the
// commands of a stopped partition fail fast instead of queueing.
constexpr auto restore_pause = std::chrono::seconds(1);

int to_ms(std::chrono::milliseconds d) {
    return static_cast<int>(std::min<std::int64_t>(d.count(), INT32_MAX));
}

int remaining_ms(clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    return std::max(0, to_ms(left));
}

// librdkafka's log lines to options.on_log (the conf opaque).
void forward_log(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    const auto* f =
        static_cast<const std::function<void(int, std::string_view)>*>(rd_kafka_opaque(rk));
    if (f && *f) (*f)(level, std::string(facility) + ": " + line);
}

struct conf_deleter {
    void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;

struct handle_deleter {
    void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;

struct metadata_deleter {
    void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;

result<conf_ptr> make_conf(const kafka_log_options& options,
                           std::initializer_list<std::pair<const char*, std::string>> ours) {
    conf_ptr conf(rd_kafka_conf_new());
    char errstr[512];
    auto set = [&](const std::string& name, const std::string& value) -> result<void> {
        if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK)
            return failure(errc::invalid_argument,
                           "Kafka setting " + name + "=" + value + ": " + errstr);
        return success();
    };
    if (auto r = set("bootstrap.servers", options.brokers); !r) return failure(r.error());
    if (auto r = set("client.id", options.client_id); !r) return failure(r.error());
    // Ours last: the log's guarantees rest on them.
    for (const auto& [name, value] : options.settings)
        if (auto r = set(name, value); !r) return failure(r.error());
    for (const auto& [name, value] : ours)
        if (auto r = set(name, value); !r) return failure(r.error());
    if (options.on_log) {
        rd_kafka_conf_set_opaque(
            conf.get(), const_cast<std::function<void(int, std::string_view)>*>(&options.on_log));
        rd_kafka_conf_set_log_cb(conf.get(), forward_log);
    }
    return conf;
}

result<handle_ptr> make_handle(rd_kafka_type_t type, conf_ptr conf) {
    char errstr[512];
    handle_ptr rk(rd_kafka_new(type, conf.get(), errstr, sizeof errstr));
    if (!rk)
        return failure(errc::invalid_argument,
                       std::string("cannot create a Kafka client: ") + errstr);
    (void)conf.release();  // rd_kafka_new() owns it now
    return rk;
}

std::string kafka_error(rd_kafka_resp_err_t err) {
    return std::string(rd_kafka_err2name(err)) + " (" + rd_kafka_err2str(err) + ")";
}

// One message's delivery report.
struct outcome {
    partition_id partition = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::int64_t offset = -1;
};

// The records of one group append awaiting their delivery reports.
struct pending_group {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t remaining = 0;
    std::vector<outcome> outcomes;
};

// The opaque of one message: which group and which record. The group is
// shared so that a report arriving after append_group() gave up is harmless.
struct ticket {
    std::shared_ptr<pending_group> group;
    std::size_t index = 0;
};

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*opaque*/) {
    std::unique_ptr<ticket> t(static_cast<ticket*>(m->_private));
    if (!t) return;
    auto& g = *t->group;
    std::lock_guard lock(g.mutex);
    auto& o = g.outcomes[t->index];
    o.err = m->err;
    o.offset = m->offset;
    if (--g.remaining == 0) g.done.notify_all();
}

result<std::int64_t> parse_offset(const std::string& text, const std::string& key) {
    std::int64_t n = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc{} || ptr != end || text.empty() || n < 0)
        return failure(errc::corruption, key + " holds \"" + text + "\", not an offset");
    return n;
}

// The topic is the log of record: none of its records may be deleted by
// age or size, compacted away by key, or lost to a replica that was behind
// becoming leader. Set when this creates the topic, checked when it exists.
constexpr std::array<std::pair<const char*, const char*>, 4> record_keeping = {
    {{"cleanup.policy", "delete"},
     {"retention.ms", "-1"},
     {"retention.bytes", "-1"},
     {"unclean.leader.election.enable", "false"}}};

struct event_deleter {
    void operator()(rd_kafka_event_t* ev) const { rd_kafka_event_destroy(ev); }
};
using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;

// Sends one admin request (send() gets its options and reply queue) and
// waits for the answer; errc::unavailable, naming what was asked, when none
// came within timeout.
result<event_ptr> admin_request(
    rd_kafka_t* rk, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout,
    const std::string& asked,
    const std::function<void(rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>& send) {
    char errstr[512];
    rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(admin, to_ms(timeout), errstr, sizeof errstr);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
        rd_kafka_AdminOptions_set_operation_timeout(admin, to_ms(timeout), errstr, sizeof errstr);
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
    send(admin, queue);
    event_ptr ev(rd_kafka_queue_poll(queue, to_ms(timeout) + 1000));
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(admin);
    if (!ev) return failure(errc::unavailable, "Kafka did not answer " + asked);
    return ev;
}

}  // namespace

// The producer handle, its topic handle and the thread that serves its
// delivery reports.
struct kafka_log::producer {
    handle_ptr rk;
    rd_kafka_topic_t* topic = nullptr;
    int flush_ms = 0;
    std::atomic<bool> stopping{false};
    std::thread reports;

    ~producer() {
        if (rk) rd_kafka_flush(rk.get(), flush_ms);
        stopping.store(true);
        if (reports.joinable()) reports.join();
        if (topic) rd_kafka_topic_destroy(topic);
    }
};

std::string kafka_log::offset_key(std::string_view topic, partition_id p) {
    return "kafka_offset/" + std::string(topic) + "/" + std::to_string(p);
}

kafka_log::kafka_log(std::unique_ptr<rocks_log> local, const kafka_log_options& options)
    : local_(std::move(local)),
      options_(options),
      offsets_(local_->partitions()),
      stopped_(local_->partitions()) {
    for (auto& o : offsets_) o.store(-1);
    for (auto& s : stopped_) s.store(false);
}

kafka_log::~kafka_log() = default;

result<std::unique_ptr<kafka_log>> kafka_log::open(std::unique_ptr<rocks_log> local,
                                                   const kafka_log_options& options) {
    if (!local) return failure(errc::invalid_argument, "no local log");
    if (options.brokers.empty()) return failure(errc::invalid_argument, "no Kafka brokers given");
    if (options.topic.empty()) return failure(errc::invalid_argument, "no Kafka topic given");
    if (options.delivery_timeout.count() <= 0 || options.request_timeout.count() <= 0)
        return failure(errc::invalid_argument, "Kafka timeouts must be positive");
    std::unique_ptr<kafka_log> log(new kafka_log(std::move(local), options));
    if (auto r = log->make_producer(); !r) return failure(r.error());
    if (auto r = log->ensure_topic(); !r) return failure(r.error());
    if (auto r = log->load_offsets(); !r) return failure(r.error());
    return log;
}

// Replaces the producer. The old one, if any, first drops what it has not
// sent and waits (up to delivery_timeout) for the reports of what it has:
// what it sent is then in the topic or refused, before anyone reads the
// tail.
result<void> kafka_log::make_producer() {
    if (producer_) {
        rd_kafka_purge(producer_->rk.get(), RD_KAFKA_PURGE_F_QUEUE);
        producer_.reset();
    }
    // The options are stored before the handles are made: the log callback
    // refers to options_.on_log.
    //
    // One request in flight: a broker takes any sequence number from a
    // producer it does not know yet (a new producer, or one whose state it
    // expired), so when the first request to a partition is refused as
    // retriable (a leader not ready, a leader moved) a second one already on
    // the wire would land first, and the producer would count the first
    // record as written by the second's success (an implicit ack): a gap in
    // the topic under an acknowledged write.
    auto conf = make_conf(
        options_, {{"enable.idempotence", "true"},
                   {"acks", "all"},
                   {"max.in.flight.requests.per.connection", "1"},
                   {"message.timeout.ms", std::to_string(options_.delivery_timeout.count())},
                   {"linger.ms", "0"},
                   {"socket.nagle.disable", "true"},
                   {"queue.buffering.max.messages", producer_queue_messages}});
    if (!conf) return failure(conf.error());
    rd_kafka_conf_set_dr_msg_cb(conf.value().get(), on_delivery);
    auto rk = make_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
    if (!rk) return failure(rk.error());
    auto made = std::make_unique<producer>();
    auto& prod = *made;
    prod.rk = std::move(rk).value();
    prod.flush_ms = to_ms(options_.delivery_timeout);
    std::array<char, 32> max_bytes{};
    std::size_t max_bytes_size = max_bytes.size();
    std::size_t max_record = 0;
    const auto read = rd_kafka_conf_get(rd_kafka_conf(prod.rk.get()), "message.max.bytes",
                                        max_bytes.data(), &max_bytes_size);
    const std::string_view text(max_bytes.data());  // NUL-terminated by librdkafka
    if (read != RD_KAFKA_CONF_OK ||
        std::from_chars(text.data(), text.data() + text.size(), max_record).ec != std::errc{})
        return failure(errc::invalid_argument,
                       "cannot read the Kafka producer's message.max.bytes");
    max_record_size_.store(max_record);
    prod.topic = rd_kafka_topic_new(prod.rk.get(), options_.topic.c_str(), nullptr);
    if (!prod.topic)
        return failure(errc::invalid_argument,
                       "Kafka topic " + options_.topic + ": " + kafka_error(rd_kafka_last_error()));
    prod.reports = named_thread("kafka-reports", [&prod] {
        while (!prod.stopping.load()) rd_kafka_poll(prod.rk.get(), poll_interval_ms);
    });
    producer_ = std::move(made);
    return success();
}

result<void> kafka_log::ensure_topic() {
    const auto deadline = clock::now() + options_.request_timeout;
    const auto wanted = static_cast<int>(partitions());
    bool created = false;
    for (;;) {
        const rd_kafka_metadata_t* raw = nullptr;
        const auto err = rd_kafka_metadata(producer_->rk.get(), 1, nullptr, &raw,
                                           std::max(1, remaining_ms(deadline)));
        if (err)
            return failure(errc::unavailable, "cannot read the metadata of Kafka at " +
                                                  options_.brokers + ": " + kafka_error(err));
        metadata_ptr md(raw);
        const rd_kafka_metadata_topic_t* found = nullptr;
        for (int i = 0; i < md->topic_cnt; ++i)
            if (options_.topic == md->topics[i].topic) found = &md->topics[i];
        if (found && found->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (found->partition_cnt != wanted)
                return failure(errc::invalid_argument, "Kafka topic " + options_.topic + " has " +
                                                           std::to_string(found->partition_cnt) +
                                                           " partitions; the data directory has " +
                                                           std::to_string(wanted));
            const bool led = std::all_of(found->partitions, found->partitions + wanted,
                                         [](const auto& p) { return p.leader >= 0; });
            if (led) return check_topic_settings();
        } else if (!found && !created) {
            if (auto r = create_topic(); !r) return r;
            created = true;
            continue;
        }
        if (clock::now() >= deadline)
            return failure(errc::unavailable,
                           "Kafka topic " + options_.topic + " is not ready after " +
                               std::to_string(options_.request_timeout.count()) + " ms");
        std::this_thread::sleep_for(metadata_retry);
    }
}

result<void> kafka_log::create_topic() {
    char errstr[512];
    rd_kafka_NewTopic_t* topic =
        rd_kafka_NewTopic_new(options_.topic.c_str(), static_cast<int>(partitions()),
                              options_.replication, errstr, sizeof errstr);
    if (!topic)
        return failure(errc::invalid_argument,
                       "cannot create Kafka topic " + options_.topic + ": " + errstr);
    for (const auto& [name, value] : record_keeping)
        rd_kafka_NewTopic_set_config(topic, name, value);
    // With replicas, acks=all waits for two of them at least, so that a
    // confirmed record outlives the loss of its leader.
    if (options_.replication >= 2) rd_kafka_NewTopic_set_config(topic, "min.insync.replicas", "2");
    rd_kafka_t* rk = producer_->rk.get();
    const auto answer = admin_request(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, options_.request_timeout,
                                      "the creation of topic " + options_.topic,
                                      [&](rd_kafka_AdminOptions_t* admin, rd_kafka_queue_t* queue) {
                                          rd_kafka_CreateTopics(rk, &topic, 1, admin, queue);
                                      });
    rd_kafka_NewTopic_destroy(topic);
    if (!answer) return failure(answer.error());
    const auto& ev = answer.value();
    if (rd_kafka_event_error(ev.get()))
        return failure(errc::unavailable, "cannot create Kafka topic " + options_.topic + ": " +
                                              rd_kafka_event_error_string(ev.get()));
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto err = rd_kafka_topic_result_error(results[i]);
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const char* why = rd_kafka_topic_result_error_string(results[i]);
            return failure(err == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR ||
                                   err == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS ||
                                   err == RD_KAFKA_RESP_ERR_INVALID_CONFIG ||
                                   err == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION
                               ? errc::invalid_argument
                               : errc::unavailable,
                           "cannot create Kafka topic " + options_.topic + ": " + kafka_error(err) +
                               (why ? std::string(" ") + why : ""));
        }
    }
    return success();
}

result<void> kafka_log::check_topic_settings() {
    if (!options_.check_topic_settings) return success();
    rd_kafka_t* rk = producer_->rk.get();
    rd_kafka_ConfigResource_t* resource =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, options_.topic.c_str());
    const auto answer =
        admin_request(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, options_.request_timeout,
                      "for the settings of topic " + options_.topic,
                      [&](rd_kafka_AdminOptions_t* admin, rd_kafka_queue_t* queue) {
                          rd_kafka_DescribeConfigs(rk, &resource, 1, admin, queue);
                      });
    rd_kafka_ConfigResource_destroy(resource);
    if (!answer) return failure(answer.error());
    const auto& ev = answer.value();
    auto err = rd_kafka_event_error(ev.get());
    std::string why = err ? rd_kafka_event_error_string(ev.get()) : "";
    std::size_t n = 0;
    const rd_kafka_ConfigResource_t** resources = nullptr;
    if (!err) {
        resources = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
        if (n == 1 && rd_kafka_ConfigResource_error(resources[0])) {
            err = rd_kafka_ConfigResource_error(resources[0]);
            const char* s = rd_kafka_ConfigResource_error_string(resources[0]);
            why = s ? s : "";
        }
    }
    if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
        err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
        err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
        err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
        // A broker that keeps its settings to itself: the operator answers
        // for them.
        constexpr int syslog_warning = 4;  // on_log's levels are syslog's
        if (options_.on_log)
            options_.on_log(syslog_warning, "cannot read the settings of Kafka topic " +
                                                options_.topic + " (" + kafka_error(err) +
                                                "); it must keep its records forever");
        return success();
    }
    if (err)
        return failure(errc::unavailable, "cannot read the settings of Kafka topic " +
                                              options_.topic + ": " + kafka_error(err) +
                                              (why.empty() ? "" : " " + why));
    if (n != 1)
        return failure(errc::unavailable,
                       "Kafka did not describe the settings of topic " + options_.topic);
    std::size_t count = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[0], &count);
    std::string wrong;
    std::string fix;
    for (const auto& [name, wanted] : record_keeping) {
        for (std::size_t i = 0; i < count; ++i) {
            if (std::string_view(rd_kafka_ConfigEntry_name(entries[i])) != name) continue;
            const char* value = rd_kafka_ConfigEntry_value(entries[i]);
            if (value && std::string_view(value) == wanted) continue;
            wrong +=
                std::string(wrong.empty() ? "" : ", ") + name + "=" + (value ? value : "(unknown)");
            fix += std::string(fix.empty() ? "" : ",") + name + "=" + wanted;
        }
    }
    if (!wrong.empty())
        return failure(errc::invalid_argument,
                       "Kafka topic " + options_.topic + " would not keep every record (" + wrong +
                           "); it is the log of record: set " + fix +
                           " on it (kafka-configs.sh --alter --entity-type topics --entity-name " +
                           options_.topic + " --add-config " + fix + ")");
    return success();
}

result<void> kafka_log::load_offsets() {
    for (partition_id p = 0; p < partitions(); ++p) {
        const std::string key = offset_key(options_.topic, p);
        auto stored = local_->get_meta(key);
        if (!stored) return failure(stored.error());
        if (stored.value()) {
            auto n = parse_offset(*stored.value(), key);
            if (!n) return failure(n.error());
            offsets_[p].store(n.value());
        } else if (local_->head(p).pos > 0) {
            // Its events would be missing from the topic: a reader of the
            // topic would see the chain start past position 1.
            return failure(errc::invalid_argument,
                           "partition " + std::to_string(p) + " of the data directory holds " +
                               std::to_string(local_->head(p).pos) + " events that Kafka topic " +
                               options_.topic +
                               " does not; use a data directory written through this topic, or "
                               "an empty one");
        }
    }
    return success();
}

std::int64_t kafka_log::offset(partition_id p) const {
    return offsets_.at(p).load();
}

bool kafka_log::stopped(partition_id p) const {
    return stopped_.at(p).load();
}

result<void> kafka_log::admits(const envelope& e) const {
    const auto most = max_record_size_.load();
    // Most events are far below the limit, as their binary form shows;
    // only a large one is rendered as a record to be measured.
    if (record_size_bound(e) <= most) return success();
    const auto size = record_size(e);
    if (size <= most) return success();
    return failure(errc::limit_exceeded, "the event would be a Kafka record of up to " +
                                             std::to_string(size) +
                                             " bytes; the producer takes records of at most " +
                                             std::to_string(most) + " bytes (message.max.bytes)");
}

result<void> kafka_log::append_group(std::span<const partition_batch> group) {
    std::lock_guard lock(write_mutex_);
    return append_locked(group);
}

result<void> kafka_log::restore(partition_id p) {
    std::lock_guard lock(write_mutex_);
    // The local store first: after a failed write of its own it takes
    // nothing, the catch-up's writes included, until RocksDB resumes.
    if (auto local = local_->restore(p); !local) return local;
    if (!stopped_.at(p).load()) return success();
    if (clock::now() < next_restore_)
        return failure(errc::unavailable, "partition " + std::to_string(p) +
                                              " waits to re-read the Kafka topic's tail");
    auto made = make_producer();
    auto caught = made ? catch_up_locked(options_.delivery_timeout)
                       : result<catch_up_report>(failure(made.error()));
    if (!caught) {
        next_restore_ = clock::now() + restore_pause;
        return failure(caught.error());
    }
    return success();
}

result<void> kafka_log::append_locked(std::span<const partition_batch> group) {
    if (auto checked = local_->check_group(group); !checked) return checked;
    for (const auto& b : group)
        if (stopped_[b.partition].load())
            return failure(errc::unavailable,
                           "partition " + std::to_string(b.partition) +
                               " is stopped: an earlier write may have reached Kafka unconfirmed, "
                               "and its tail must be re-read first");
    rd_kafka_t* rk = producer_->rk.get();
    char errstr[512];
    if (const auto fatal = rd_kafka_fatal_error(rk, errstr, sizeof errstr)) {
        // Only a new producer writes again; restore() makes one.
        for (auto& s : stopped_) s.store(true);
        return failure(errc::unavailable,
                       "the Kafka producer stopped: " + kafka_error(fatal) + ": " + errstr);
    }

    auto pending = std::make_shared<pending_group>();
    std::size_t count = 0;
    for (const auto& b : group) count += b.events.size();
    pending->outcomes.resize(count);
    pending->remaining = count;

    // Produce every record; on a refusal the rest are not produced.
    std::size_t index = 0;
    rd_kafka_resp_err_t refused = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (const auto& b : group) {
        for (const auto& e : b.events) {
            pending->outcomes[index].partition = b.partition;
            auto t = std::make_unique<ticket>(ticket{pending, index});
            refused =
                produce(rk, producer_->topic, static_cast<std::int32_t>(b.partition), e, t.get());
            if (refused) break;
            (void)t.release();  // on_delivery() owns it now
            ++index;
        }
        if (refused) break;
    }

    const auto deadline = clock::now() + options_.delivery_timeout + report_grace;
    bool reported = false;
    {
        std::unique_lock lock(pending->mutex);
        for (std::size_t i = index; i < count; ++i) pending->outcomes[i].err = refused;
        pending->remaining -= count - index;
        reported =
            pending->done.wait_until(lock, deadline, [&] { return pending->remaining == 0; });
    }
    if (!reported) {
        for (const auto& b : group) stopped_[b.partition].store(true);
        return failure(errc::unavailable, "Kafka did not confirm the write within " +
                                              std::to_string(options_.delivery_timeout.count()) +
                                              " ms");
    }

    // The reports are all in; no other thread touches the outcomes now.
    const outcome* first_failure = nullptr;
    for (const auto& o : pending->outcomes)
        if (o.err && !first_failure) first_failure = &o;
    if (first_failure) {
        // Any record of the group may be in the topic and not in the local
        // store, whatever its report says: librdkafka's persistence status
        // is its best guess (a record sent, then retried after a
        // disconnection, can be reported as never persisted), and a guess
        // wrong here would put two events at one position. Every partition
        // of the group re-reads the topic before it writes again.
        for (const auto& b : group) stopped_[b.partition].store(true);
        return failure(errc::unavailable, "Kafka did not take the write to partition " +
                                              std::to_string(first_failure->partition) + ": " +
                                              kafka_error(first_failure->err));
    }

    // Each partition's records, in the order produced, must sit at rising
    // offsets past its stored one. A confirmation without an offset
    // (librdkafka gives none for a record it counts as written because the
    // broker called it a duplicate, or because a later record was taken) is
    // no proof that the record is in the topic: the group fails, and its
    // partitions re-read their tails before they write again.
    std::vector<std::int64_t> last(partitions());
    for (partition_id p = 0; p < partitions(); ++p) last[p] = offsets_[p].load();
    for (const auto& o : pending->outcomes) {
        if (o.offset <= last[o.partition]) {
            for (const auto& b : group) stopped_[b.partition].store(true);
            return failure(errc::unavailable,
                           "Kafka confirmed a record of partition " + std::to_string(o.partition) +
                               " at offset " + std::to_string(o.offset) + ", not past offset " +
                               std::to_string(last[o.partition]) +
                               "; the partition re-reads the topic's tail before it writes again");
        }
        last[o.partition] = o.offset;
    }
    std::vector<meta_put> metas;
    for (partition_id p = 0; p < partitions(); ++p)
        if (last[p] != offsets_[p].load())
            metas.push_back({offset_key(options_.topic, p), std::to_string(last[p])});
    if (auto r = local_->append_group(group, metas); !r) {
        for (const auto& b : group) stopped_[b.partition].store(true);
        return r;
    }
    for (partition_id p = 0; p < partitions(); ++p) offsets_[p].store(last[p]);
    return success();
}

result<catch_up_report> kafka_log::catch_up() {
    std::lock_guard lock(write_mutex_);
    return catch_up_locked(options_.request_timeout);
}

result<catch_up_report> kafka_log::catch_up_locked(std::chrono::milliseconds patience) {
    const std::uint32_t n = partitions();
    // Records still queued by the producer must not land after the tail
    // was read.
    rd_kafka_purge(producer_->rk.get(), RD_KAFKA_PURGE_F_QUEUE);

    auto conf = make_conf(options_, {{"group.id", options_.client_id + ".catch-up"},
                                     {"enable.auto.commit", "false"},
                                     {"enable.auto.offset.store", "false"},
                                     {"enable.partition.eof", "true"},
                                     {"auto.offset.reset", "error"}});
    if (!conf) return failure(conf.error());
    auto made = make_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
    if (!made) return failure(made.error());
    handle_ptr consumer = std::move(made).value();
    struct closer {
        rd_kafka_t* rk;
        ~closer() { rd_kafka_consumer_close(rk); }
    } close_on_exit{consumer.get()};

    // Where each partition starts and ends (its high watermark now).
    std::vector<std::int64_t> high(n, 0);
    std::vector<bool> done(n, true);
    rd_kafka_topic_partition_list_t* assignment =
        rd_kafka_topic_partition_list_new(static_cast<int>(n));
    for (partition_id p = 0; p < n; ++p) {
        std::int64_t low = 0;
        // A broker that just started may not lead its partitions yet.
        const auto deadline = clock::now() + patience;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (;;) {
            err = rd_kafka_query_watermark_offsets(consumer.get(), options_.topic.c_str(),
                                                   static_cast<std::int32_t>(p), &low, &high[p],
                                                   std::max(1, remaining_ms(deadline)));
            if (!err || clock::now() >= deadline) break;
            std::this_thread::sleep_for(metadata_retry);
        }
        if (err) {
            rd_kafka_topic_partition_list_destroy(assignment);
            return failure(errc::unavailable, "cannot read the end of Kafka topic " +
                                                  options_.topic + " partition " +
                                                  std::to_string(p) + ": " + kafka_error(err));
        }
        const std::int64_t from = offsets_[p].load() + 1;
        if (from >= high[p]) continue;
        done[p] = false;
        rd_kafka_topic_partition_list_add(assignment, options_.topic.c_str(),
                                          static_cast<std::int32_t>(p))
            ->offset = offsets_[p].load() < 0 ? RD_KAFKA_OFFSET_BEGINNING : from;
    }
    const auto assigned = rd_kafka_assign(consumer.get(), assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    if (assigned)
        return failure(errc::unavailable,
                       "cannot read Kafka topic " + options_.topic + ": " + kafka_error(assigned));

    catch_up_report report;
    std::vector<std::vector<envelope>> pending(n);
    std::vector<chain_head> expect(n);
    std::vector<std::int64_t> last(n);
    for (partition_id p = 0; p < n; ++p) {
        expect[p] = local_->head(p);
        last[p] = offsets_[p].load();
    }

    auto flush = [&]() -> result<void> {
        std::vector<partition_batch> batches;
        std::vector<meta_put> metas;
        for (partition_id p = 0; p < n; ++p) {
            if (!pending[p].empty()) batches.push_back({p, pending[p]});
            if (last[p] != offsets_[p].load())
                metas.push_back({offset_key(options_.topic, p), std::to_string(last[p])});
        }
        if (metas.empty()) return success();
        auto written =
            batches.empty() ? local_->put_meta(metas) : local_->append_group(batches, metas);
        if (!written) return written;
        for (partition_id p = 0; p < n; ++p) {
            report.appended += pending[p].size();
            pending[p].clear();
            offsets_[p].store(last[p]);
        }
        return success();
    };

    // A record at a position already held: the same event (dropped) or
    // another one (a fork: corruption).
    auto is_duplicate = [&](const envelope& e) -> result<void> {
        const chain_head held = local_->head(e.partition);
        hash_bytes known{};
        if (e.pos > held.pos) {
            known = pending[e.partition][e.pos - held.pos - 1].hash;
        } else {
            auto stored = local_->read(e.partition, e.pos, 1);
            if (!stored) return failure(stored.error());
            if (stored.value().empty() || stored.value().front().pos != e.pos)
                return failure(errc::corruption, "partition " + std::to_string(e.partition) +
                                                     " position " + std::to_string(e.pos) +
                                                     " is missing from the local store");
            known = stored.value().front().hash;
        }
        if (known != e.hash)
            return failure(errc::corruption, "Kafka topic " + options_.topic + " partition " +
                                                 std::to_string(e.partition) +
                                                 " holds two different events at " + "position " +
                                                 std::to_string(e.pos));
        return success();
    };

    std::size_t held = 0;
    auto idle_deadline = clock::now() + patience;
    while (std::any_of(done.begin(), done.end(), [](bool d) { return !d; })) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), poll_interval_ms);
        if (!m) {
            if (clock::now() >= idle_deadline)
                return failure(errc::unavailable, "catching up with Kafka topic " + options_.topic +
                                                      " made no progress for " +
                                                      std::to_string(patience.count()) + " ms");
            continue;
        }
        std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(
            m, rd_kafka_message_destroy);
        idle_deadline = clock::now() + patience;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && static_cast<std::uint32_t>(m->partition) < n)
                done[static_cast<partition_id>(m->partition)] = true;
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
            m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
            return failure(
                errc::corruption,
                "Kafka topic " + options_.topic + " partition " + std::to_string(m->partition) +
                    " no longer holds the records after the stored offset: " + kafka_error(m->err));
        if (m->err)
            return failure(errc::unavailable, "cannot read Kafka topic " + options_.topic + ": " +
                                                  kafka_error(m->err));
        const auto p = static_cast<partition_id>(m->partition);

        record r;
        if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
        if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
        rd_kafka_headers_t* headers = nullptr;
        if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char* name = nullptr;
            const void* value = nullptr;
            std::size_t size = 0;
            for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == 0;
                 ++i)
                r.headers.emplace_back(
                    name,
                    value ? std::string(static_cast<const char*>(value), size) : std::string());
        }
        const std::string where = "Kafka topic " + options_.topic + " partition " +
                                  std::to_string(p) + " offset " + std::to_string(m->offset);
        auto decoded = from_record(r);
        if (!decoded) return failure(errc::corruption, where + ": " + decoded.error().message);
        envelope& e = decoded.value();
        // A checkpoint belongs to its partition, not to a space.
        const bool spaceless = std::holds_alternative<chain_checkpoint>(e.data);
        if (e.partition != p || (!spaceless && partition_of(e.space, n) != p))
            return failure(errc::corruption, where + ": the event belongs to partition " +
                                                 std::to_string(partition_of(e.space, n)));

        if (e.pos <= expect[p].pos) {
            if (auto dup = is_duplicate(e); !dup) return failure(dup.error());
            ++report.duplicates;
        } else {
            if (e.pos != expect[p].pos + 1)
                return failure(errc::corruption, where + ": position " + std::to_string(e.pos) +
                                                     " follows " + std::to_string(expect[p].pos) +
                                                     " (records are missing)");
            if (auto linked = verify_link(e, expect[p]); !linked)
                return failure(errc::corruption, where + ": " + linked.error().message);
            expect[p] = chain_head{e.pos, e.hash};
            pending[p].push_back(std::move(e));
            ++held;
        }
        last[p] = m->offset;
        if (m->offset >= high[p] - 1) done[p] = true;
        if (held >= catch_up_batch) {
            if (auto w = flush(); !w) return failure(w.error());
            held = 0;
        }
    }
    if (auto w = flush(); !w) return failure(w.error());
    for (auto& s : stopped_) s.store(false);
    return report;
}

}  // namespace migops::events::kafka
