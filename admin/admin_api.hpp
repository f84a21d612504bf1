// The REST admin API (/api/v1/*): trunks, users, routes, calls, registrations, authentication
// failures, CDRs, audit, reload. Runs on the HTTP server's thread; reads and changes the SIP
// side only by posting onto its event loop.
#pragma once

#include "admin/access_token.hpp"
#include "admin/documents.hpp"
#include "admin/store.hpp"
#include "b2bua/call_summary.hpp"
#include "http/http_server.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <yaml-cpp/node/node.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace b2b::b2bua {
class core;
}

namespace b2b::admin {

namespace detail {
class cdr_journal;
class store_thread;
}  // namespace detail

/// A SIP event loop (sip.workers) and its core: calls live on every worker, so the API lists,
/// finds and ends them on all of them, and applies every change to all of them.
struct sip_worker_view {
    boost::asio::any_io_executor executor;
    b2bua::core* core = nullptr;
};

/// What the API needs beyond the core and the store.
struct admin_settings {
    access_token token;
    /// The configuration file's root: what the store does not own (and the base every
    /// validation merges the documents into).
    YAML::Node base_config;
    /// Re-reads what a reload covers (log level, certificates, limits); returns what it reloaded,
    /// or throws std::runtime_error. Runs on the SIP loop.
    std::function<std::vector<std::string>()> reload;
    /// Whether the SIP listeners are up (for /readyz).
    std::function<bool()> listening;
    /// Call detail records: kept this long in the store; appended to this file when not empty.
    std::chrono::hours cdr_keep{24 * 90};
    std::string cdr_file;
    /// Every worker, worker 0 (the constructor's `sip_ex` and `core`) first; empty = that one
    /// alone. Worker 0 answers for what it alone holds (registrations, bans, trunk health).
    std::vector<sip_worker_view> workers;
};

/// The admin API. Construct on the HTTP thread's executor; `add_routes` once before the server
/// starts. Every change is validated as a whole configuration, written to the store (a 2xx
/// means it is on disk), then posted to the SIP loop; the answer goes out once the loop has
/// applied it. Changes (every method but GET, and reloads) take turns: one is validated only
/// once the one before it has answered.
///
/// The store has a thread of its own (detail::store_thread): what the HTTP thread serves
/// (/metrics, /readyz, reads) never waits for a synced commit.
///
/// @par Thread safety
/// Everything here runs on `http_ex` (one thread); `record_cdr` and `record_bindings` may be
/// called from any thread.
class admin_api : public std::enable_shared_from_this<admin_api> {
public:
    struct request;
    struct collection;
    using reply = std::function<void(http::response)>;

    admin_api(boost::asio::any_io_executor http_ex, boost::asio::any_io_executor sip_ex, b2bua::core& core,
              std::unique_ptr<store> st, document_set docs, admin_settings settings);
    ~admin_api();

    /// The API's routes (/api/v1/*) and the status page (GET /, admin/status_route.hpp).
    void add_routes(http::http_server& server);
    /// Hands an ended call's record to the store (batched: one transaction per second).
    void record_cdr(b2bua::call_record record);
    /// Stops the CDR flush timer and writes what is queued.
    void shutdown();
    /// An account's registrar bindings now (JSON of admin::binding_json by Contact), from the SIP
    /// loop: the store is brought in line on its thread.
    void record_bindings(std::string user, std::vector<std::pair<std::string, std::string>> bindings);
    /// Starts the once-a-second CDR flush.
    void start() { schedule_flush(); }
    /// Why the store cannot be written, or empty (for /readyz). Answers from what is known and
    /// never waits: a failed write says so at once; a probe (a real write, so an fsync) runs on
    /// the store's thread at most every 10 s, or on every call while a problem is known, and
    /// its outcome is the next call's answer.
    std::string store_readiness();
    /// SIGHUP: the store's trunks, users and routes, and what `admin_settings::reload`
    /// re-reads; `done` gets the answer. `who` goes to the audit log. Takes its turn among the
    /// API's changes.
    void reload_all(std::string who, reply done);


private:
    void add_status_route(http::http_server& server);
    void handle(request& r, reply done);
    void route(request& r, reply done);
    /// Runs `work` once every change queued before it has answered (or dropped its reply).
    void take_turn(std::function<void(reply)> work, reply done);
    void next_turn();
    /// POST /api/v1/reload and SIGHUP, in their turn.
    void reload_now(std::string who, reply done);
    void apply_reload(std::string who, boost::system::result<document_set, std::string> loaded, reply done);
    void flush_cdrs();
    void schedule_flush();

    // Resource handlers (admin_api.cpp, admin_resources.cpp)
    /// POST, and PUT or PATCH, of a trunk or a user.
    void add_document(request& r, const collection& c, reply done);
    void replace_document(request& r, const collection& c, const std::string& name, reply done);
    void trunks(request& r, reply done);
    void users(request& r, reply done);
    void tables(request& r, reply done);
    void calls(request& r, reply done);
    void registrations(request& r, reply done);
    void auth_failures(request& r, reply done);
    void cdrs(request& r, reply done);
    void audit(request& r, reply done);
    void reload(request& r, reply done);
    void log_level(request& r, reply done);
    /// GET, POST /api/v1/bans; DELETE /api/v1/bans/{address} (admin_bans.cpp).
    void bans(request& r, reply done);

    /// Writes an audit line that goes with no document change (an operator's hang-up, ban,
    /// reload, log level); a store that cannot take it is noted for /readyz. HTTP thread; the
    /// write happens on the store's.
    void record_audit(std::string remote, std::string operation, std::string object, int result);
    /// The outcome handler of a write nobody waits for (audit, bindings): a failure is noted
    /// for /readyz. The handler runs on the HTTP thread.
    std::function<void(store_result<void>)> note_store_failure();
    /// Validates `next` (a change to `trunk` or `user`, if any), writes it with its audit line,
    /// and applies it on the SIP loop; then `answer` (a 2xx, also its audit result) goes out.
    void commit(request& r, document_set next, change_set changes, std::string object, std::string trunk,
                std::string user, http::response answer, reply done, std::string end_calls_on = {});

    boost::asio::any_io_executor http_ex_;
    boost::asio::any_io_executor sip_ex_;
    b2bua::core& core_;
    std::vector<sip_worker_view> workers_;  ///< worker 0 first
    document_set docs_;
    admin_settings settings_;
    std::string store_problem_;  ///< the last write failure, for /readyz; empty when writable
    std::chrono::steady_clock::time_point store_probed_{};
    bool probing_ = false;

    /// Changes waiting for their turn, and whether one is under way.
    std::deque<std::function<void()>> turns_;
    bool in_turn_ = false;

    std::shared_ptr<detail::cdr_journal> cdrs_;
    boost::asio::steady_timer cdr_timer_;
    bool flushing_ = false;  ///< the timer's last flush has not come back yet
    bool stopped_ = false;
    /// When this API, built at the process's start, came up: the status page's uptime.
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    /// Last, so it goes first: its destructor runs the queued jobs (the last CDRs among them),
    /// which use `cdrs_`, and ends its thread before anything else here goes.
    std::unique_ptr<detail::store_thread> store_;
};

}  // namespace b2b::admin
