// A consistent copy of an open SQLite database into a new file (SQLite's online backup).
#pragma once

#include "admin/store.hpp"

#include <sqlite3.h>

#include <string>

namespace b2b::admin::detail {

/// Copies `source` (whose file is `source_path`, for messages) to `file`: written to
/// `<file>.partial` first, switched to rollback-journal mode (one self-contained file), synced,
/// then renamed onto `file`, so `file` is never half written.
store_result<backup_summary> backup_database(sqlite3* source, const std::string& source_path, const std::string& file);

}  // namespace b2b::admin::detail
