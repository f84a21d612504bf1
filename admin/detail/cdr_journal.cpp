#include "admin/detail/cdr_journal.hpp"

#include "admin/detail/json_response.hpp"

#include "b2bua/auth_failure_json.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <utility>

namespace b2b::admin::detail {

namespace json = boost::json;

namespace {

void log_error(std::string_view text) {
    if (auto log = spdlog::get("b2bua")) log->error("{}", text);
}

}  // namespace

json::object cdr_json(const cdr& r) {
    json::object o;
    o["id"] = r.id;
    o["direction"] = r.direction;
    o["trunk"] = r.trunk ? json::value(*r.trunk) : json::value(nullptr);
    o["caller"] = r.caller;
    o["dialled"] = r.dialled;
    o["start"] = b2bua::rfc3339_ms(r.start);
    o["answer"] = rfc3339_or_null(r.answer);
    o["end"] = b2bua::rfc3339_ms(r.end);
    o["duration_s"] = std::chrono::duration<double>(r.duration).count();
    o["result"] = r.result;
    o["status"] = r.status;
    o["hangup_by"] = r.hangup_by ? json::value(*r.hangup_by) : json::value(nullptr);
    o["inbound_call_id"] = r.inbound_call_id;
    o["outbound_call_id"] = r.outbound_call_id ? json::value(*r.outbound_call_id) : json::value(nullptr);
    return o;
}

cdr_journal::cdr_journal(const std::string& file, std::chrono::hours keep) : file_name_(file), keep_(keep) {
    if (file.empty()) return;
    file_.open(file, std::ios::app | std::ios::binary);
    if (!file_) throw std::runtime_error("cdrs.file: cannot open " + file + " for appending");
}

void cdr_journal::add(cdr record) {
    const std::lock_guard lock(mutex_);
    added_.push_back(std::move(record));
}

store_result<void> cdr_journal::flush(store& st, std::chrono::system_clock::time_point now) {
    std::vector<cdr> batch;
    {
        const std::lock_guard lock(mutex_);
        batch.swap(added_);
    }
    store_result<void> outcome;
    if (now - last_prune_ > std::chrono::hours(1)) {
        last_prune_ = now;
        if (auto pruned = st.prune_cdrs(now - keep_); !pruned) outcome = pruned.error();
    }
    if (batch.empty() && unsaved_.empty()) return outcome;
    if (file_.is_open() && !batch.empty()) {
        for (const auto& c : batch) file_ << json::serialize(cdr_json(c)) << '\n';
        file_.flush();
        if (!file_) {
            // A failed write sets the stream's error state, which would silence every later
            // batch: say so, and try again with the next one (the store still has them).
            log_error(file_name_ + ": " + std::to_string(batch.size()) +
                      " call detail record(s) not appended: " + std::strerror(errno));
            file_.clear();
        }
    }
    const bool retrying = !unsaved_.empty();
    unsaved_.insert(unsaved_.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
    if (auto w = st.add_cdrs(unsaved_); !w) {
        if (!retrying) {
            log_error(std::string("call detail records not saved, kept in memory until the store takes writes: ") +
                      w.error().what());
        }
        if (unsaved_.size() > kept) {
            const auto dropped = unsaved_.size() - kept;
            unsaved_.erase(unsaved_.begin(), unsaved_.begin() + static_cast<std::ptrdiff_t>(dropped));
            log_error(std::to_string(dropped) + " call detail record(s) lost: the store has refused writes for too long");
        }
        return w.error();
    }
    if (retrying) {
        if (auto log = spdlog::get("b2bua")) {
            log->info("{} call detail record(s) saved after the store took writes again", unsaved_.size());
        }
    }
    unsaved_.clear();
    return outcome;
}

}  // namespace b2b::admin::detail
