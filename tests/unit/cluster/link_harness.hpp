// What the link tests share: a handler loop run on the test's thread, and a recorder per link.
#pragma once

#include "cluster/link.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace b2b::cluster::test {

using namespace std::chrono_literals;

/// The owner's executor: an io_context the test runs on its own thread, so handlers run there
/// and the recorders need no lock.
class handler_loop {
public:
    boost::asio::any_io_executor executor() { return io_.get_executor(); }

    /// Runs handlers until `done()` or `limit` passes; whether `done()` held.
    template <class Done>
    bool run_until(Done done, std::chrono::milliseconds limit = 2s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            io_.run_one_for(10ms);
        }
        return true;
    }
    /// Runs handlers for `d` (to see that nothing more comes).
    void run_for(std::chrono::milliseconds d) { io_.run_for(d); }
    /// Runs the handlers already queued, without waiting.
    std::size_t poll() { return io_.poll(); }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        io_.get_executor()};
};

/// Everything one link reported.
struct recorder {
    std::vector<link_status> statuses;
    std::vector<event> events;
    std::vector<lease_change> leases;

    link_handlers handlers() {
        return {[this](const link_status& s) { statuses.push_back(s); },
                [this](const event& e) { events.push_back(e); },
                [this](const lease_change& c) { leases.push_back(c); }, {}, {}};
    }

    bool is_up() const { return !statuses.empty() && statuses.back().up; }
    bool is_down() const { return !statuses.empty() && !statuses.back().up; }
    /// Whether the last report about `name` says it is held.
    bool holds(const std::string& name) const {
        for (auto it = leases.rbegin(); it != leases.rend(); ++it) {
            if (std::ranges::find(it->gained, name) != it->gained.end()) return true;
            if (std::ranges::find(it->lost, name) != it->lost.end()) return false;
        }
        return false;
    }
};

/// Options for a link to `port`, paced for tests: rounds every 50 ms, short timeouts, a lease
/// ttl of 600 ms (the shortest these allow).
inline link_options test_options(std::string node, std::uint16_t port) {
    link_options o;
    o.node_id = std::move(node);
    o.port = port;
    o.key_prefix = "test";
    o.poll_interval = 50ms;
    o.connect_timeout = 100ms;
    o.command_timeout = 100ms;
    o.lease_ttl = 600ms;
    o.start_after = "0";
    return o;
}

}  // namespace b2b::cluster::test
