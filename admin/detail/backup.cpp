// A consistent copy of an open SQLite database into a new file (SQLite's online backup).
#include "admin/detail/backup.hpp"

#include "admin/detail/schema.hpp"
#include "admin/detail/sqlite.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

namespace b2b::admin::detail {

namespace {

struct closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};

store_error failure(const std::string& file, const std::string& what) {
    return store_error(store_errc::unavailable, 0, file + ": " + what);
}

// The rename is durable only once the directory entry is on disk.
bool sync_directory_of(const std::string& file) {
    const auto dir = std::filesystem::absolute(file).parent_path();
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

store_result<backup_summary> backup_database(sqlite3* source, const std::string& source_path, const std::string& file) {
    const std::string partial = file + ".partial";
    std::error_code ec;
    // Renamed onto the live file, a copy would replace the store under its own connections.
    if (std::filesystem::equivalent(file, source_path, ec)) return failure(file, "is the store itself; name another file");
    std::filesystem::remove(partial, ec);  // left by an interrupted backup

    store_result<backup_summary> result = [&]() -> store_result<backup_summary> {
        sqlite3* raw = nullptr;
        const int rc_open = sqlite3_open_v2(partial.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        std::unique_ptr<sqlite3, closer> dest(raw);
        if (rc_open != SQLITE_OK) return sqlite_failure(dest.get(), rc_open, partial + ": open");
        sqlite3_extended_result_codes(dest.get(), 1);

        // One step of -1 pages copies the whole file under one read transaction on the source:
        // in WAL mode that is a snapshot, and writers go on meanwhile. BUSY or LOCKED can come
        // only while another connection recovers the WAL; retry for a few seconds.
        sqlite3_backup* b = sqlite3_backup_init(dest.get(), "main", source, "main");
        if (b == nullptr) return sqlite_failure(dest.get(), sqlite3_errcode(dest.get()), source_path + ": backup");
        int rc = SQLITE_OK;
        for (int attempt = 0; attempt < 50; ++attempt) {
            rc = sqlite3_backup_step(b, -1);
            if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
            sqlite3_sleep(100);
        }
        const int pages = sqlite3_backup_pagecount(b);
        const int rc_finish = sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE) return sqlite_failure(source, rc, source_path + ": backup to " + partial);
        if (rc_finish != SQLITE_OK) return sqlite_failure(dest.get(), rc_finish, source_path + ": backup to " + partial);

        {  // The copy carries the source's WAL flag; a backup should be one file.
            statement mode(dest.get(), "PRAGMA journal_mode=DELETE");
            auto row = mode.step(partial + ": journal mode");
            if (!row) return row.error();
            if (!*row || mode.text(0) != "delete") return failure(partial, "cannot leave WAL mode");
        }
        auto version = read_schema_version(dest.get(), partial);
        if (!version) return version.error();
        if (const int rc_close = sqlite3_close(dest.release()); rc_close != SQLITE_OK)
            return failure(partial, std::string("close: ") + sqlite3_errstr(rc_close));

        backup_summary summary;
        summary.source = source_path;
        summary.file = file;
        summary.pages = pages;
        summary.schema_version = *version;
        return summary;
    }();
    if (!result) {
        std::filesystem::remove(partial, ec);
        return result;
    }
    // SQLite synced the file on each commit (synchronous=FULL is its default for a rollback
    // journal); the rename makes it appear under its name whole or not at all.
    if (std::rename(partial.c_str(), file.c_str()) != 0) {
        const std::string reason = std::generic_category().message(errno);
        std::filesystem::remove(partial, ec);
        return failure(file, "cannot rename " + partial + " onto it: " + reason);
    }
    if (!sync_directory_of(file)) return failure(file, "cannot sync its directory");
    result->bytes = std::filesystem::file_size(file, ec);
    return result;
}

}  // namespace b2b::admin::detail
