// The wait before a registration is tried again: exponential, capped, jittered, floored.
#include "registration/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace b2b::registration {

namespace {

// first * 2^(failures-1), capped at `max`; doubling stops at the cap so it cannot overflow.
std::chrono::seconds capped_double(std::chrono::seconds first, std::chrono::seconds max, unsigned failures) noexcept {
    std::chrono::seconds wait = std::min(first, max);
    for (unsigned i = 1; i < failures && wait < max; ++i) wait = std::min(wait * 2, max);
    return wait;
}

}  // namespace

retry_backoff::retry_backoff(backoff_policy policy) noexcept : policy_(policy) {}

std::chrono::milliseconds retry_backoff::next(failure_kind kind, std::optional<std::chrono::seconds> retry_after,
                                              double unit) noexcept {
    const bool credentials = kind == failure_kind::credentials;
    unsigned& count = credentials ? credentials_ : transient_;
    if (count < std::numeric_limits<unsigned>::max()) ++count;
    const std::chrono::seconds base =
        credentials ? capped_double(policy_.credential_first, policy_.credential_max, count)
                    : capped_double(policy_.transient_first, policy_.transient_max, count);
    // A factor in [0.9, 1.1): trunks that failed together (the provider restarted) spread out.
    const double factor = 0.9 + 0.2 * std::clamp(unit, 0.0, 1.0);
    const double ms = std::floor(static_cast<double>(base.count()) * 1000.0 * factor);
    auto wait = std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(ms)};
    // RFC 3261 §20.33: the peer says when it is worth asking again; never sooner.
    if (retry_after) wait = std::max<std::chrono::milliseconds>(wait, *retry_after);
    return wait;
}

void retry_backoff::reset() noexcept {
    transient_ = 0;
    credentials_ = 0;
}

unsigned retry_backoff::failures(failure_kind kind) const noexcept {
    return kind == failure_kind::credentials ? credentials_ : transient_;
}

}  // namespace b2b::registration
