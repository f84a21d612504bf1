// Graceful shutdown: the drain's phases, and the ingress stage that refuses new calls meanwhile.
#pragma once

#include "b2bua/b2bua_metrics.hpp"
#include "b2bua/ingress.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace spdlog {
class logger;
}

namespace b2b::b2bua {

/// Where the process is in its shutdown (SIGTERM), as the core runs it:
///   running -> (drain) draining -> (calls.drain_s over, or a second drain) ending -> stopped
///   draining, ending -> (no call left) stopped;  ending -> (the linger bound) stopped
enum class drain_phase : std::uint8_t {
    running,   ///< taking calls
    draining,  ///< new calls refused; calls in progress go on until the deadline
    ending,    ///< the calls left were ended (BYE, CANCEL); waiting a bounded time for their answers
    stopped,   ///< no call left, or the bound passed: the process may exit
};

constexpr std::string_view to_string(drain_phase p) noexcept {
    switch (p) {
        case drain_phase::running: return "running";
        case drain_phase::draining: return "draining";
        case drain_phase::ending: return "ending";
        case drain_phase::stopped: return "stopped";
    }
    return "?";
}

/// Refuses every new INVITE while the process drains: 503 with Retry-After (RFC 3261
/// §21.5.4), so the PBX tries another server (RFC 3263 §4.3) instead of waiting for an answer
/// that will not come. It runs first: a server on its way out does no digest work and issues
/// no challenge the PBX would answer only to be refused. Counted as result="draining" and
/// logged at info.
class draining_stage final : public ingress_stage {
public:
    /// `retry_after()`: empty while the process takes calls; while it drains, the seconds for
    /// the Retry-After header.
    draining_stage(std::function<std::optional<std::chrono::seconds>()> retry_after, b2bua_metrics& metrics,
                   std::shared_ptr<spdlog::logger> log)
        : retry_after_(std::move(retry_after)), metrics_(metrics), log_(std::move(log)) {}
    std::string_view name() const noexcept override { return "draining"; }
    stage_result run(ingress_request& r, ingress_responder& responder) override;

private:
    std::function<std::optional<std::chrono::seconds>()> retry_after_;
    b2bua_metrics& metrics_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace b2b::b2bua
