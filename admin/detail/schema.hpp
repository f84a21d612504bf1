// The store's schema: its versions as an ordered list of SQL steps, and the migration runner.
#pragma once

#include "admin/store.hpp"

#include <sqlite3.h>

#include <span>
#include <string>

namespace b2b::admin::detail {

/// One step of the schema: the SQL that takes a file from `version - 1` to `version`.
struct migration {
    int version;
    const char* sql;
};

/// Every step, version 1 first. A released step is never edited: a change is a new step.
std::span<const migration> migrations() noexcept;

/// The file's schema version: 0 for an empty file. A file with tables but no schema_version
/// table is not a store: `unavailable`, naming `path`.
store_result<int> read_schema_version(sqlite3* db, const std::string& path);

/// Applies the steps above the file's version, each in its own transaction (BEGIN IMMEDIATE,
/// the step's SQL, the new version, COMMIT), so a failure leaves the file at the last complete
/// version; returns the version reached. A file newer than the last step is refused
/// (`schema_too_new`) and left alone. Another process migrating the same file at the same time
/// is safe: each step re-reads the version under the write lock.
store_result<int> migrate(sqlite3* db, std::span<const migration> steps, const std::string& path);

}  // namespace b2b::admin::detail
