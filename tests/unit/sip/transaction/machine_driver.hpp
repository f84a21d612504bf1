// Test helper: runs one sans-I/O transaction machine against the manual clock and records
// what it asks for, the way transaction_manager would perform it.
#pragma once

#include "sip/transaction/detail/machine.hpp"

#include "tests/fakes/manual_timer_service.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace b2b::sip::test_support {

using namespace std::chrono_literals;

/// RFC 3261 defaults (T1 500 ms, T2 4 s, T4 5 s) over an unreliable and a reliable transport.
inline constexpr detail::timer_values udp{500ms, 4000ms, 5000ms, false};
inline constexpr detail::timer_values tcp{500ms, 4000ms, 5000ms, true};
using std::chrono::milliseconds;

struct recorded_send {
    milliseconds at;
    detail::action_kind what;
    bool retransmission;
};

template <class Machine>
class machine_driver {
public:
    explicit machine_driver(detail::timer_values tv) : machine(tv) {}
    machine_driver(const machine_driver&) = delete;
    machine_driver& operator=(const machine_driver&) = delete;
    ~machine_driver() { stop_all(); }

    /// Feeds `ev` and performs the actions; like the manager, a failed send becomes a
    /// transport_error event and a zero-duration timer fires right away.
    void post(detail::event ev) {
        for (;;) {
            const detail::action_list actions = machine.on_event(ev);
            bool send_failed = false;
            std::optional<detail::timer_name> due_now;
            for (const detail::action& a : actions) {
                switch (a.kind) {
                    case detail::action_kind::send_request:
                    case detail::action_kind::send_ack:
                    case detail::action_kind::send_response:
                        if (fail_sends > 0) {
                            --fail_sends;
                            send_failed = true;
                        } else {
                            sends.push_back({clock.elapsed(), a.kind, a.retransmission});
                        }
                        break;
                    case detail::action_kind::start_timer:
                        stop(a.timer);
                        if (a.after.count() == 0) {
                            due_now = a.timer;
                        } else {
                            slot(a.timer) = clock.schedule(a.after, [this, t = a.timer] {
                                slot(t) = 0;
                                post(detail::event::fired(t));
                            });
                        }
                        break;
                    case detail::action_kind::stop_timer: stop(a.timer); break;
                    case detail::action_kind::pass_to_tu: ++passed; break;
                    case detail::action_kind::absorb: ++absorbed; break;
                    case detail::action_kind::report_failure: failures.push_back(a.failure); break;
                    case detail::action_kind::terminate:
                        ++terminations;
                        stop_all();
                        break;
                }
            }
            if (terminations > 0) {
                return;
            }
            if (send_failed) {
                ev = detail::event::transport_failed();
            } else if (due_now) {
                ev = detail::event::fired(*due_now);
            } else {
                return;
            }
        }
    }

    /// Times (since the start) of every recorded send of kind `what`.
    std::vector<milliseconds> send_times(detail::action_kind what) const {
        std::vector<milliseconds> out;
        for (const auto& s : sends) {
            if (s.what == what) {
                out.push_back(s.at);
            }
        }
        return out;
    }

    test::manual_timer_service clock;
    Machine machine;
    std::vector<recorded_send> sends;
    std::vector<transaction_failure> failures;
    int passed = 0;
    int absorbed = 0;
    int terminations = 0;
    int fail_sends = 0;  ///< the next this-many sends fail

private:
    timer_service::timer_id& slot(detail::timer_name t) { return timers_[static_cast<std::size_t>(t)]; }
    void stop(detail::timer_name t) {
        if (slot(t) != 0) {
            clock.cancel(slot(t));
            slot(t) = 0;
        }
    }
    void stop_all() {
        for (auto& id : timers_) {
            if (id != 0) {
                clock.cancel(id);
                id = 0;
            }
        }
    }

    std::array<timer_service::timer_id, detail::timer_count> timers_{};
};

}  // namespace b2b::sip::test_support
