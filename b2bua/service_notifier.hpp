// The process's side of systemd's notify protocol (sd_notify(3)): readiness, reloads, the drain,
// a status line and the watchdog, for a unit with Type=notify and WatchdogSec=.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string_view>

namespace b2b::b2bua {

/// Sends state changes to the service manager over $NOTIFY_SOCKET (libsystemd's sd_notify).
/// Started any other way (a terminal, a container, a test) $NOTIFY_SOCKET is unset and every
/// call does nothing, so the process runs the same everywhere.
///
/// @par Thread safety
/// Each call is one datagram: any thread.
class service_notifier {
public:
    /// Reads the watchdog's limit from $WATCHDOG_USEC (and $WATCHDOG_PID, when systemd names
    /// another process, the watchdog is not ours).
    service_notifier();

    /// Ports bound, store open, loops running: `systemctl start` returns and units ordered
    /// After= this one start. `status` is the line `systemctl status` shows.
    void ready(std::string_view status) const;
    /// A reload began (SIGHUP); `ready` ends it. Carries MONOTONIC_USEC, which systemd 253's
    /// Type=notify-reload needs to match the reload to its signal (older systemd ignores it).
    void reloading() const;
    /// The drain began: systemd shows "deactivating" and waits up to TimeoutStopSec.
    void stopping(std::string_view status) const;
    /// A new status line only.
    void status(std::string_view status) const;
    /// One watchdog keep-alive.
    void watchdog() const;

    /// How long systemd waits between keep-alives before it kills the process (WatchdogSec=);
    /// empty without a watchdog.
    std::optional<std::chrono::microseconds> watchdog_limit() const noexcept { return watchdog_limit_; }

private:
    void send(std::string_view state) const;

    std::optional<std::chrono::microseconds> watchdog_limit_;
    mutable std::atomic<bool> warned_{false};
};

}  // namespace b2b::b2bua
