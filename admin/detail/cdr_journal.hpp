// Call detail records on their way from the SIP loops to the store and the JSON-lines file.
#pragma once

#include "admin/store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace b2b::admin::detail {

/// A record as the API and the JSON-lines file show it.
boost::json::object cdr_json(const cdr& r);

/// Ended calls waiting to be written. Every SIP loop adds to it; the store's thread flushes it,
/// once a second and before the API lists CDRs, in one transaction per flush.
///
/// @par Thread safety
/// `add` from any thread; `flush` from one thread at a time (the store's).
class cdr_journal {
public:
    /// Records the store refused (full disk, read-only file system) stay in memory, oldest
    /// first, and go with the next flush, so an outage loses none. Beyond `kept` the oldest go,
    /// counted in the log: an hour at 25 calls a second is some 50 MB; an outage longer than
    /// that is an emergency the log and /readyz announce.
    static constexpr std::size_t kept = 100'000;

    /// `file`: appended to when not empty (throws std::runtime_error naming cdrs.file when it
    /// cannot be opened). `keep`: how long the store keeps records (older ones are pruned once an
    /// hour).
    cdr_journal(const std::string& file, std::chrono::hours keep);

    void add(cdr record);
    /// Appends what was added since the last flush to the file (each record once, as its call
    /// ends), then writes it, with what the store refused before, to the store: all or none.
    /// Returns the store's failure, if any (a failed prune too; the write is tried anyway).
    store_result<void> flush(store& st, std::chrono::system_clock::time_point now);

private:
    std::mutex mutex_;
    std::vector<cdr> added_;  ///< guarded by mutex_

    // The flushing thread's own.
    std::vector<cdr> unsaved_;
    std::string file_name_;
    std::ofstream file_;
    std::chrono::hours keep_;
    std::chrono::system_clock::time_point last_prune_{};
};

}  // namespace b2b::admin::detail
