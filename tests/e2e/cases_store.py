"""End-to-end cases for the embedded store (data_dir/b2bua.db): `b2bua --backup FILE --config CFG`.

The store is made here in the layout of schema version 1 (tests/unit/admin/store_v1.sql, loaded with
Python's sqlite3) and written to by a connection of this test while the copies are taken, as the
running b2bua would. Loaded by test_e2e.py, which puts its helpers (check, Session, config_yaml,
free_port...) in this module's namespace.
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from pathlib import Path

V1_SQL = Path(__file__).resolve().parent.parent / "unit" / "admin" / "store_v1.sql"


class GenerationWriter(threading.Thread):
    """Rewrites every trunk document with the next generation number, one transaction each."""

    def __init__(self, db: Path):
        super().__init__(daemon=True)
        self.db = db
        self.stop = threading.Event()
        self.generation = 0
        self.error: str | None = None

    def run(self):
        try:
            con = sqlite3.connect(self.db, timeout=5, isolation_level=None)
            names = [r[0] for r in con.execute("SELECT key FROM documents WHERE kind = 'trunk'")]
            while not self.stop.is_set():
                g = self.generation + 1
                con.execute("BEGIN IMMEDIATE")
                for name in names:
                    con.execute("UPDATE documents SET body = json_set(body, '$.generation', ?) "
                                "WHERE kind = 'trunk' AND key = ?", (g, name))
                con.execute("INSERT INTO audit (time_ms, remote, operation, object, result) VALUES (?, ?, ?, ?, ?)",
                            (int(time.time() * 1000), "127.0.0.1:1", "PATCH /api/v1/trunks", "trunks", 200))
                con.execute("COMMIT")
                self.generation = g
            con.close()
        except Exception as e:  # noqa: BLE001 - reported by the case
            self.error = repr(e)


def backup(binary: Path, config: Path, file: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), "--backup", str(file), "--config", str(config)],
                          capture_output=True, text=True, timeout=30)


def check_copy(file: Path) -> int:
    """The copy is one whole, consistent file of the store; returns its trunks' generation."""
    check(file.exists() and not Path(f"{file}-wal").exists(), f"{file}: expected one file, no WAL beside it")
    con = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    try:
        check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"{file}: integrity_check failed")
        check(con.execute("PRAGMA journal_mode").fetchone()[0] == "delete", f"{file}: not a rollback-journal file")
        check(con.execute("SELECT version FROM schema_version").fetchall() == [(1,)], f"{file}: schema version")
        generations = {r[0] for r in con.execute(
            "SELECT json_extract(body, '$.generation') FROM documents WHERE kind = 'trunk'")}
        check(len(generations) == 1, f"{file}: trunks of several generations {generations} (not one snapshot)")
        g = generations.pop() or 0
        audits = con.execute("SELECT count(*) FROM audit").fetchone()[0]
        check(audits == 1 + g, f"{file}: {audits} audit rows for generation {g}: documents and audit disagree")
        check(con.execute("SELECT count(*) FROM cdrs").fetchone()[0] == 2, f"{file}: the fixture's CDRs are missing")
        check(con.execute("SELECT contact FROM bindings").fetchall() == [("sip:pbxuser@127.0.0.1:5060",)],
              f"{file}: the fixture's binding is missing")
        return g
    finally:
        con.close()


def case_store_backup(binary: Path):
    with Session(binary) as s:
        data = s.workdir / "data"
        data.mkdir()
        db = data / "b2bua.db"
        con = sqlite3.connect(db)
        con.executescript(V1_SQL.read_text())
        con.close()
        sip, http, trunk_port = free_port(), free_port(), free_port()
        config_text = config_yaml(sip, http, trunk_port) + f'data_dir: "{data}"\n'
        config = s.workdir / "b2bua.yaml"
        config.write_text(config_text)
        # The b2bua runs on the same data_dir meanwhile (once it opens the store, it is the writer
        # whose file is copied).
        s.start_b2bua(config_text, sip, http)

        writer = GenerationWriter(db)
        writer.start()
        harness.wait_until(lambda: writer.generation >= 3 or writer.error is not None, 10, "the writer to commit")
        seen = []
        try:
            for n in range(4):
                copy = s.workdir / f"backup{n}.db"
                out = backup(binary, config, copy)
                check(out.returncode == 0, f"--backup exited {out.returncode}: {out.stderr.strip()}")
                check(f"store {db} (schema version 1) copied to {copy} (" in out.stdout,
                      f"--backup did not say what it wrote: {out.stdout.strip()!r}")
                seen.append(check_copy(copy))
                harness.wait_until(lambda: writer.generation > seen[-1] or writer.error is not None, 10,
                                   "the writer to move on")
        finally:
            writer.stop.set()
            writer.join(10)
        check(writer.error is None, f"the writer failed while the copies were taken: {writer.error}")
        check(seen == sorted(seen) and len(set(seen)) == len(seen),
              f"each copy should be a later snapshot than the one before: generations {seen}")

        # A copy is a store: put in a data_dir of its own, --backup reads it and copies it again.
        restored = s.workdir / "restored"
        restored.mkdir()
        (restored / "b2bua.db").write_bytes((s.workdir / "backup3.db").read_bytes())
        restored_config = s.workdir / "restored.yaml"
        restored_config.write_text(config_yaml(sip, http, trunk_port) + f'data_dir: "{restored}"\n')
        out = backup(binary, restored_config, s.workdir / "again.db")
        check(out.returncode == 0, f"--backup of a restored copy exited {out.returncode}: {out.stderr.strip()}")
        check(check_copy(s.workdir / "again.db") == seen[-1], "the copy of the copy differs")

        # No store in data_dir: exit 1 with the path in the message, and nothing written.
        missing_config = s.workdir / "missing.yaml"
        missing_config.write_text(config_yaml(sip, http, trunk_port) + f'data_dir: "{s.workdir / "nothing"}"\n')
        out = backup(binary, missing_config, s.workdir / "none.db")
        check(out.returncode == 1, f"--backup without a store exited {out.returncode}")
        check(str(s.workdir / "nothing" / "b2bua.db") in out.stderr and out.stderr.startswith("error: backup: "),
              f"--backup without a store: {out.stderr.strip()!r}")
        check(not (s.workdir / "none.db").exists() and not (s.workdir / "nothing").exists(),
              "--backup without a store wrote a file or created the store")
    print(f"store_backup: 4 copies while a writer committed (generations {seen}), each one snapshot; "
          "a restored copy copies again; no store: exit 1")
