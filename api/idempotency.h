#pragma once
// Idempotency-Key on POST: the first answer to a key is kept (per user) and
// a retry with the same request gets it again without running the command;
// the same key with another request is 422; a retry while the first is
// still being answered is 409. Answers of 5xx are not kept, so a retry after
// "busy" or "unavailable" runs again.
//
// The record is written (column family "idempotency") after the command's
// events are durable and before the answer is sent: a retry that arrives
// after a process crash finds it.

#include <mutex>
#include <set>
#include <string>

#include <rocksdb/db.h>

#include "api/route_support.h"

namespace migops::api {

inline constexpr const char* idempotency_column_family = "idempotency";

// The command id of a POST with an Idempotency-Key (empty without one): the
// same user, key, method, target and body give the same id, so that the
// partition answers a retry from the events of the first attempt even when
// the answer was never recorded here (a crash between the events and the
// record, or a write whose outcome the log learned only later).
std::string command_id_for(const http_request& req, const user_id& user);

class idempotency_keys {
  public:
    idempotency_keys(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) : db_(db), cf_(cf) {}
    // The handler, answering retries of a key from the record.
    authed_handler wrap(authed_handler inner);

  private:
    void handle(const http_request& req, const path_params& params, const principal& who,
                const responder& respond, const authed_handler& inner);

    rocksdb::DB& db_;
    rocksdb::ColumnFamilyHandle* cf_;
    std::mutex mutex_;
    std::set<std::string> in_flight_;
};

}  // namespace migops::api
