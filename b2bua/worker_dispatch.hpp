// Which worker (event loop) handles a SIP message: the rule every reading loop applies before it
// hands a checked message to its owner (sip.workers).
#pragma once

#include "sip/message/message.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace b2b::b2bua {

/// A stable hash of a Call-ID (FNV-1a, 64 bits, then a finalising mix): where a new dialog lands. Call-IDs compare
/// byte for byte (RFC 3261 §20.8), so does the hash.
std::uint64_t call_id_hash(std::string_view call_id) noexcept;

/// Decides the owner of each message so that every message of one dialog and of one
/// transaction reaches the same worker, in the order one reader received them:
///
///  1. A response: the worker named by its top Via branch, which only we put there (§17.1.3
///     matches a response to its client transaction by that branch).
///  2. A request in a dialog (a To tag): the worker named by that tag, ours in every request a
///     peer sends us in a dialog (leg A's To tag, leg B's From tag).
///  3. REGISTER: worker 0, where the registrar and its bindings live.
///  4. A request answering one of our challenges: the worker named by its nonce, the only one
///     that knows the nonce's counts (RFC 7616 §3.4: replay protection). An INVITE moved this way
///     away from its Call-ID's worker is remembered for 64*T1, so its CANCEL (which carries no
///     credentials, RFC 3261 §9.1) follows it.
///  5. Anything else (a new dialog, CANCEL, ACK of a 2xx-less INVITE, OPTIONS): the Call-ID's hash.
///
/// A token that names no worker we run (a peer's, or one of a restart with more workers) falls
/// through to the next rule. Sans-I/O: the caller passes the time.
///
/// @par Thread safety
/// None: one per reading loop, which keeps its own memory of moved INVITEs (a source's datagrams
/// always reach the same reading socket, so the CANCEL meets the same memory).
class worker_dispatch {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// `workers` >= 1; `remember_for` is 64*T1 (how long an INVITE's CANCEL may come).
    explicit worker_dispatch(std::size_t workers, std::chrono::milliseconds remember_for = std::chrono::seconds{32},
                             std::size_t max_remembered = 65536);

    std::size_t owner(const sip::message& m, time_point now);
    std::size_t workers() const noexcept { return workers_; }
    /// INVITEs moved by their nonce and still remembered.
    std::size_t remembered() const noexcept { return moved_.size(); }

private:
    std::size_t by_call_id(std::string_view call_id) const noexcept;
    std::optional<std::size_t> named(std::optional<std::uint8_t> worker) const noexcept;
    std::optional<std::size_t> by_nonce(const sip::message& m) const;
    void remember(std::string_view call_id, std::size_t worker, time_point now);
    void forget_expired(time_point now);

    std::size_t workers_;
    std::chrono::milliseconds remember_for_;
    std::size_t max_remembered_;
    std::unordered_map<std::string, std::size_t> moved_;  ///< Call-ID -> worker
    std::deque<std::pair<time_point, std::string>> moved_order_;  ///< oldest first
};

}  // namespace b2b::b2bua
