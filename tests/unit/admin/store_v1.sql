-- A store file as schema version 1 wrote it (admin/detail/schema.cpp, step 1), with a few rows.
-- store_migration_test.cpp loads it into a new file and opens it with store::open: each later
-- version must migrate it and keep these rows. Never edit the schema part of this file: it is
-- what b2bua files of version 1 hold. Times are milliseconds since the Unix epoch.
PRAGMA journal_mode=WAL;
BEGIN;
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
INSERT INTO schema_version (version) VALUES (1);

INSERT INTO meta (key, value) VALUES ('seeded_ms', '1796205600000');
INSERT INTO documents (kind, key, body, updated_ms) VALUES
  ('trunk', 'acme', '{"name":"acme","uri":"sip:127.0.0.2:5080","username":"acmeuser","password":"acmepass","max_calls":10}', 1796205600000),
  ('trunk', 'backup', '{"name":"backup","uri":"sip:127.0.0.3:5080"}', 1796205600000),
  ('user', 'pbxuser', '{"username":"pbxuser","password":"pbxpass"}', 1796205600000),
  ('routes', '', '[{"prefix":"","trunks":["acme","backup"]}]', 1796205600000),
  ('inbound_routes', '', '[{"prefix":"+4930","to":"sip:127.0.0.1:5060","strip":3,"prepend":"0"}]', 1796205600000);
INSERT INTO audit (time_ms, remote, operation, object, result) VALUES
  (1796205660123, '127.0.0.1:53122', 'POST /api/v1/trunks', 'trunk backup', 201);
INSERT INTO cdrs (id, direction, trunk, caller, dialled, start_ms, answer_ms, end_ms, duration_ms, result, status,
                  hangup_by, inbound_call_id, outbound_call_id) VALUES
  ('17', 'outbound', 'acme', '200', '+4930123', 1796205700000, 1796205702500, 1796205715000, 12500, 'answered', 200,
   'caller', 'a84b4c76e66710@pbx.local', 'b2b-5f3a1c@127.0.0.1'),
  ('18', 'inbound', 'acme', '+4940999', '+4930111', 1796205800000, NULL, 1796205805000, 0, 'cancelled', 487,
   'caller', 'c1d2e3@provider.example', NULL);
INSERT INTO bindings (aor, contact, body) VALUES
  ('sip:pbxuser@pbx.local', 'sip:pbxuser@127.0.0.1:5060', '{"expires":"2026-12-02T10:10:00.000Z","source":"127.0.0.1:5060","transport":"udp"}');
COMMIT;
