// The owner of a message among the workers: tokens we made name theirs, the rest goes by Call-ID.
#include "b2bua/worker_dispatch.hpp"

#include "auth/digest_header.hpp"
#include "auth/nonce.hpp"
#include "sip/message/random.hpp"

#include <stdexcept>

namespace b2b::b2bua {

std::uint64_t call_id_hash(std::string_view call_id) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : call_id) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    // FNV-1a's low bits depend only on the bytes' low bits (its last bit is their parity), and
    // the worker is the hash modulo a small count: mix every bit into the low ones first.
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

worker_dispatch::worker_dispatch(std::size_t workers, std::chrono::milliseconds remember_for,
                                 std::size_t max_remembered)
    : workers_(workers), remember_for_(remember_for), max_remembered_(max_remembered) {
    if (workers_ == 0 || workers_ > 256) throw std::invalid_argument("workers must be 1 to 256");
}

std::size_t worker_dispatch::by_call_id(std::string_view call_id) const noexcept {
    return static_cast<std::size_t>(call_id_hash(call_id) % workers_);
}

std::optional<std::size_t> worker_dispatch::named(std::optional<std::uint8_t> worker) const noexcept {
    if (!worker || *worker >= workers_) return std::nullopt;
    return *worker;
}

std::optional<std::size_t> worker_dispatch::by_nonce(const sip::message& m) const {
    for (const auto id : {sip::header_id::proxy_authorization, sip::header_id::authorization}) {
        for (const auto value : m.values(id)) {
            auto credentials = auth::parse_credentials(value);
            if (!credentials) continue;
            if (auto w = named(auth::nonce_worker(credentials->nonce))) return w;
        }
    }
    return std::nullopt;
}

void worker_dispatch::forget_expired(time_point now) {
    while (!moved_order_.empty() && (moved_order_.front().first <= now || moved_order_.size() > max_remembered_)) {
        moved_.erase(moved_order_.front().second);
        moved_order_.pop_front();
    }
}

void worker_dispatch::remember(std::string_view call_id, std::size_t worker, time_point now) {
    auto [it, inserted] = moved_.try_emplace(std::string(call_id), worker);
    if (!inserted) {
        it->second = worker;  // a retransmission or a new challenge answer: keeps its first expiry
        return;
    }
    moved_order_.emplace_back(now + remember_for_, it->first);
    forget_expired(now);
}

std::size_t worker_dispatch::owner(const sip::message& m, time_point now) {
    if (workers_ == 1) return 0;
    if (m.is_response()) {
        if (!m.vias().empty()) {
            if (auto w = named(sip::token_worker(m.vias().front().branch))) return *w;
        }
        return by_call_id(m.call_id());
    }
    if (!m.to().tag.empty()) {
        if (auto w = named(sip::token_worker(m.to().tag))) return *w;
        return by_call_id(m.call_id());
    }
    if (m.method() == sip::method::register_) return 0;
    forget_expired(now);
    if (auto w = by_nonce(m)) {
        if (m.method() == sip::method::invite && *w != by_call_id(m.call_id())) remember(m.call_id(), *w, now);
        return *w;
    }
    if (m.method() == sip::method::cancel || m.method() == sip::method::ack) {
        if (auto it = moved_.find(std::string(m.call_id())); it != moved_.end()) return it->second;
    }
    return by_call_id(m.call_id());
}

}  // namespace b2b::b2bua
