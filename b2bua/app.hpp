// The running B2BUA: the SIP event loop with the stack and the core, and the HTTP server on its own thread.
#pragma once

#include "b2bua/config.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace b2b::b2bua {

/// Creates the named spdlog loggers ("b2bua", "sip.txn", "sip.transport", "auth", "http") on
/// one stderr sink at `level`. Call once, before building an `application`.
void setup_logging(const std::string& level);

/// Everything the `b2bua` process runs: UDP/TCP transports, the transaction layer and the core
/// on one io_context (the SIP loop, on the thread that calls `run`), and the HTTP server for
/// /metrics on an io_context and thread of its own, so no HTTP client can delay SIP. Startup errors (a port
/// already in use, ...) throw; after that, `run` returns once SIGTERM (or SIGINT) has drained
/// the calls: new calls get 503 and /healthz says "draining" (503) at once; the calls in
/// progress may finish for up to calls.drain_s, then get BYE on both legs; a second signal
/// ends them at once, a third stops without waiting for their answers.
/// SIGHUP reloads like POST /api/v1/reload (the store's documents, the log level, the TLS
/// files): new connections use renewed certificates, connections up keep theirs; a reload that
/// fails leaves what was loaded in place, and never ends a call.
/// Under systemd (Type=notify) it says READY=1 once serving, RELOADING=1 then READY=1 around a
/// reload, STOPPING=1 when the drain starts, and feeds WatchdogSec= while both loops turn.
///
/// Construction logs `version` and a one-line summary of `cfg` on the "b2bua" logger, so
/// every log starts by saying which build runs with what; call `setup_logging` first.
class application {
public:
    /// `config_path`: where `cfg` came from; re-read on reload, and the base the store's
    /// trunks, users and routes are merged into (data_dir).
    application(config cfg, std::string config_path, std::string_view version);
    ~application();
    application(const application&) = delete;
    application& operator=(const application&) = delete;

    /// Runs the event loop until SIGTERM or SIGINT has drained the calls, then returns.
    void run();

private:
    class impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace b2b::b2bua
