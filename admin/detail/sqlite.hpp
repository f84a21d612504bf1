// Thin RAII over the SQLite C API for the store: statements, transactions, errors as values.
#pragma once

#include "admin/store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace b2b::admin::detail {

/// A store_error for SQLite's result `rc` on `db`: "<what>: <SQLite's message>". The kind is
/// derived from the code (a CHECK constraint is a document that is not JSON; everything else
/// SQLite reports is `unavailable`).
store_error sqlite_failure(sqlite3* db, int rc, std::string_view what);

/// Runs SQL text without results (several statements allowed).
store_result<void> exec(sqlite3* db, const char* sql, std::string_view what);

/// One prepared statement. Binding is by 1-based index; text is copied by SQLite.
class statement {
public:
    /// Prepares `sql`; on failure `ok()` is false and `error()` says why.
    statement(sqlite3* db, std::string_view sql);

    bool ok() const noexcept { return stmt_ != nullptr; }
    const store_error& error() const { return *error_; }

    statement& bind(int index, std::string_view text);
    statement& bind(int index, std::int64_t value);
    statement& bind_null(int index);
    statement& bind_optional(int index, const std::optional<std::string>& text);
    statement& bind_optional(int index, const std::optional<std::int64_t>& value);

    /// Steps once: true with a row, false when done; an error as a value.
    store_result<bool> step(std::string_view what);
    /// Steps to the end (a statement without rows).
    store_result<void> run(std::string_view what);
    /// Makes the statement ready to run again with new bindings.
    void reset() noexcept;

    std::string text(int column) const;
    std::optional<std::string> optional_text(int column) const;
    std::int64_t integer(int column) const;
    std::optional<std::int64_t> optional_integer(int column) const;

private:
    void note(int rc) noexcept;

    struct finalizer {
        void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
    };
    sqlite3* db_;
    std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
    std::optional<store_error> error_;
    int bind_rc_ = SQLITE_OK;
};

/// BEGIN IMMEDIATE on construction (the write lock now, so a busy database fails here and not
/// half-way); ROLLBACK on destruction unless committed.
class transaction {
public:
    explicit transaction(sqlite3* db);
    ~transaction();
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    /// Whether BEGIN succeeded; if not, `error()` says why.
    bool ok() const noexcept { return !error_; }
    const store_error& error() const { return *error_; }

    store_result<void> commit();

private:
    sqlite3* db_;
    bool open_ = false;
    std::optional<store_error> error_;
};

/// Milliseconds since the Unix epoch, as the store keeps times.
std::int64_t to_ms(std::chrono::system_clock::time_point t) noexcept;
std::chrono::system_clock::time_point from_ms(std::int64_t ms) noexcept;

}  // namespace b2b::admin::detail
