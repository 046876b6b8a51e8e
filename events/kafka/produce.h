#pragma once
// Enqueues one record with librdkafka (copying key, value and headers): the
// produce calls of KafkaLog, shared with the tests and the benchmark's
// raw-producer baseline so that all three send identical records.

#include <librdkafka/rdkafka.h>

#include <cstdint>

#include "events/kafka/record.h"

namespace migops::events::kafka {

// opaque reaches the delivery report as rd_kafka_message_t::_private.
rd_kafka_resp_err_t produce(rd_kafka_t* rk, rd_kafka_topic_t* topic, std::int32_t partition,
                            const record& r, void* opaque);
// The record of e (to_record(e)), its headers copied straight from the
// event.
rd_kafka_resp_err_t produce(rd_kafka_t* rk, rd_kafka_topic_t* topic, std::int32_t partition,
                            const envelope& e, void* opaque);

}  // namespace migops::events::kafka
