// When a failed INVITE may be tried on the next trunk of its route (pure decisions).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace b2b::routing {

/// Whether a final response from a trunk lets the call go on to the next trunk: 408 and 5xx
/// say that this trunk (or what is behind it) could not serve the request, which another
/// trunk may (RFC 3261 §21.4.9, §21.5). Other 4xx and 6xx describe the call itself (404 no
/// such number, 486 busy, 603 declined): another trunk would reach the same callee and get
/// the same answer, so they never fail over. 2xx and 3xx are not failures.
constexpr bool fails_over(int status) noexcept { return status == 408 || (status >= 500 && status < 600); }

/// The delta-seconds of a Retry-After value (RFC 3261 §20.33: `120 (in a meeting);duration=60`),
/// or nothing when it does not start with one. Capped at one day: a typo at the provider
/// must not take a trunk away for weeks.
std::optional<std::chrono::seconds> retry_after_seconds(std::string_view value) noexcept;

}  // namespace b2b::routing
