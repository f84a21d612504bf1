// The trunk prober: OPTIONS pings on a timer, outcomes into the health machine.
#include "b2bua/trunk_prober.hpp"

#include "dialog/dialog.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace b2b::b2bua {

trunk_prober::trunk_prober(sip::timer_service& timers, sip::transport& transport, dialog::request_sender& sender,
                           const std::vector<std::shared_ptr<const routing::trunk>>& trunks,
                           std::string advertised_host, change_handler on_change, target_lookup locate)
    : timers_(timers),
      transport_(transport),
      sender_(sender),
      trunks_(trunks),
      advertised_host_(std::move(advertised_host)),
      on_change_(std::move(on_change)),
      locate_(std::move(locate)) {
    auto log = spdlog::get("b2bua");
    log_ = log ? log : spdlog::default_logger()->clone("b2bua");
    for (std::size_t i = 0; i < trunks_.size(); ++i) add_probe(i);
}

void trunk_prober::add_probe(std::size_t trunk) {
    const auto& t = *trunks_[trunk];
    if (t.removed || t.selection.options_interval.count() <= 0) return;
    probes_.push_back(std::make_unique<probe>(trunk, routing::trunk_health(t.selection.down_after, t.selection.up_after)));
    if (started_) tick(*probes_.back());
}

void trunk_prober::update(std::size_t trunk) {
    const auto it = std::find_if(probes_.begin(), probes_.end(), [trunk](const auto& p) { return p->trunk == trunk; });
    if (it != probes_.end()) {
        timers_.cancel((*it)->timer);
        dialog::request_sender::abandon((*it)->pending);
        const bool was_down = !(*it)->health.up();
        probes_.erase(it);
        // A new provider address or new thresholds: its health is learnt again, from up.
        if (was_down && on_change_) on_change_(trunk, true);
    }
    add_probe(trunk);
}

trunk_prober::~trunk_prober() {
    for (auto& p : probes_) {
        timers_.cancel(p->timer);
        dialog::request_sender::abandon(p->pending);
    }
}

bool trunk_prober::probes(std::size_t trunk) const noexcept {
    for (const auto& p : probes_) {
        if (p->trunk == trunk) return true;
    }
    return false;
}

void trunk_prober::start() {
    started_ = true;
    for (auto& p : probes_) tick(*p);
}

void trunk_prober::tick(probe& p) {
    p.timer = 0;
    if (p.pending) {
        // No final answer within a whole interval: this ping failed. Its transaction runs
        // on (Timer F) but its outcome no longer counts.
        dialog::request_sender::abandon(p.pending);
        p.pending.reset();
        on_outcome(p, false, "no answer within the interval");
    }
    send_ping(p);
    const auto interval = std::chrono::duration_cast<sip::timer_service::duration>(trunks_[p.trunk]->selection.options_interval);
    p.timer = timers_.schedule(interval, [this, &p] { tick(p); });
}

void trunk_prober::send_ping(probe& p) {
    const routing::trunk& t = *trunks_[p.trunk];
    std::optional<sip::resolver::target> where = sip::resolver::target{t.transport, t.address};
    if (locate_) where = locate_(p.trunk);
    if (!where) return on_outcome(p, false, "no target resolved yet");
    auto flow = transport_.flow_to_host(where->transport, where->address, t.host);
    if (!flow) return on_outcome(p, false, "no transport");
    // Each ping is a request of its own outside any dialog (§11): new Call-ID, From tag, branch.
    auto d = std::make_shared<dialog::dialog_state>();
    d->self = dialog::make_identity(*flow, advertised_host_, t.sips);
    d->flow = *flow;
    d->call_id = tokens_.hex(16);
    d->local = "<sip:b2bua@" + (t.from_domain.empty() ? d->self.host_port : t.from_domain) + ">;tag=" + tokens_.tag();
    d->remote_target = routing::request_uri_at(t);
    d->remote = "<sip:" + t.domain + ">";

    dialog::request_plan plan;
    plan.flow = *flow;
    plan.method = "OPTIONS";
    plan.request_uri = d->remote_target;
    plan.credentials = {t.username, t.password};
    plan.peer = static_cast<std::uint32_t>(p.trunk);
    plan.build = [d](std::string_view branch, std::string_view auth_name, std::string_view auth_value) {
        dialog::outgoing_request r;
        r.method = "OPTIONS";
        r.request_uri = d->remote_target;
        r.from = d->local;
        r.to = d->remote;
        r.call_id = d->call_id;
        r.cseq = ++d->local_cseq;  // a re-send with credentials takes the next CSeq (§22.2)
        r.branch = branch;
        r.extra_headers.emplace_back("Accept", "application/sdp");
        if (!auth_name.empty()) r.extra_headers.emplace_back(auth_name, auth_value);
        return dialog::make_request(r, d->self);
    };
    const std::uint64_t generation = ++p.generation;
    auto sent = sender_.send(std::move(plan), [this, &p, generation](dialog::request_event& ev) {
        if (generation != p.generation || !p.pending) return;
        if (ev.response != nullptr && ev.response->status() < 200) return;
        p.pending.reset();
        if (ev.failure) return on_outcome(p, false, sip::to_string(*ev.failure));
        const int status = ev.response->status();
        on_outcome(p, routing::ping_answered(status), std::to_string(status));
    });
    if (!sent) return on_outcome(p, false, "not sent");
    p.pending = std::move(*sent);
}

void trunk_prober::on_outcome(probe& p, bool answered, std::string_view what) {
    log_->debug("trunk {}: OPTIONS {} ({})", trunks_[p.trunk]->name, answered ? "answered" : "failed", what);
    if (!p.health.on_ping(answered)) return;
    log_->info("trunk {} is {}: {} OPTIONS ping(s) in a row {} (last: {})", trunks_[p.trunk]->name,
               routing::to_string(p.health.current()),
               p.health.up() ? trunks_[p.trunk]->selection.up_after : trunks_[p.trunk]->selection.down_after,
               answered ? "answered" : "failed", what);
    if (on_change_) on_change_(p.trunk, p.health.up());
}

}  // namespace b2b::b2bua
