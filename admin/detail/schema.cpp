// The store's schema versions and the migration runner.
#include "admin/detail/schema.hpp"

#include "admin/detail/sqlite.hpp"

#include <array>

namespace b2b::admin::detail {

namespace {

// Version 1. Times are milliseconds since the Unix epoch (UTC). Documents and bindings are
// JSON text the store does not interpret; json_valid keeps anything else out.
// tests/unit/admin/store_v1.sql is a file written by this step: keep them in step.
constexpr const char* schema_v1 = R"sql(
CREATE TABLE schema_version (
  version INTEGER NOT NULL
);
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE documents (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  body TEXT NOT NULL CHECK (json_valid(body)),
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  remote TEXT NOT NULL,
  operation TEXT NOT NULL,
  object TEXT NOT NULL,
  result INTEGER NOT NULL
);
CREATE INDEX audit_by_time ON audit (time_ms);
CREATE TABLE cdrs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  direction TEXT NOT NULL,
  trunk TEXT,
  caller TEXT NOT NULL,
  dialled TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  answer_ms INTEGER,
  end_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  result TEXT NOT NULL,
  status INTEGER NOT NULL,
  hangup_by TEXT,
  inbound_call_id TEXT NOT NULL,
  outbound_call_id TEXT
);
CREATE INDEX cdrs_by_end ON cdrs (end_ms);
CREATE TABLE bindings (
  aor TEXT NOT NULL,
  contact TEXT NOT NULL,
  body TEXT NOT NULL CHECK (json_valid(body)),
  PRIMARY KEY (aor, contact)
) WITHOUT ROWID;
)sql";

constexpr std::array<migration, 1> all_steps{{
    {1, schema_v1},
}};

}  // namespace

std::span<const migration> migrations() noexcept {
    return all_steps;
}

store_result<int> read_schema_version(sqlite3* db, const std::string& path) {
    statement tables(db, "SELECT count(*), count(*) FILTER (WHERE name = 'schema_version') FROM sqlite_schema "
                         "WHERE type = 'table'");
    auto row = tables.step(path + ": reading the schema");
    if (!row) return row.error();
    if (tables.integer(1) == 0) {
        if (tables.integer(0) == 0) return 0;
        return store_error(store_errc::unavailable, 0, path + ": not a b2bua store (it has tables but no schema_version)");
    }
    statement version(db, "SELECT max(version) FROM schema_version");
    row = version.step(path + ": reading the schema version");
    if (!row) return row.error();
    return static_cast<int>(version.integer(0));
}

store_result<int> migrate(sqlite3* db, std::span<const migration> steps, const std::string& path) {
    const int known = steps.empty() ? 0 : steps.back().version;
    auto current = read_schema_version(db, path);
    if (!current) return current.error();
    auto too_new = [&](int version) {
        return store_error(store_errc::schema_too_new, 0,
                           path + ": schema version " + std::to_string(version) + " is newer than this b2bua knows (" +
                               std::to_string(known) + "); run the b2bua that wrote it, or restore a backup");
    };
    if (*current > known) return too_new(*current);
    for (const migration& step : steps) {
        if (step.version <= *current) continue;
        const std::string what = path + ": migrating to schema version " + std::to_string(step.version);
        transaction t(db);
        if (!t.ok()) return store_error(t.error().code(), t.error().sqlite_code(), what + ": " + t.error().what());
        // Under the write lock: another process may have migrated meanwhile.
        current = read_schema_version(db, path);
        if (!current) return current.error();
        if (*current > known) return too_new(*current);
        if (step.version <= *current) continue;
        if (auto r = exec(db, step.sql, what); !r) return r.error();
        statement set(db, "DELETE FROM schema_version");
        if (auto r = set.run(what); !r) return r.error();
        statement insert(db, "INSERT INTO schema_version (version) VALUES (?1)");
        insert.bind(1, std::int64_t{step.version});
        if (auto r = insert.run(what); !r) return r.error();
        if (auto r = t.commit(); !r) return store_error(r.error().code(), r.error().sqlite_code(), what + ": " + r.error().what());
        current = step.version;
    }
    return *current;
}

}  // namespace b2b::admin::detail
