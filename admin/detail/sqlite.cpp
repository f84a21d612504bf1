// Thin RAII over the SQLite C API for the store.
#include "admin/detail/sqlite.hpp"

#include <climits>

namespace b2b::admin::detail {

store_error sqlite_failure(sqlite3* db, int rc, std::string_view what) {
    // sqlite3_errmsg describes the connection's most recent failure: use it when that is the
    // one reported (it names the detail, e.g. which constraint), else SQLite's text for rc.
    int extended = rc;
    const char* message = sqlite3_errstr(rc);
    if (db != nullptr && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff)) {
        extended = sqlite3_extended_errcode(db);
        message = sqlite3_errmsg(db);
    }
    const store_errc code = extended == SQLITE_CONSTRAINT_CHECK ? store_errc::invalid_document : store_errc::unavailable;
    return store_error(code, extended, std::string(what) + ": " + message);
}

store_result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
    if (int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK)
        return sqlite_failure(db, rc, what);
    return {};
}

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
    sqlite3_stmt* s = nullptr;
    if (sql.size() > static_cast<std::size_t>(INT_MAX)) {
        error_.emplace(store_errc::unavailable, SQLITE_TOOBIG, "prepare: statement too long");
        return;
    }
    int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(s);
        error_.emplace(sqlite_failure(db, rc, "prepare"));
        return;
    }
    stmt_.reset(s);
}

// A failed bind (a text over SQLite's length limit, out of memory) is kept and returned by the
// next step, so the statement never runs with a parameter left NULL. Text is passed
// SQLITE_TRANSIENT: SQLite copies it.
statement& statement::bind(int index, std::string_view text) {
    if (stmt_) note(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
}

statement& statement::bind(int index, std::int64_t value) {
    if (stmt_) note(sqlite3_bind_int64(stmt_.get(), index, value));
    return *this;
}

statement& statement::bind_null(int index) {
    if (stmt_) note(sqlite3_bind_null(stmt_.get(), index));
    return *this;
}

statement& statement::bind_optional(int index, const std::optional<std::string>& text) {
    return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

statement& statement::bind_optional(int index, const std::optional<std::int64_t>& value) {
    return value ? bind(index, *value) : bind_null(index);
}

store_result<bool> statement::step(std::string_view what) {
    if (!stmt_) return store_error(error_->code(), error_->sqlite_code(), std::string(what) + ": " + error_->what());
    if (bind_rc_ != SQLITE_OK) return sqlite_failure(db_, bind_rc_, what);
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqlite_failure(db_, rc, what);
}

store_result<void> statement::run(std::string_view what) {
    for (;;) {
        auto r = step(what);
        if (!r) return r.error();
        if (!*r) return {};
    }
}

void statement::reset() noexcept {
    if (!stmt_) return;
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    bind_rc_ = SQLITE_OK;
}

void statement::note(int rc) noexcept {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

std::string statement::text(int column) const {
    const auto* p = sqlite3_column_text(stmt_.get(), column);
    const int n = sqlite3_column_bytes(stmt_.get(), column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::string> statement::optional_text(int column) const {
    if (sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL) return std::nullopt;
    return text(column);
}

std::int64_t statement::integer(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}

std::optional<std::int64_t> statement::optional_integer(int column) const {
    if (sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL) return std::nullopt;
    return integer(column);
}

transaction::transaction(sqlite3* db) : db_(db) {
    if (auto r = exec(db, "BEGIN IMMEDIATE", "begin"); !r) {
        error_.emplace(r.error());
        return;
    }
    open_ = true;
}

transaction::~transaction() {
    // A failed COMMIT may already have rolled back (SQLITE_FULL, SQLITE_IOERR); then there is
    // no transaction left and ROLLBACK would only fail.
    if (open_ && sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

store_result<void> transaction::commit() {
    auto r = exec(db_, "COMMIT", "commit");
    // On SQLITE_BUSY the transaction stays open and the destructor rolls it back; on other
    // failures SQLite has rolled it back itself. Either way the old state stands.
    if (r) open_ = false;
    return r;
}

std::int64_t to_ms(std::chrono::system_clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_ms(std::int64_t ms) noexcept {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::milliseconds(ms)));
}

}  // namespace b2b::admin::detail
