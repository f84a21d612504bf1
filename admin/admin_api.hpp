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

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace b2b::b2bua {
class core;
}

namespace b2b::admin {

namespace detail {
class cdr_journal;
class store_thread;
struct change_message;
struct document_change;
class recent_ids;
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

/// What became of the changes other nodes published (admin_api::apply_remote_change) since the
/// start. Each change lands in exactly one of these.
struct remote_change_counts {
    std::uint64_t applied = 0;    ///< written to the store and applied on every worker
    std::uint64_t unchanged = 0;  ///< already in place (a repeat): nothing written
    std::uint64_t malformed = 0;  ///< the body could not be read: dropped
    std::uint64_t invalid = 0;    ///< would not make a valid configuration here: not applied
    std::uint64_t not_saved = 0;  ///< the store could not be written: not applied
    /// older than a change this node made to the same document, which the others apply after
    /// it (`own_change_passed`): skipped, so every node ends with the same one
    std::uint64_t superseded = 0;
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
/// In a cluster, each node has its own store: a change made here is handed to the change
/// publisher, and the other nodes' changes come in through `apply_remote_change`. This layer
/// knows nothing of how they travel.
///
/// @par Thread safety
/// Everything here runs on `http_ex` (one thread); `record_cdr`, `record_bindings`,
/// `apply_remote_change` and `remote_changes` may be called from any thread.
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
    /// Keeps `value` under `key` as this node's own state (store::put_state), on the store's
    /// thread, without waiting; a failure is logged as any store failure. Any thread.
    void keep_node_state(std::string key, std::string value);
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

    /// Called with the body of every change made through this API to trunks, users, routes or
    /// inbound routes (detail/change_message.hpp: the whole document as stored, secrets
    /// included, or its removal, and the audit facts), once the store has it and before the
    /// workers apply it, on the HTTP thread: for the cluster's other nodes, which pass it to
    /// their `apply_remote_change`. Never called for a change that came from another node, nor
    /// for one refused or not saved. It must not block; an exception it throws is logged and
    /// the change stands. It returns whether the change is on its way (false: dropped there).
    /// Set it before `add_routes`; empty (the default) publishes nothing.
    void set_change_publisher(std::function<bool(std::string body)> publish);
    /// A change this node published has passed in the stream every node reads in one order
    /// (any thread). Until it has, a change to the same document from another node is older
    /// than ours where the others apply both (they apply ours after it), so it is skipped here:
    /// two nodes changing one document at once end with the same version, the later one.
    /// One passing that was not waited for (the stream read again after a restart, where an
    /// older change of another node's may have just been applied) is applied again in its
    /// place, as another node's would be (`node` is this one's name, for the audit).
    void own_change_passed(std::string_view body, std::string node);
    /// Once this node has read the cluster's stream up to its end after starting (any thread):
    /// a change made here that never got into the stream (the process ended before it was
    /// handed to Redis, or the queue for it was full) is still in the store's outbox, kept in
    /// the change's own transaction. Each is published now if its document is still as it left
    /// it, and dropped (logged) if another node's later change replaced it meanwhile.
    void send_unsent();
    /// A change another node made, as its change publisher wrote it. In its turn among this
    /// API's changes: the document set with that change is validated as a whole configuration
    /// with this node's base, written to this node's store with an audit line whose remote
    /// reads "node <origin_node> (<who made it there>)", and applied on every worker as a
    /// change made here is (a removed trunk's calls ended when they were ended there). A change
    /// already in place writes nothing, so a repeat is harmless. A body that cannot be read, a
    /// change that would not make a valid configuration here, or a store that cannot be
    /// written: logged with the reason, counted (`remote_changes`), and nothing changes. Never
    /// published again. Any thread: it is posted to `http_ex`, in the order of the calls.
    void apply_remote_change(std::string_view body, std::string origin_node);
    /// What became of the other nodes' changes so far.
    remote_change_counts remote_changes() const;


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
    /// Makes `change` through `apply_change` for the request `r`, audited as done to `object`;
    /// then `answer` (a 2xx, also its audit result) goes out, or the error that stopped it.
    /// `end_calls`: a removed trunk's calls in progress end.
    void commit(request& r, detail::document_change change, std::string object, http::response answer, reply done,
                bool end_calls = false);
    /// What `apply_change` did.
    struct change_outcome {
        enum class result { applied, unchanged, invalid, not_saved };
        result what = result::applied;
        /// invalid: what is wrong; not_saved: the store's reason, in `message`.
        validation_error error;
    };
    /// The one path of every change to the documents, made here (`local`) or on another node:
    /// docs_ with the change is validated as a whole configuration, written to the store with
    /// the audit line, made docs_, published when local, and applied on every worker; `done`
    /// comes once all have applied it, or at the step that stopped it. A change from another
    /// node that leaves docs_ as it is stops as `unchanged`, writing nothing.
    void apply_change(detail::change_message m, bool local, std::function<void(change_outcome)> done);
    /// apply_remote_change, on the HTTP thread.
    void take_remote_change(const std::string& body, std::string origin_node);
    /// Counts and logs what became of `what` (operation and object) from `node`.
    void count_remote_change(const change_outcome& o, const std::string& node, const std::string& what);

    boost::asio::any_io_executor http_ex_;
    boost::asio::any_io_executor sip_ex_;
    b2bua::core& core_;
    std::vector<sip_worker_view> workers_;  ///< worker 0 first
    document_set docs_;
    admin_settings settings_;
    std::string store_problem_;  ///< the last write failure, for /readyz; empty when writable
    std::chrono::steady_clock::time_point store_probed_{};
    bool probing_ = false;

    std::function<bool(std::string)> publish_;
    /// Documents ("kind/key") with changes published here that have not passed in the stream
    /// yet: how many, and since when (one that never passes stops counting after a while).
    struct pending_own {
        std::size_t count = 0;
        std::chrono::steady_clock::time_point since{};
    };
    std::map<std::string, pending_own, std::less<>> pending_own_;
    /// Whether a change of this node's to `doc` is still to pass (expired ones forgotten).
    bool own_change_pending(const std::string& doc);
    /// send_unsent for one change the outbox kept under `key`.
    void send_unsent(const std::string& key, std::string body);
    /// Ids of the changes made here: a random prefix, then a count.
    std::string change_id_prefix_;
    std::uint64_t changes_made_ = 0;
    /// Ids of the other nodes' changes applied or found in place lately: a repeat is skipped.
    std::unique_ptr<detail::recent_ids> recent_remote_;
    /// remote_change_counts, counted on the HTTP thread and read from any.
    struct remote_counters {
        std::atomic<std::uint64_t> applied{0}, unchanged{0}, malformed{0}, invalid{0}, not_saved{0}, superseded{0};
    };
    remote_counters remote_;

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
