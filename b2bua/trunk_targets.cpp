// Trunk targets: located at start, again when their TTL runs out, and after failures.
#include "b2bua/trunk_targets.hpp"

#include <spdlog/spdlog.h>

namespace b2b::b2bua {

trunk_targets::trunk_targets(sip::timer_service& timers, const std::vector<std::shared_ptr<const routing::trunk>>& trunks,
                             change_handler on_change)
    : timers_(timers), trunks_(trunks), on_change_(std::move(on_change)) {
    auto log = spdlog::get("b2bua");
    log_ = log ? log : spdlog::default_logger()->clone("b2bua");
    auto engine = std::make_shared<std::mt19937>(std::random_device{}());
    random_ = [engine](std::uint32_t bound) { return std::uniform_int_distribution<std::uint32_t>(0, bound)(*engine); };
    entries_.reserve(trunks_.size());
    for (std::size_t i = 0; i < trunks_.size(); ++i) entries_.push_back(initial_entry(i));
}

trunk_targets::entry trunk_targets::initial_entry(std::size_t trunk) const {
    const auto& t = *trunks_[trunk];
    entry e;
    if (t.dns_host.empty()) e.set = sip::resolver::target_set::fixed({{t.transport, t.address}});
    return e;
}

void trunk_targets::update(std::size_t trunk) {
    if (trunk >= entries_.size()) entries_.resize(trunk + 1);
    entry& e = entries_[trunk];
    timers_.cancel(e.timer);
    e.timer = 0;
    if (trunks_[trunk]->removed) {
        ++e.generation;
        return;
    }
    const std::uint64_t generation = e.generation + 1;
    e = initial_entry(trunk);
    e.generation = generation;
    if (by_dns(trunk)) {
        resolve(trunk);
    } else if (on_change_) {
        on_change_(trunk);
    }
}

trunk_targets::~trunk_targets() {
    *alive_ = false;
    for (auto& e : entries_) timers_.cancel(e.timer);
}

void trunk_targets::start(sip::resolver::dns_lookup* dns) {
    dns_ = dns;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (by_dns(i)) resolve(i);
    }
}

std::vector<sip::resolver::target> trunk_targets::ordered(std::size_t trunk) const {
    return entries_[trunk].set.ordered(timers_.now());
}

std::optional<sip::resolver::target> trunk_targets::preferred(std::size_t trunk) const {
    auto all = ordered(trunk);
    if (all.empty()) return std::nullopt;
    return all.front();
}

void trunk_targets::mark_failed(std::size_t trunk, const sip::resolver::target& t) {
    entries_[trunk].set.mark_failed(t, timers_.now());
}

void trunk_targets::resolve(std::size_t trunk) {
    entries_[trunk].timer = 0;
    if (dns_ == nullptr) return;
    const routing::trunk& t = *trunks_[trunk];
    sip::resolver::peer_name peer{t.dns_host, t.uri_port, std::nullopt};
    if (t.uri_transport) peer.transport = t.transport;
    log_->debug("trunk {}: locating {} by DNS", t.name, t.dns_host);
    sip::resolver::locate(*dns_, peer, random_,
                          [this, trunk, generation = entries_[trunk].generation,
                           alive = std::weak_ptr<bool>(alive_)](sip::resolver::location l) {
                              const auto live = alive.lock();
                              if (!live || !*live || entries_[trunk].generation != generation) return;
                              on_location(trunk, std::move(l));
                          });
}

void trunk_targets::on_location(std::size_t trunk, sip::resolver::location l) {
    entry& e = entries_[trunk];
    const routing::trunk& t = *trunks_[trunk];
    const auto now = timers_.now();
    if (!l.found || l.found->targets.empty()) {
        e.set.on_failure(now);
        log_->warn("trunk {}: DNS for {} failed: {}; trying again in {} s, {} target(s) kept", t.name, t.dns_host,
                   l.problem, std::chrono::duration_cast<std::chrono::seconds>(e.set.refresh_at() - now).count(),
                   e.set.targets().size());
        return schedule(trunk);
    }
    if (e.set.update(*l.found, now)) {
        std::string list;
        for (const auto& target : e.set.targets()) list += (list.empty() ? "" : ", ") + target.to_string();
        log_->info("trunk {}: {} resolves to {} (ttl {} s)", t.name, t.dns_host, list, l.found->ttl.count());
        if (on_change_) on_change_(trunk);
    }
    schedule(trunk);
}

void trunk_targets::schedule(std::size_t trunk) {
    entry& e = entries_[trunk];
    timers_.cancel(e.timer);
    const auto wait = std::chrono::duration_cast<sip::timer_service::duration>(e.set.refresh_at() - timers_.now());
    e.timer = timers_.schedule(std::max(wait, sip::timer_service::duration::zero()), [this, trunk] { resolve(trunk); });
}

}  // namespace b2b::b2bua
