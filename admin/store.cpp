// The embedded store (SQLite): documents, audit log, CDRs and registrar bindings.
#include "admin/store.hpp"

#include "admin/detail/backup.hpp"
#include "admin/detail/schema.hpp"
#include "admin/detail/sqlite.hpp"

#include <boost/throw_exception.hpp>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <system_error>

namespace b2b::admin {

using detail::from_ms;
using detail::statement;
using detail::to_ms;

store_error::store_error(store_errc code, int sqlite_code, const std::string& message)
    : std::runtime_error(message), code_(code), sqlite_code_(sqlite_code) {}

void throw_exception_from_error(const store_error& e, const boost::source_location& loc) {
    boost::throw_exception(e, loc);
}

change_set& change_set::put(std::string_view kind, std::string_view key, std::string json) {
    operations.emplace_back(put_document{std::string(kind), std::string(key), std::move(json)});
    return *this;
}

change_set& change_set::remove(std::string_view kind, std::string_view key) {
    operations.emplace_back(remove_document{std::string(kind), std::string(key)});
    return *this;
}

namespace {

// A writer waits this long for another writer (another process, or the backup CLI's WAL
// recovery) before the operation fails as `unavailable`. Short, since the caller is the HTTP
// thread: a 503 soon is better than a request stuck behind a lock.
constexpr int busy_timeout_ms = 2000;

struct closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};

std::string db_path(const std::string& data_dir) {
    return (std::filesystem::path(data_dir) / "b2bua.db").string();
}

// The same failure with `prefix: ` in front of its message.
store_error prefixed(const store_error& e, const std::string& prefix) {
    return store_error(e.code(), e.sqlite_code(), prefix + ": " + e.what());
}

std::int64_t row_limit(std::size_t limit) {
    return limit > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(limit);
}

std::string object_name(std::string_view kind, std::string_view key) {
    return key.empty() ? std::string(kind) : std::string(kind) + " '" + std::string(key) + "'";
}

// Durability and integrity settings of every connection to the store.
store_result<void> configure(sqlite3* db, const std::string& path) {
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_timeout_ms);
    if (sqlite3_db_readonly(db, "main") == 1)
        return store_error(store_errc::unavailable, SQLITE_READONLY, path + ": the file is read-only");
    // WAL: readers (the backup CLI, /readyz) never block the writer, and a commit is one
    // append. synchronous=FULL syncs the WAL at every commit, so a committed change survives
    // a power cut, not only a crash of the process.
    statement wal(db, "PRAGMA journal_mode=WAL");
    auto row = wal.step(path + ": journal mode");
    if (!row) return row.error();
    if (!*row || wal.text(0) != "wal")
        return store_error(store_errc::unavailable, 0,
                           path + ": cannot use WAL mode (journal mode is '" + (*row ? wal.text(0) : "") + "')");
    if (auto r = detail::exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", path + ": pragmas"); !r)
        return r.error();
    return {};
}

// Commits that need not wait for the disk: call detail records (which wait up to a second in
// memory before they are written anyway) and registrar bindings (which the PBXs refresh). For
// the life of this object the connection commits with synchronous=NORMAL: in WAL mode a commit
// then survives a crash of the process at once (it is in the WAL file) and a power cut from
// the next synced commit or checkpoint on. It spares the fdatasync that took seconds on a busy
// disk, once a second for the CDR flush, with the operator's changes waiting behind it on the
// store's thread. Setting the pragma does no I/O; a failure to set it leaves FULL in force.
class unsynced_commits {
public:
    explicit unsynced_commits(sqlite3* db) noexcept : db_(db) { (void)detail::exec(db_, "PRAGMA synchronous=NORMAL", ""); }
    ~unsynced_commits() { (void)detail::exec(db_, "PRAGMA synchronous=FULL", ""); }
    unsynced_commits(const unsynced_commits&) = delete;
    unsynced_commits& operator=(const unsynced_commits&) = delete;

private:
    sqlite3* db_;
};

/// Where node state (store::put_state) is kept in meta: apart from the store's own markers.
constexpr std::string_view state_prefix = "state:";

store_result<void> upsert_meta(sqlite3* db, std::string_view key, std::string_view what) {
    statement s(db, "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    s.bind(1, key).bind(2, std::to_string(to_ms(std::chrono::system_clock::now())));
    return s.run(what);
}

}  // namespace

int store::latest_schema_version() noexcept {
    const auto steps = detail::migrations();
    return steps.empty() ? 0 : steps.back().version;
}

std::unique_ptr<store> store::open(const std::string& data_dir) {
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    if (ec) throw store_error(store_errc::unavailable, 0, data_dir + ": cannot create the data directory: " + ec.message());
    std::string path = db_path(data_dir);

    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    std::unique_ptr<sqlite3, closer> db(raw);
    if (rc != SQLITE_OK) throw detail::sqlite_failure(db.get(), rc, path + ": open");
    if (auto r = configure(db.get(), path); !r) throw r.error();
    auto version = detail::migrate(db.get(), detail::migrations(), path);
    if (!version) throw version.error();
    return std::unique_ptr<store>(new store(db.release(), std::move(path), *version));
}

store_result<backup_summary> store::backup(const std::string& data_dir, const std::string& file) {
    const std::string path = db_path(data_dir);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return store_error(store_errc::unavailable, 0, path + ": no store here (is data_dir right?)");
    // Read-write without create: a connection to a WAL database takes part in its shared
    // memory, and nothing here creates or migrates a store.
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    std::unique_ptr<sqlite3, closer> db(raw);
    if (rc != SQLITE_OK) return detail::sqlite_failure(db.get(), rc, path + ": open");
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), busy_timeout_ms);
    return detail::backup_database(db.get(), path, file);
}

store::store(sqlite3* db, std::string path, int version) : db_(db), path_(std::move(path)), schema_version_(version) {}

store::~store() {
    sqlite3_close_v2(db_);
}

store_result<std::vector<document>> store::list(std::string_view kind) {
    statement s(db_, "SELECT key, body FROM documents WHERE kind = ?1 ORDER BY key");
    s.bind(1, kind);
    std::vector<document> out;
    for (;;) {
        auto row = s.step(path_ + ": list " + std::string(kind));
        if (!row) return row.error();
        if (!*row) return out;
        out.push_back({s.text(0), s.text(1)});
    }
}

store_result<std::optional<std::string>> store::get(std::string_view kind, std::string_view key) {
    statement s(db_, "SELECT body FROM documents WHERE kind = ?1 AND key = ?2");
    s.bind(1, kind).bind(2, key);
    auto row = s.step(path_ + ": get " + object_name(kind, key));
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(s.text(0));
}

store_result<void> store::commit(const change_set& changes) {
    detail::transaction t(db_);
    if (!t.ok()) return prefixed(t.error(), path_);
    const auto now_ms = to_ms(std::chrono::system_clock::now());
    for (const auto& op : changes.operations) {
        if (const auto* put = std::get_if<change_set::put_document>(&op)) {
            const std::string what = path_ + ": put " + object_name(put->kind, put->key);
            statement s(db_, "INSERT INTO documents (kind, key, body, updated_ms) VALUES (?1, ?2, ?3, ?4) "
                             "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms");
            s.bind(1, put->kind).bind(2, put->key).bind(3, put->json).bind(4, now_ms);
            if (auto r = s.run(what); !r) {
                if (r.error().code() == store_errc::invalid_document)
                    return store_error(store_errc::invalid_document, r.error().sqlite_code(), what + ": the document is not JSON");
                return r.error();
            }
        } else {
            const auto& remove = std::get<change_set::remove_document>(op);
            const std::string what = path_ + ": remove " + object_name(remove.kind, remove.key);
            statement s(db_, "DELETE FROM documents WHERE kind = ?1 AND key = ?2");
            s.bind(1, remove.kind).bind(2, remove.key);
            if (auto r = s.run(what); !r) return r.error();
            if (sqlite3_changes(db_) == 0) return store_error(store_errc::not_found, 0, what + ": not in the store");
        }
    }
    if (changes.audit) {
        const audit_entry& a = *changes.audit;
        statement s(db_, "INSERT INTO audit (time_ms, remote, operation, object, result) VALUES (?1, ?2, ?3, ?4, ?5)");
        s.bind(1, to_ms(a.time)).bind(2, a.remote).bind(3, a.operation).bind(4, a.object).bind(5, std::int64_t{a.result});
        if (auto r = s.run(path_ + ": audit entry"); !r) return r.error();
    }
    for (const auto& [key, value] : changes.states) {
        statement s(db_, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        const std::string name = std::string(state_prefix) + key;
        s.bind(1, name).bind(2, value);
        if (auto r = s.run(path_ + ": keep " + key); !r) return r.error();
    }
    if (changes.mark_seeded) {
        if (auto r = upsert_meta(db_, "seeded_ms", path_ + ": seeded marker"); !r) return r.error();
    }
    if (auto r = t.commit(); !r) return prefixed(r.error(), path_);
    return {};
}

store_result<bool> store::seeded() {
    statement s(db_, "SELECT 1 FROM meta WHERE key = 'seeded_ms'");
    return s.step(path_ + ": seeded marker");
}

store_result<std::vector<audit_entry>> store::list_audit(std::chrono::system_clock::time_point since,
                                                         std::size_t limit) {
    statement s(db_, "SELECT time_ms, remote, operation, object, result FROM audit WHERE time_ms >= ?1 "
                     "ORDER BY time_ms DESC, seq DESC LIMIT ?2");
    s.bind(1, to_ms(since)).bind(2, row_limit(limit));
    std::vector<audit_entry> out;
    for (;;) {
        auto row = s.step(path_ + ": list audit");
        if (!row) return row.error();
        if (!*row) return out;
        out.push_back({from_ms(s.integer(0)), s.text(1), s.text(2), s.text(3), static_cast<int>(s.integer(4))});
    }
}

store_result<void> store::add_cdrs(std::span<const cdr> records) {
    const unsynced_commits unsynced(db_);
    detail::transaction t(db_);
    if (!t.ok()) return prefixed(t.error(), path_);
    statement s(db_, "INSERT INTO cdrs (id, direction, trunk, caller, dialled, start_ms, answer_ms, end_ms, duration_ms, "
                     "result, status, hangup_by, inbound_call_id, outbound_call_id) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    for (const cdr& c : records) {
        s.bind(1, c.id).bind(2, c.direction).bind_optional(3, c.trunk).bind(4, c.caller).bind(5, c.dialled);
        s.bind(6, to_ms(c.start)).bind_optional(7, c.answer ? std::optional<std::int64_t>(to_ms(*c.answer)) : std::nullopt);
        s.bind(8, to_ms(c.end)).bind(9, std::int64_t{c.duration.count()}).bind(10, c.result);
        s.bind(11, std::int64_t{c.status}).bind_optional(12, c.hangup_by).bind(13, c.inbound_call_id).bind_optional(14, c.outbound_call_id);
        if (auto r = s.run(path_ + ": add cdr " + c.id); !r) return r.error();
        s.reset();
    }
    if (auto r = t.commit(); !r) return prefixed(r.error(), path_);
    return {};
}

store_result<std::vector<cdr>> store::list_cdrs(std::chrono::system_clock::time_point since, std::size_t limit) {
    statement s(db_, "SELECT id, direction, trunk, caller, dialled, start_ms, answer_ms, end_ms, duration_ms, result, "
                     "status, hangup_by, inbound_call_id, outbound_call_id FROM cdrs WHERE end_ms >= ?1 "
                     "ORDER BY end_ms DESC, seq DESC LIMIT ?2");
    s.bind(1, to_ms(since)).bind(2, row_limit(limit));
    std::vector<cdr> out;
    for (;;) {
        auto row = s.step(path_ + ": list cdrs");
        if (!row) return row.error();
        if (!*row) return out;
        cdr c;
        c.id = s.text(0);
        c.direction = s.text(1);
        c.trunk = s.optional_text(2);
        c.caller = s.text(3);
        c.dialled = s.text(4);
        c.start = from_ms(s.integer(5));
        if (auto a = s.optional_integer(6)) c.answer = from_ms(*a);
        c.end = from_ms(s.integer(7));
        c.duration = std::chrono::milliseconds(s.integer(8));
        c.result = s.text(9);
        c.status = static_cast<int>(s.integer(10));
        c.hangup_by = s.optional_text(11);
        c.inbound_call_id = s.text(12);
        c.outbound_call_id = s.optional_text(13);
        out.push_back(std::move(c));
    }
}

store_result<std::size_t> store::prune_cdrs(std::chrono::system_clock::time_point older_than) {
    const unsynced_commits unsynced(db_);
    statement s(db_, "DELETE FROM cdrs WHERE end_ms < ?1");
    s.bind(1, to_ms(older_than));
    if (auto r = s.run(path_ + ": prune cdrs"); !r) return r.error();
    return static_cast<std::size_t>(sqlite3_changes64(db_));
}

store_result<void> store::put_binding(std::string_view aor, std::string_view contact, std::string_view json) {
    const std::string what = path_ + ": put binding " + std::string(aor) + " " + std::string(contact);
    statement s(db_, "INSERT INTO bindings (aor, contact, body) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT (aor, contact) DO UPDATE SET body = excluded.body");
    s.bind(1, aor).bind(2, contact).bind(3, json);
    if (auto r = s.run(what); !r) {
        if (r.error().code() == store_errc::invalid_document)
            return store_error(store_errc::invalid_document, r.error().sqlite_code(), what + ": the binding is not JSON");
        return r.error();
    }
    return {};
}

store_result<void> store::remove_binding(std::string_view aor, std::string_view contact) {
    const std::string what = path_ + ": remove binding " + std::string(aor) + " " + std::string(contact);
    statement s(db_, "DELETE FROM bindings WHERE aor = ?1 AND contact = ?2");
    s.bind(1, aor).bind(2, contact);
    if (auto r = s.run(what); !r) return r.error();
    if (sqlite3_changes(db_) == 0) return store_error(store_errc::not_found, 0, what + ": not in the store");
    return {};
}

store_result<void> store::replace_bindings(std::string_view aor,
                                           std::span<const std::pair<std::string, std::string>> contacts) {
    const std::string what = path_ + ": replace bindings of " + std::string(aor);
    const unsynced_commits unsynced(db_);
    detail::transaction t(db_);
    if (!t.ok()) return prefixed(t.error(), path_);
    statement remove(db_, "DELETE FROM bindings WHERE aor = ?1");
    remove.bind(1, aor);
    if (auto r = remove.run(what); !r) return r.error();
    statement insert(db_, "INSERT INTO bindings (aor, contact, body) VALUES (?1, ?2, ?3)");
    for (const auto& [contact, json] : contacts) {
        insert.bind(1, aor).bind(2, contact).bind(3, json);
        if (auto r = insert.run(what); !r) {
            if (r.error().code() == store_errc::invalid_document)
                return store_error(store_errc::invalid_document, r.error().sqlite_code(), what + ": " + contact + " is not JSON");
            return r.error();
        }
        insert.reset();
    }
    if (auto r = t.commit(); !r) return prefixed(r.error(), path_);
    return {};
}

store_result<std::vector<binding_record>> store::list_bindings() {
    statement s(db_, "SELECT aor, contact, body FROM bindings ORDER BY aor, contact");
    std::vector<binding_record> out;
    for (;;) {
        auto row = s.step(path_ + ": list bindings");
        if (!row) return row.error();
        if (!*row) return out;
        out.push_back({s.text(0), s.text(1), s.text(2)});
    }
}

// In meta, next to the store's own markers, under a prefix of their own.
store_result<void> store::put_state(std::string_view key, std::string_view value) {
    const std::string what = path_ + ": keep " + std::string(key);
    const unsynced_commits unsynced(db_);
    statement s(db_, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    const std::string name = std::string(state_prefix) + std::string(key);
    s.bind(1, name).bind(2, value);
    return s.run(what);
}

store_result<std::optional<std::string>> store::get_state(std::string_view key) {
    statement s(db_, "SELECT value FROM meta WHERE key = ?1");
    const std::string name = std::string(state_prefix) + std::string(key);
    s.bind(1, name);
    auto row = s.step(path_ + ": read " + std::string(key));
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(s.text(0));
}

store_result<std::vector<std::pair<std::string, std::string>>> store::list_states(std::string_view prefix) {
    // substr rather than LIKE: a key may hold '%' or '_'.
    statement s(db_, "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key");
    const std::string name = std::string(state_prefix) + std::string(prefix);
    s.bind(1, name);
    std::vector<std::pair<std::string, std::string>> out;
    for (;;) {
        auto row = s.step(path_ + ": list " + std::string(prefix));
        if (!row) return row.error();
        if (!*row) return out;
        out.emplace_back(s.text(0).substr(state_prefix.size()), s.text(1));
    }
}

store_result<void> store::remove_state(std::string_view key) {
    const unsynced_commits unsynced(db_);
    statement s(db_, "DELETE FROM meta WHERE key = ?1");
    const std::string name = std::string(state_prefix) + std::string(key);
    s.bind(1, name);
    return s.run(path_ + ": forget " + std::string(key));
}

store_result<backup_summary> store::backup_to(const std::string& file) {
    return detail::backup_database(db_, path_, file);
}

store_result<void> store::writable() {
    // A real write through the same path as commit: a full disk, a file system remounted
    // read-only or a lock held too long by another writer show here as they would there.
    detail::transaction t(db_);
    if (!t.ok()) return prefixed(t.error(), path_);
    if (auto r = upsert_meta(db_, "write_probe_ms", path_ + ": write probe"); !r) return r.error();
    if (auto r = t.commit(); !r) return prefixed(r.error(), path_);
    return {};
}

}  // namespace b2b::admin
