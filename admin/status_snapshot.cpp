// The status page's facts, read from the core on its event loop.
#include "admin/status_snapshot.hpp"

#include "b2bua/core.hpp"

#include <algorithm>
#include <iterator>

namespace b2b::admin {

status_snapshot take_status_snapshot(const b2bua::core& core, status_limits limits) {
    status_snapshot s;
    s.now = core.wall_now();
    const auto wall = [&](sip::timer_service::time_point t) -> std::optional<std::chrono::system_clock::time_point> {
        if (t == sip::timer_service::time_point{}) return std::nullopt;
        return core.wall_time(t);
    };
    for (const auto& t : core.trunks()) {
        status_snapshot::trunk_row row;
        row.name = t.trunk->name;
        row.options_interval = t.trunk->selection.options_interval;
        row.up = t.up;
        row.active_calls = t.active_calls;
        if (t.registration) {
            const auto& r = *t.registration;
            status_snapshot::registration_row reg;
            reg.state = r.state;
            reg.failure = r.failure;
            reg.last_status = r.last_status;
            reg.last_reason = r.last_reason;
            reg.last_warning = r.last_warning;
            // As GET /api/v1/registrations: an expiry only while the provider holds the binding.
            if (r.state == registration::registration_state::registered) reg.expires = wall(r.expires_at);
            reg.next_attempt = wall(r.next_attempt);
            reg.registered_by = t.registered_by;
            row.registration = std::move(reg);
        }
        s.trunks.push_back(std::move(row));
    }
    s.active_calls = core.active_calls();
    s.calls = core.list_calls(0, limits.calls);
    s.pbx_bindings = core.pbx_bindings().bindings();
    b2bua::auth_failure_filter newest;
    newest.limit = limits.failures;
    s.failures = core.auth_failures().query(newest);
    return s;
}

status_snapshot merge_status(std::vector<status_snapshot> by_worker, status_limits limits) {
    status_snapshot out = std::move(by_worker.front());
    std::vector<std::vector<b2bua::auth_failure_entry>> failures;
    failures.push_back(std::move(out.failures));
    for (std::size_t w = 1; w < by_worker.size(); ++w) {
        auto& s = by_worker[w];
        out.active_calls += s.active_calls;
        std::move(s.calls.begin(), s.calls.end(), std::back_inserter(out.calls));
        failures.push_back(std::move(s.failures));
    }
    std::sort(out.calls.begin(), out.calls.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    if (out.calls.size() > limits.calls) out.calls.resize(limits.calls);
    out.failures = b2bua::merge_failures(std::move(failures), limits.failures);
    return out;
}

}  // namespace b2b::admin
