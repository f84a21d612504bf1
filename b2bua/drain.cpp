// Graceful shutdown: refuse new calls, let the calls in progress finish for a while, then end them.
#include "b2bua/drain.hpp"

#include "b2bua/core.hpp"
#include "b2bua/detail/log_text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <vector>

namespace b2b::b2bua {

stage_result draining_stage::run(ingress_request& r, ingress_responder& responder) {
    const auto retry = retry_after_();
    if (!retry) return stage_result::proceed;
    // Before identification: who is calling is not known yet, so it counts without a trunk.
    metrics_.call_setup(r.direction, b2bua_metrics::no_trunk, call_result::draining);
    log_->info("call refused: shutting down (draining); 503 to {} with Retry-After {} s, call-id {}",
               r.source.to_string(), retry->count(), detail::clip(r.invite.call_id()));
    const std::string seconds = std::to_string(retry->count());
    responder.refuse(r, 503, "Service Unavailable", {{"Retry-After", seconds}});
    return stage_result::stop;
}

std::optional<std::chrono::seconds> core::drain_retry_after() const {
    switch (drain_.phase) {
        case drain_phase::running:
            return std::nullopt;
        case drain_phase::draining:
        case drain_phase::ending:
        case drain_phase::stopped: {
            // The process is gone by the deadline plus the linger bound at the latest; whatever
            // comes back then (a restart) is a new server. Never 0: "retry at once" would only
            // bring the same request back to a server that refuses it.
            const auto gone = drain_.deadline + drain_linger();
            const auto left = gone > timers_.now() ? gone - timers_.now() : sip::timer_service::duration::zero();
            const auto secs = std::chrono::ceil<std::chrono::seconds>(left);
            return std::max(secs, std::chrono::seconds(1));
        }
    }
    return std::nullopt;
}

void core::drain(std::chrono::seconds grace, std::function<void()> done) {
    switch (drain_.phase) {
        case drain_phase::running:
            drain_.phase = drain_phase::draining;
            drain_.done = std::move(done);
            drain_.deadline = timers_.now() + std::chrono::duration_cast<sip::timer_service::duration>(grace);
            log_->info("draining: new calls get 503; {} call(s) in progress may go on for up to {} s", calls_.size(),
                       grace.count());
            // The providers stop sending calls to us at once (their calls in progress go on: they
            // follow the dialogs' Contacts, not the registration).
            if (registrations_) {
                registrations_->stop([this] {
                    drain_.unregistered = true;
                    if (drain_.awaiting_unregister) finish_drain();
                });
            } else {
                drain_.unregistered = true;
            }
            if (calls_.empty()) return finish_drain();
            if (grace.count() <= 0) return end_all_calls("shutting down");
            drain_.timer = timers_.schedule(std::chrono::duration_cast<sip::timer_service::duration>(grace), [this] {
                drain_.timer = 0;
                if (drain_.phase == drain_phase::draining) end_all_calls("drain time over");
            });
            return;
        case drain_phase::draining:
            // A second signal: the operator will not wait for the calls to finish.
            timers_.cancel(drain_.timer);
            drain_.timer = 0;
            drain_.deadline = timers_.now();
            return end_all_calls("shutting down at once");
        case drain_phase::ending:
        case drain_phase::stopped:
            return;  // the calls are already being ended; `done` comes (or came) once
    }
}

void core::end_all_calls(std::string_view reason) {
    drain_.phase = drain_phase::ending;
    log_->info("draining: ending {} call(s) ({}); waiting at most {} ms for their answers", calls_.size(), reason,
               std::chrono::duration_cast<std::chrono::milliseconds>(drain_linger()).count());
    // Armed first: ending a call may end the last one and finish the drain from inside the loop.
    drain_.timer = timers_.schedule(drain_linger(), [this] {
        drain_.timer = 0;
        if (drain_.phase != drain_phase::ending) return;
        log_->warn("draining: {} call(s) still not ended after their BYE or CANCEL; stopping anyway", calls_.size());
        finish_drain();
    });
    // By handle: ending one call destroys it, and may destroy others' entries in the map.
    std::vector<call_handle> handles;
    handles.reserve(calls_.size());
    for (const auto& [id, c] : calls_) handles.push_back(c->id);
    for (const auto h : handles) {
        if (call* c = find(h)) end_call_for_drain(*c, reason);
    }
}

void core::end_call_for_drain(call& c, std::string_view reason) {
    log_->debug("call {}: ended by the drain in state {}", c.id.value, to_string(c.state));
    // Not answered yet: the caller gets 503, not 487: it did not cancel, and a 503 lets it try
    // the call again elsewhere (RFC 3263 §4.3), while the B2BUA it reached is going away.
    end_by_us(c, reason, 503, "Service Unavailable", call_result::draining);
}

void core::finish_drain() {
    if (drain_.phase == drain_phase::stopped) return;
    if (!drain_.unregistered && !drain_.awaiting_unregister) {
        // No call left, but the REGISTERs removing our bindings are still under way: their
        // answers are waited for as long as the last answers of the calls would be.
        drain_.awaiting_unregister = true;
        timers_.cancel(drain_.timer);
        drain_.timer = timers_.schedule(drain_linger(), [this] {
            drain_.timer = 0;
            log_->warn("draining: a registration removal got no answer in time; stopping anyway");
            drain_.unregistered = true;
            finish_drain();
        });
        return;
    }
    if (!drain_.unregistered) return;  // the removal's answer, or its time limit, finishes
    drain_.phase = drain_phase::stopped;
    timers_.cancel(drain_.timer);
    drain_.timer = 0;
    log_->info("drained: {} call(s) left", calls_.size());
    if (auto done = std::move(drain_.done)) done();
}

}  // namespace b2b::b2bua
