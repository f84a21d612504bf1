// sd_notify(3) over libsystemd: the protocol's framing and credentials are its job, not ours.
#include "b2bua/service_notifier.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>

namespace b2b::b2bua {

namespace {

// A status line is one line of the protocol's KEY=VALUE text: no newline may end it early.
std::string one_line(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return out;
}

}  // namespace

service_notifier::service_notifier() {
    std::uint64_t usec = 0;
    // 0: keep $WATCHDOG_USEC in the environment (a reload does not re-read it, and children
    // we never start would not need it anyway).
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_limit_ = std::chrono::microseconds(usec);
}

void service_notifier::ready(std::string_view status) const { send("READY=1\nSTATUS=" + one_line(status)); }

void service_notifier::reloading() const {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading the configuration");
}

void service_notifier::stopping(std::string_view status) const { send("STOPPING=1\nSTATUS=" + one_line(status)); }

void service_notifier::status(std::string_view status) const { send("STATUS=" + one_line(status)); }

void service_notifier::watchdog() const { send("WATCHDOG=1"); }

void service_notifier::send(std::string_view state) const {
    const std::string text(state);
    // < 0: the socket named is gone or refuses (systemd restarting?): nothing here can mend it,
    // and the watchdog, if any, will say so by ending us.
    if (const int r = sd_notify(0, text.c_str()); r < 0 && !warned_.exchange(true)) {
        if (auto log = spdlog::get("b2bua")) log->warn("sd_notify: {} (said once)", std::strerror(-r));
    }
}

}  // namespace b2b::b2bua
