// How long a registration client waits before trying again after a failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace b2b::registration {

/// Why an attempt failed, as far as the wait before the next one is concerned.
enum class failure_kind : std::uint8_t {
    transient,    ///< no answer (Timer F), transport error, 408, 5xx, any other final response
    credentials,  ///< our credentials were refused (a second challenge without stale=true, 403)
};

/// The waits. Credential failures back off far more slowly: providers lock an account
/// (fail2ban) that keeps presenting a wrong password.
struct backoff_policy {
    std::chrono::seconds transient_first{5};
    std::chrono::seconds transient_max{300};
    std::chrono::seconds credential_first{600};
    std::chrono::seconds credential_max{3600};
};

/// Exponential back-off with jitter. The n-th failure in a row of one kind waits
/// min(first * 2^(n-1), max), multiplied by a jitter factor drawn uniformly from [0.9, 1.1)
/// (so a thousand trunks failing together do not retry together); the peer's Retry-After
/// (RFC 3261 §20.33), when given, is a floor. Each kind counts its own failures; a success
/// resets both. Pure: the caller draws the jitter (`unit` in [0, 1)).
class retry_backoff {
public:
    explicit retry_backoff(backoff_policy policy = {}) noexcept;

    /// The wait before the next attempt after a failure of `kind`.
    std::chrono::milliseconds next(failure_kind kind, std::optional<std::chrono::seconds> retry_after,
                                   double unit) noexcept;
    /// A success: the next failure waits the first interval again.
    void reset() noexcept;
    /// Failures in a row of `kind` since the last success.
    unsigned failures(failure_kind kind) const noexcept;

private:
    backoff_policy policy_;
    unsigned transient_ = 0;
    unsigned credentials_ = 0;
};

}  // namespace b2b::registration
