// binding_maintenance: the registrar's expiry timer and the NAT keep-alives, on a timer_service.
#include "registration/registrar.hpp"

#include <chrono>
#include <vector>

namespace b2b::registration {

namespace {

/// RFC 5626 §3.5.1's CRLF keep-alive ("ping"): a double CRLF, which a SIP peer skips.
constexpr std::string_view keepalive_bytes = "\r\n\r\n";

}  // namespace

binding_maintenance::binding_maintenance(registrar& reg, sip::timer_service& timers, std::chrono::seconds keepalive,
                                         sender send, std::function<void()> on_change)
    : reg_(reg), timers_(timers), keepalive_(keepalive), send_(std::move(send)), on_change_(std::move(on_change)) {}

binding_maintenance::~binding_maintenance() {
    timers_.cancel(expiry_timer_);
    timers_.cancel(keepalive_timer_);
}

void binding_maintenance::start() {
    arm_expiry();
    arm_keepalive();
}

void binding_maintenance::bindings_changed() {
    arm_expiry();
    // A first binding behind NAT starts the keep-alives; one already ticking goes on as it is.
    if (keepalive_timer_ == 0) arm_keepalive();
}

bool binding_maintenance::any_behind_nat() const {
    bool any = false;
    reg_.for_each([&](const binding& b) { any = any || b.behind_nat; });
    return any;
}

void binding_maintenance::arm_expiry() {
    timers_.cancel(expiry_timer_);
    expiry_timer_ = 0;
    const std::uint64_t generation = ++expiry_generation_;
    const auto next = reg_.next_expiry();
    if (!next) return;
    // Rounded up: firing a little late removes the binding; firing early would find nothing
    // expired and re-arm at once.
    const auto after = std::chrono::ceil<sip::timer_service::duration>(*next - timers_.now());
    expiry_timer_ = timers_.schedule(after, [this, generation] { on_expiry_timer(generation); });
}

void binding_maintenance::on_expiry_timer(std::uint64_t generation) {
    if (generation != expiry_generation_) return;  // replaced by a later arm_expiry()
    expiry_timer_ = 0;
    const std::size_t removed = reg_.expire(timers_.now());
    arm_expiry();
    // Last: on_change may call bindings_changed() (and re-arm) itself.
    if (removed > 0 && on_change_) on_change_();
}

void binding_maintenance::arm_keepalive() {
    timers_.cancel(keepalive_timer_);
    keepalive_timer_ = 0;
    const std::uint64_t generation = ++keepalive_generation_;
    if (keepalive_ <= std::chrono::seconds::zero()) return;  // keepalive_s: 0 = none
    // Nothing to keep open: no timer ticks for nothing (bindings_changed starts it again).
    if (!any_behind_nat()) return;
    keepalive_timer_ = timers_.schedule(keepalive_, [this, generation] { on_keepalive_timer(generation); });
}

void binding_maintenance::on_keepalive_timer(std::uint64_t generation) {
    if (generation != keepalive_generation_) return;
    keepalive_timer_ = 0;
    const auto now = timers_.now();
    // Only bindings behind NAT: their NAT drops an idle mapping, and then our calls to them.
    // A binding expired at this very instant (its timer not yet run) gets none.
    // The flows are collected first: `send_` must not run while the registrar is being walked.
    std::vector<sip::flow> flows;
    reg_.for_each([&](const binding& b) {
        if (b.behind_nat && b.expires_at > now) flows.push_back(b.source);
    });
    arm_keepalive();
    if (send_) {
        for (const sip::flow& f : flows) send_(f, keepalive_bytes);
    }
}

}  // namespace b2b::registration
