#include "events/kafka/produce.h"

#include <array>
#include <string_view>

namespace migops::events::kafka {

namespace {

// Takes the headers; librdkafka owns them once the record is enqueued.
rd_kafka_resp_err_t send(rd_kafka_t* rk, rd_kafka_topic_t* topic, std::int32_t partition,
                         std::string_view key, std::string_view value, rd_kafka_headers_t* headers,
                         void* opaque) {
    std::array<rd_kafka_vu_t, 7> vu{};
    vu[0].vtype = RD_KAFKA_VTYPE_RKT;
    vu[0].u.rkt = topic;
    vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[1].u.i32 = partition;
    vu[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[2].u.i = RD_KAFKA_MSG_F_COPY;
    vu[3].vtype = RD_KAFKA_VTYPE_KEY;
    vu[3].u.mem = {const_cast<char*>(key.data()), key.size()};
    vu[4].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[4].u.mem = {const_cast<char*>(value.data()), value.size()};
    vu[5].vtype = RD_KAFKA_VTYPE_HEADERS;
    vu[5].u.headers = headers;
    vu[6].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu[6].u.ptr = opaque;
    rd_kafka_error_t* error = rd_kafka_produceva(rk, vu.data(), vu.size());
    if (!error) return RD_KAFKA_RESP_ERR_NO_ERROR;
    const auto code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    rd_kafka_headers_destroy(headers);
    return code;
}

void add_header(rd_kafka_headers_t* headers, std::string_view name, std::string_view value) {
    rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
}

}  // namespace

rd_kafka_resp_err_t produce(rd_kafka_t* rk, rd_kafka_topic_t* topic, std::int32_t partition,
                            const record& r, void* opaque) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(r.headers.size());
    for (const auto& [name, value] : r.headers) add_header(headers, name, value);
    return send(rk, topic, partition, r.key, r.value, headers, opaque);
}

rd_kafka_resp_err_t produce(rd_kafka_t* rk, rd_kafka_topic_t* topic, std::int32_t partition,
                            const envelope& e, void* opaque) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(max_record_headers);
    for_each_header(e, [&](std::string_view name, std::string_view value) {
        add_header(headers, name, value);
    });
    return send(rk, topic, partition, e.space.value, record_value(e), headers, opaque);
}

}  // namespace migops::events::kafka
