// Per-source request rate limit: token buckets in a bounded table.
#include "security/rate_limiter.hpp"

#include "security/source_address.hpp"

#include <algorithm>

namespace b2b::security {

rate_limiter::rate_limiter(std::uint32_t per_second, std::size_t max_sources)
    : per_second_(per_second), buckets_(per_second == 0 ? 1 : max_sources) {}

bool rate_limiter::allow(const boost::asio::ip::address& source, clock::time_point now) {
    if (per_second_ == 0) return true;
    auto& b = buckets_.insert(source_key(source));
    const double burst = per_second_;
    if (b.fresh) {
        b.fresh = false;
        b.tokens = burst;
    } else if (now > b.last) {
        const double elapsed = std::chrono::duration<double>(now - b.last).count();
        b.tokens = std::min(burst, b.tokens + elapsed * per_second_);
    }
    b.last = std::max(b.last, now);
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

}  // namespace b2b::security
