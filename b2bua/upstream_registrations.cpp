// Our registrations with the trunks: one client each, their metrics and their log lines.
#include "b2bua/upstream_registrations.hpp"

#include "registration/contact_token.hpp"

#include <spdlog/spdlog.h>

#include <random>

namespace b2b::b2bua {

upstream_registrations::upstream_registrations(sip::timer_service& timers, sip::transport& transport,
                                               dialog::request_sender& sender,
                                               const std::vector<std::shared_ptr<const routing::trunk>>& trunks,
                                               std::string advertised_host, std::string contact_host_port,
                                               registration_metrics& metrics,
                                               std::function<std::optional<sip::resolver::target>(std::size_t)> locate)
    : timers_(timers),
      transport_(transport),
      sender_(sender),
      trunks_(trunks),
      advertised_host_(std::move(advertised_host)),
      contact_host_port_(std::move(contact_host_port)),
      locate_(std::move(locate)),
      metrics_(metrics) {
    auto log = spdlog::get("b2bua");
    log_ = log ? log : spdlog::default_logger()->clone("b2bua");
    // The refresh points and back-off jitter of the trunks must not line up: one generator,
    // seeded once per process.
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
    for (std::size_t i = 0; i < trunks_.size(); ++i) {
        if (trunks_[i]->registers && !trunks_[i]->removed) entries_.push_back(make_entry(i));
    }
}

upstream_registrations::entry upstream_registrations::make_entry(std::size_t i) {
    const routing::trunk& t = *trunks_[i];
    registration::registration_target target;
    target.name = t.name;
    target.peer = static_cast<std::uint32_t>(i);
    target.transport = t.transport;
    target.address = t.address;
    if (locate_ && !t.dns_host.empty()) {
        // RFC 3263: the registrar is where the trunk's name resolves now.
        target.locate = [locate = locate_, i]() -> std::optional<std::pair<sip::transport_kind, sip::endpoint>> {
            const auto where = locate(i);
            if (!where) return std::nullopt;
            return std::make_pair(where->transport, where->address);
        };
    }
    target.domain = t.domain;
    target.host = t.host;
    target.aor_user = t.username;
    target.contact_user = registration::contact_user(t.name, t.username, t.password);
    target.advertised_host = advertised_host_;
    target.contact_host_port = contact_host_port_;
    target.credentials = {t.username, t.password};
    target.expires = t.register_expires;
    target.reuse_nonce = t.reuse_nonce;
    entry e;
    e.trunk = i;
    if (auto it = slots_.find(t.name); it != slots_.end()) {
        e.slot = it->second;
    } else {
        e.slot = metrics_.add_trunk(t.name);
        slots_.emplace(t.name, e.slot);
    }
    e.contact_user = target.contact_user;
    registration::registration_observer* observer = this;
    e.client = std::make_unique<registration::registration_client>(timers_, transport_, sender_, std::move(target),
                                                                   observer, random_);
    if (started_ && owns(t.name)) e.client->start();
    return e;
}

void upstream_registrations::set_owned(const std::string& name, bool owned) {
    if (!shared_ || owned == owned_.contains(name)) return;
    if (owned) {
        owned_.insert(name);
    } else {
        owned_.erase(name);
    }
    for (std::size_t i = 0; i < trunks_.size(); ++i) {
        const routing::trunk& t = *trunks_[i];
        if (t.name != name || t.removed || !t.registers) continue;
        auto it = std::find_if(entries_.begin(), entries_.end(), [i](const entry& e) { return e.trunk == i; });
        if (it == entries_.end()) continue;
        // Gained: register at once (the binding may have lapsed with its last owner). Lost: let
        // the client go silently; a fresh one waits, so the status reads "not registered here".
        log_->info("registration trunk={}: {} (cluster lease)", name,
                   owned ? "this node registers it now" : "another node registers it now");
        it->client.reset();
        *it = make_entry(i);
        if (owned) ensure_tick();
    }
}

std::vector<std::string> upstream_registrations::registering() const {
    std::vector<std::string> names;
    names.reserve(entries_.size());
    for (const auto& e : entries_) names.push_back(trunks_[e.trunk]->name);
    return names;
}

bool upstream_registrations::runs(std::size_t trunk) const { return owns(trunks_[trunk]->name); }

upstream_registrations::~upstream_registrations() { timers_.cancel(tick_); }

void upstream_registrations::start() {
    started_ = true;
    for (auto& e : entries_) {
        if (owns(trunks_[e.trunk]->name)) e.client->start();
    }
    if (!entries_.empty()) ensure_tick();
}

void upstream_registrations::update(std::size_t trunk) {
    const routing::trunk& t = *trunks_[trunk];
    const bool wanted = t.registers && !t.removed;
    auto it = std::find_if(entries_.begin(), entries_.end(), [trunk](const entry& e) { return e.trunk == trunk; });
    if (it != entries_.end()) {
        const bool same_contact = wanted && it->contact_user == registration::contact_user(t.name, t.username, t.password);
        auto old = std::move(it->client);
        const auto expires = old->status().expires_at;
        if (!same_contact && expires > timers_.now()) {
            // Calls the provider still sends to the old binding are the trunk's until it lapses.
            old_contacts_.push_back({it->contact_user, trunk, expires});
        }
        entries_.erase(it);
        if (same_contact || !owns(t.name)) {
            // The new REGISTER (a new Call-ID, the same Contact) replaces the binding (§10.3
            // step 7); removing it first could reach the provider after the new one. A node
            // that does not register the trunk has no binding to remove.
            old.reset();
        } else {
            retire(std::move(old));
        }
    }
    if (wanted) {
        entries_.push_back(make_entry(trunk));
        log_->info("registration trunk={}: registering again at once", t.name);
        ensure_tick();
    }
}

bool upstream_registrations::register_now(std::size_t trunk) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [trunk](const entry& e) { return e.trunk == trunk; });
    if (it == entries_.end()) return false;
    update(trunk);
    return true;
}

void upstream_registrations::retire(std::unique_ptr<registration::registration_client> client) {
    std::erase_if(retiring_, [](const retiring_client& r) { return *r.done; });
    auto& r = retiring_.emplace_back();
    r.client = std::move(client);
    r.client->stop([done = r.done] { *done = true; });
}

void upstream_registrations::ensure_tick() {
    if (started_ && tick_ == 0) tick_ = timers_.schedule(std::chrono::seconds(1), [this] { tick(); });
}

void upstream_registrations::tick() {
    const auto now = timers_.now();
    for (const auto& e : entries_) metrics_.status(e.slot, e.client->status(), now);
    std::erase_if(old_contacts_, [now](const old_contact& o) { return o.until <= now; });
    std::erase_if(retiring_, [](const retiring_client& r) { return *r.done; });
    tick_ = timers_.schedule(std::chrono::seconds(1), [this] { tick(); });
}

void upstream_registrations::stop(std::function<void()> done) {
    timers_.cancel(tick_);
    tick_ = 0;
    if (shared_) {
        // The bindings are the cluster's: another node takes the leases over and refreshes them.
        for (auto& e : entries_) e.client.reset();
        entries_.clear();
    }
    if (entries_.empty()) {
        if (done) done();
        return;
    }
    // Each client calls back once; the last one done calls `done`.
    auto left = std::make_shared<std::size_t>(entries_.size());
    auto finish = std::make_shared<std::function<void()>>(std::move(done));
    for (auto& e : entries_) {
        e.client->stop([left, finish] {
            if (--*left == 0 && *finish) (*finish)();
        });
    }
}

std::optional<std::size_t> upstream_registrations::trunk_of_contact(std::string_view user) const {
    for (const auto& e : entries_) {
        if (e.contact_user == user) return e.trunk;
    }
    const auto now = timers_.now();
    for (const auto& o : old_contacts_) {
        if (o.user == user && now < o.until && !trunks_[o.trunk]->removed) return o.trunk;
    }
    return std::nullopt;
}

void upstream_registrations::for_each(
    const std::function<void(std::size_t, const registration::registration_status&)>& fn) const {
    for (const auto& e : entries_) fn(e.trunk, e.client->status());
}

const upstream_registrations::entry* upstream_registrations::by_target(const registration::registration_target& t) const {
    for (const auto& e : entries_) {
        if (e.trunk == t.peer) return &e;
    }
    return nullptr;
}

upstream_registrations::entry* upstream_registrations::by_target(const registration::registration_target& t) {
    for (auto& e : entries_) {
        if (e.trunk == t.peer) return &e;
    }
    return nullptr;
}

unsigned upstream_registrations::refusals_in_a_row(std::size_t trunk) const {
    for (const auto& e : entries_) {
        if (e.trunk == trunk) return e.refusals_in_a_row;
    }
    return 0;
}

void upstream_registrations::on_attempt(const registration::registration_target& t,
                                        registration::attempt_outcome outcome) {
    entry* e = by_target(t);
    if (e == nullptr) return;
    metrics_.attempt(e->slot, outcome);
    switch (outcome) {
        case registration::attempt_outcome::auth_failed:
        case registration::attempt_outcome::forbidden:
            ++e->refusals_in_a_row;
            break;
        case registration::attempt_outcome::registered:
            e->refusals_in_a_row = 0;
            break;
        default:
            break;  // unanswered or another error: says nothing of our credentials
    }
}

void upstream_registrations::on_status(const registration::registration_target& t,
                                       const registration::registration_status& s, bool state_changed) {
    const entry* e = by_target(t);
    if (e == nullptr) return;
    const auto now = timers_.now();
    metrics_.status(e->slot, s, now);
    if (!state_changed) return;
    const auto seconds_until = [&](sip::timer_service::time_point at) -> long long {
        if (at == sip::timer_service::time_point{}) return -1;
        return std::chrono::duration_cast<std::chrono::seconds>(at - now).count();
    };
    // One line says everything an operator needs about the change: what the provider said
    // (status, reason, Warning), why it failed, and when we try again.
    log_->info("registration trunk={} state={} status={} reason={:?} warning={:?} failure={} asked_s={} granted_s={} "
               "expires_in_s={} next_attempt_in_s={}",
               t.name, registration::to_string(s.state), s.last_status, s.last_reason, s.last_warning,
               s.failure ? registration::to_string(*s.failure) : std::string_view("-"), s.asked.count(),
               s.granted.count(), s.state == registration::registration_state::registered ? seconds_until(s.expires_at) : -1,
               seconds_until(s.next_attempt));
}

}  // namespace b2b::b2bua
