// Fixed-size, set-associative count of unanswered challenges per source address.
#include "auth/unanswered_challenges.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "auth/detail/crypto.hpp"

namespace b2b::auth {

unanswered_challenges::unanswered_challenges(unanswered_options options)
    : threshold_(options.threshold), window_(options.window), answer_time_(options.answer_time) {
    if (options.capacity == 0) throw std::invalid_argument("capacity must be positive");
    if (threshold_ == 0) throw std::invalid_argument("threshold must be positive");
    if (window_.count() <= 0) throw std::invalid_argument("window must be positive");
    if (answer_time_.count() < 0) throw std::invalid_argument("answer_time must not be negative");
    entries_.resize((options.capacity + ways - 1) / ways * ways);
    // A secret seed, so that nobody can pick source addresses that all land in one set.
    std::array<std::uint8_t, 8> seed{};
    detail::random_bytes(seed);
    for (std::uint8_t b : seed) seed_ = (seed_ << 8) | b;
}

std::size_t unanswered_challenges::set_of(const detail::address_key& k) const noexcept {
    // FNV-1a over the key, started from the seed, then a 64-bit finaliser (splitmix64) so that
    // neighbouring addresses spread over the sets.
    std::uint64_t h = seed_ ^ 0xcbf29ce484222325ULL;
    for (std::uint8_t b : k.bytes) h = (h ^ b) * 0x100000001b3ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return static_cast<std::size_t>(h % (entries_.size() / ways));
}

unanswered_challenges::entry* unanswered_challenges::find(const detail::address_key& k) noexcept {
    const auto first = entries_.begin() + static_cast<std::ptrdiff_t>(set_of(k) * ways);
    const auto it = std::find_if(first, first + ways,
                                 [&](const entry& e) { return e.used && e.source == k; });
    return it == first + ways ? nullptr : &*it;
}

const unanswered_challenges::entry* unanswered_challenges::find(
    const detail::address_key& k) const noexcept {
    return const_cast<unanswered_challenges*>(this)->find(k);
}

bool unanswered_challenges::on_challenge(const boost::asio::ip::address& source,
                                         std::chrono::system_clock::time_point now) {
    const detail::address_key k = detail::key_of(source);
    entry* e = find(k);
    if (!e) {
        // A free entry of the set, else the one whose window started first.
        const auto first = entries_.begin() + static_cast<std::ptrdiff_t>(set_of(k) * ways);
        e = &*std::min_element(first, first + ways, [](const entry& a, const entry& b) {
            if (a.used != b.used) return !a.used;
            return a.window_start < b.window_start;
        });
        *e = entry{.source = k,
                   .window_start = now,
                   .last_counted = now,
                   .count = 0,
                   .used = true,
                   .reported = false};
    } else if (now - e->window_start >= window_ || now < e->window_start) {
        // The window ran out (or the clock stepped back): count afresh.
        e->window_start = now;
        e->count = 0;
        e->reported = false;
    } else if (e->count > 0 && now - e->last_counted < answer_time_) {
        // The last challenge counted may yet be answered: this one says nothing new.
        return false;
    }
    e->last_counted = now;
    if (e->count < threshold_) ++e->count;
    if (e->count < threshold_ || e->reported) return false;
    e->reported = true;
    return true;
}

void unanswered_challenges::on_answer(const boost::asio::ip::address& source) noexcept {
    if (entry* e = find(detail::key_of(source))) *e = entry{};
}

unsigned unanswered_challenges::count(const boost::asio::ip::address& source) const noexcept {
    const entry* e = find(detail::key_of(source));
    return e ? e->count : 0;
}

std::size_t unanswered_challenges::size() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(entries_.begin(), entries_.end(), [](const entry& e) { return e.used; }));
}

}  // namespace b2b::auth
