// The running B2BUA: one event loop with the SIP stack, the core and the HTTP endpoint.
#pragma once

#include "b2bua/config.hpp"

#include <memory>
#include <string>

namespace b2b::b2bua {

/// Creates the named spdlog loggers ("b2bua", "sip.txn", "sip.transport", "auth", "http") on
/// one stderr sink at `level`. Call once, before building an `application`.
void setup_logging(const std::string& level);

/// Everything the `b2bua` process runs, wired together on one io_context: UDP/TCP transports,
/// the transaction layer, the core, and the HTTP server for /metrics. Startup errors (a port
/// already in use, ...) throw; after that, `run` returns when SIGINT or SIGTERM arrives.
class application {
public:
    explicit application(config cfg);
    ~application();
    application(const application&) = delete;
    application& operator=(const application&) = delete;

    /// Runs the event loop until a signal, then shuts down cleanly.
    void run();

private:
    class impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace b2b::b2bua
