// The embedded store (SQLite): what the admin API changes, registrar bindings, CDRs, the audit log.
#pragma once

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

struct sqlite3;

namespace b2b::admin {

/// Why a store operation failed.
enum class store_errc : std::uint8_t {
    /// SQLite could not read or write the file: disk full, read-only file system, I/O error,
    /// locked by another writer for longer than the busy timeout, or a corrupt file. The message
    /// says which (SQLite's own words).
    unavailable = 1,
    /// A remove named a document or binding that is not in the store.
    not_found,
    /// A document's text is not JSON.
    invalid_document,
    /// The file was written by a newer b2bua: its schema version is above the one this build knows.
    schema_too_new,
};

/// A store failure: a kind, SQLite's result code (0 when the failure is ours, not SQLite's) and a
/// sentence naming the file or the object, e.g. "/var/lib/b2bua/b2bua.db: commit: database or
/// disk is full". Thrown by `store::open`; returned as a value by everything else.
class store_error : public std::runtime_error {
public:
    store_error(store_errc code, int sqlite_code, const std::string& message);
    /// For boost::system::result, which needs one; never returned as a failure.
    store_error() : store_error(store_errc::unavailable, 0, "no error") {}

    store_errc code() const noexcept { return code_; }
    /// SQLite's extended result code (e.g. SQLITE_FULL, SQLITE_READONLY), 0 when there is none.
    int sqlite_code() const noexcept { return sqlite_code_; }

private:
    store_errc code_;
    int sqlite_code_;
};

template <class T>
using store_result = boost::system::result<T, store_error>;

/// Boost.System calls this when `.value()` is used on a failed store_result: it throws the error.
[[noreturn]] void throw_exception_from_error(const store_error& e, const boost::source_location& loc);

/// Document kinds the admin layer keeps. A kind holds JSON documents by key; the store does not
/// look inside them (they hold the config file's keys, as the admin API spells them).
namespace kinds {
inline constexpr std::string_view trunk = "trunk";                    ///< keyed by trunk name
inline constexpr std::string_view user = "user";                      ///< keyed by username
inline constexpr std::string_view routes = "routes";                  ///< one document: the table
inline constexpr std::string_view inbound_routes = "inbound_routes";  ///< one document: the table
}  // namespace kinds

/// The key of a kind that is one whole document (routes, inbound_routes).
inline constexpr std::string_view whole_document = "";

/// One stored document.
struct document {
    std::string key;
    std::string json;
};

/// One change made through the admin API, as the audit log keeps it. Never holds a secret: the
/// admin layer writes what was done to which object, not the body.
struct audit_entry {
    std::chrono::system_clock::time_point time{};
    std::string remote;     ///< the client's address, e.g. "127.0.0.1:53122"
    std::string operation;  ///< e.g. "POST /api/v1/trunks"
    std::string object;     ///< e.g. "trunk acme"
    int result = 0;         ///< the HTTP status answered, e.g. 201
};

/// Document changes applied together by `store::commit`: all of them, the audit entry and the
/// seeded marker, or none.
struct change_set {
    struct put_document {
        std::string kind;
        std::string key;
        std::string json;  ///< must be JSON (else invalid_document)
    };
    struct remove_document {
        std::string kind;
        std::string key;  ///< must exist (else not_found)
    };
    using operation = std::variant<put_document, remove_document>;

    std::vector<operation> operations;
    /// Written in the same transaction as the operations.
    std::optional<audit_entry> audit;
    /// Marks the store as seeded from the configuration file (see `store::seeded`).
    bool mark_seeded = false;
    /// Node state (store::put_state) written in the same transaction: e.g. a change kept until
    /// the other nodes of a cluster have it.
    std::vector<std::pair<std::string, std::string>> states;

    /// Inserts the document, or replaces the one with the same kind and key.
    change_set& put(std::string_view kind, std::string_view key, std::string json);
    change_set& remove(std::string_view kind, std::string_view key);
};

/// A call detail record: one per call, written as the call ends.
struct cdr {
    std::string id;         ///< the call's id in the call registry (unique only within one run)
    std::string direction;  ///< "outbound" (PBX to trunk) or "inbound"
    std::optional<std::string> trunk;
    std::string caller;
    std::string dialled;
    std::chrono::system_clock::time_point start{};
    std::optional<std::chrono::system_clock::time_point> answer;
    std::chrono::system_clock::time_point end{};
    std::chrono::milliseconds duration{0};  ///< answered time; 0 when never answered
    std::string result;                     ///< e.g. "answered", "cancelled", "failed"
    int status = 0;                         ///< the final SIP status the caller got
    std::optional<std::string> hangup_by;   ///< "caller", "callee" or "b2bua"
    std::string inbound_call_id;
    std::optional<std::string> outbound_call_id;

    friend bool operator==(const cdr&, const cdr&) = default;
};

/// A registrar binding of a downstream user, kept so registrations outlive a restart. The JSON
/// holds what the registrar needs (expiry, source, transport...); the store keys it only.
struct binding_record {
    std::string aor;
    std::string contact;
    std::string json;
};

/// What `store::backup` wrote.
struct backup_summary {
    std::string source;  ///< the store's file
    std::string file;
    std::uintmax_t bytes = 0;
    int pages = 0;
    int schema_version = 0;
};

/// The embedded store: one SQLite database, `<data_dir>/b2bua.db`, in WAL mode with
/// synchronous=FULL, so a committed write is on disk when `commit` returns and a crash at any
/// point leaves either the old state or the new one. CDRs and registrar bindings are the
/// exception: see add_cdrs.
///
/// Holds documents (trunks, users, the route tables) as JSON text, registrar bindings, CDRs and
/// the audit log. The schema has a version; `open` migrates an older file, one transaction per
/// step, and refuses a newer one.
///
/// Errors: `open` throws `store_error` (startup); every other member returns its failure as a
/// value, so a full disk or a read-only file system becomes an answer (503), never a crash.
///
/// @par Thread safety
/// None: one store object is used from one thread (in the b2bua, the HTTP thread; the SIP loop
/// hands it records by posting). Other processes and other store objects (each with its own
/// connection) may use the same file at the same time: SQLite locks the file, readers never wait
/// for writers, and a writer waits for another writer up to a busy timeout (then `unavailable`).
class store {
public:
    /// The schema version this build writes.
    static int latest_schema_version() noexcept;

    /// Opens (creating the directory and the file when missing) `<data_dir>/b2bua.db` and
    /// migrates it to the latest schema. Throws store_error naming the path and SQLite's message
    /// when it cannot, or when the file's schema is newer than this build knows.
    static std::unique_ptr<store> open(const std::string& data_dir);

    /// Copies the store in `data_dir` to `file` with SQLite's online backup: a consistent
    /// snapshot even while another process writes. Does not create or migrate the store (it
    /// must exist). The copy is written beside `file` and renamed onto it when complete, so
    /// `file` is either the old file or the whole new copy; the copy is a single file
    /// (rollback-journal mode) that `open` accepts.
    static store_result<backup_summary> backup(const std::string& data_dir, const std::string& file);

    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    /// `<data_dir>/b2bua.db`.
    const std::string& path() const noexcept { return path_; }
    /// The file's schema version (the latest, once open has migrated it).
    int schema_version() const noexcept { return schema_version_; }

    // Documents
    /// The documents of one kind, by key.
    store_result<std::vector<document>> list(std::string_view kind);
    store_result<std::optional<std::string>> get(std::string_view kind, std::string_view key);
    /// Applies every change of `changes` in one transaction (BEGIN IMMEDIATE ... COMMIT), or none.
    store_result<void> commit(const change_set& changes);
    /// Whether a change set with `mark_seeded` has been committed: the configuration file seeds
    /// the store on first start only; afterwards the store owns the documents.
    store_result<bool> seeded();

    // Audit log
    /// Entries at or after `since`, newest first, at most `limit`.
    store_result<std::vector<audit_entry>> list_audit(std::chrono::system_clock::time_point since, std::size_t limit);

    // Call detail records
    /// Inserts the records in one transaction. This one, prune_cdrs and replace_bindings commit
    /// without waiting for the disk (synchronous=NORMAL): durable against a crash of the
    /// process at once, against a power cut from the next synced commit or checkpoint on.
    store_result<void> add_cdrs(std::span<const cdr> records);
    /// Records that ended at or after `since`, newest first, at most `limit`.
    store_result<std::vector<cdr>> list_cdrs(std::chrono::system_clock::time_point since, std::size_t limit);
    /// Deletes the records that ended before `older_than`; returns how many.
    store_result<std::size_t> prune_cdrs(std::chrono::system_clock::time_point older_than);

    // Registrar bindings
    /// Inserts the binding, or replaces the one with the same AOR and Contact.
    store_result<void> put_binding(std::string_view aor, std::string_view contact, std::string_view json);
    store_result<void> remove_binding(std::string_view aor, std::string_view contact);
    /// Makes `contacts` (Contact, JSON) the AOR's only bindings, in one transaction: what a
    /// REGISTER leaves (RFC 3261 §10.3 step 8 answers with the AOR's whole binding set).
    store_result<void> replace_bindings(std::string_view aor,
                                        std::span<const std::pair<std::string, std::string>> contacts);
    store_result<std::vector<binding_record>> list_bindings();

    // Node state
    /// A value this node keeps for itself across restarts (not a document: never audited, never
    /// shared), e.g. how far it has read the cluster's stream. Committed without waiting for the
    /// disk, as add_cdrs.
    store_result<void> put_state(std::string_view key, std::string_view value);
    /// The value `put_state` kept under `key`, if any.
    store_result<std::optional<std::string>> get_state(std::string_view key);
    /// Every state whose key starts with `prefix`, (key, value), in key order.
    store_result<std::vector<std::pair<std::string, std::string>>> list_states(std::string_view prefix);
    /// Forgets the state under `key` (nothing there: nothing happens).
    store_result<void> remove_state(std::string_view key);

    /// Copies this store to `file` as `backup` does.
    store_result<backup_summary> backup_to(const std::string& file);

    /// Whether a write reaches the disk now: commits a one-row write (for /readyz). The error
    /// says why not (e.g. "database or disk is full").
    store_result<void> writable();

private:
    store(sqlite3* db, std::string path, int version);

    sqlite3* db_;
    std::string path_;
    int schema_version_;
};

}  // namespace b2b::admin
