// What the status page shows, copied out of the core on its event loop.
#pragma once

#include "b2bua/auth_failure_log.hpp"
#include "b2bua/call_summary.hpp"
#include "registration/client.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace b2b::b2bua {
class core;
}

namespace b2b::admin {

/// The facts of the status page at one moment: plain values, safe to hand to another thread.
/// The same data the admin API serves (GET /api/v1/trunks, /calls, /registrations,
/// /auth/failures), taken from the same core functions.
struct status_snapshot {
    /// Our registration with a trunk's provider (GET /api/v1/registrations' `upstream`).
    struct registration_row {
        registration::registration_state state = registration::registration_state::unregistered;
        std::optional<registration::attempt_outcome> failure;
        int last_status = 0;
        std::string last_reason;   ///< the provider's reason phrase
        std::string last_warning;  ///< the provider's Warning header
        /// When the provider's binding ends (registered only).
        std::optional<std::chrono::system_clock::time_point> expires;
        std::optional<std::chrono::system_clock::time_point> next_attempt;
        /// Cluster: another node registers the trunk (its id; empty while not known), and the
        /// rest of this row says nothing.
        std::optional<std::string> registered_by;
    };
    struct trunk_row {
        std::string name;
        /// OPTIONS pings every this often; 0 = not pinged (then `up` only says no ping failed).
        std::chrono::seconds options_interval{0};
        bool up = true;
        std::size_t active_calls = 0;
        std::optional<registration_row> registration;  ///< when it registers
    };

    std::chrono::system_clock::time_point now{};  ///< the core's wall clock when taken
    std::vector<trunk_row> trunks;
    std::size_t active_calls = 0;
    std::vector<b2bua::call_summary> calls;  ///< the first few, in id order
    std::size_t pbx_bindings = 0;            ///< the PBXs' registrations with us
    std::vector<b2bua::auth_failure_entry> failures;  ///< newest first
    // Filled on the HTTP side: not the core's.
    std::string version;
    std::chrono::seconds uptime{0};
};

/// How many calls and failures a snapshot holds at most.
struct status_limits {
    std::size_t calls = 20;
    std::size_t failures = 20;
};

/// Copies what the page shows out of `core`. Call it on the core's event loop (the SIP thread),
/// the only place its state may be read.
status_snapshot take_status_snapshot(const b2bua::core& core, status_limits limits = {});

/// The snapshots of every worker (sip.workers; worker 0 first) as one: worker 0's trunks (their
/// counts are the process's), bindings (it is the registrar) and clock; the calls of all, the
/// first by id; every worker's failures, folded and newest first.
status_snapshot merge_status(std::vector<status_snapshot> by_worker, status_limits limits = {});

}  // namespace b2b::admin
