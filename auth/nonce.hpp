// Digest nonces bound to a source address, with bounded nonce-count tracking: the nonce_service
// interface and its HMAC implementation.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/detail/address_key.hpp"
#include "auth/detail/crypto.hpp"

namespace b2b::auth {

/// What a nonce check found.
enum class nonce_status {
    valid,         ///< issued by us to this address, within its lifetime, its nc still tracked
    stale,         ///< issued by us (signature good) but expired, or dated too far in the future
    invalid,       ///< not ours: bad encoding, wrong length or bad signature
    other_source,  ///< issued by us, but to another address than the one presenting it
    untracked,     ///< issued by us and fresh, but its nc slot went to newer nonces
};

std::string_view to_string(nonce_status s) noexcept;

/// The result of nonce_service::check: the status, and what nonce_service::use needs.
struct nonce_check {
    nonce_status status = nonce_status::invalid;
    /// The nonce's issue number; meaningful unless status is invalid.
    std::uint64_t sequence = 0;
    /// For other_source: the address the nonce was issued to.
    std::optional<boost::asio::ip::address> issued_to;
};

/// What nonce_service::use found.
enum class nonce_use {
    accepted,   ///< first use of this nc (or of the nonce, without qop): recorded
    replayed,   ///< nc not above the highest seen for the nonce, or a single-use nonce reused
    untracked,  ///< the nonce's slot went to newer nonces since check()
};

/// Issues and checks nonces for digest_server. Time is always passed in, never read, so tests
/// control it. Implementations must be safe to call with any byte string as `nonce`.
///
/// A nonce is issued to one source address (not port: NAT and TCP reconnects change ports), and
/// `use` records the nonce counts (RFC 7616 §3.4: nc) of requests that proved the password, so a
/// captured answer cannot be sent again. The transaction layer absorbs retransmissions, so each
/// request reaching `use` is a new transaction and must bring a higher nc.
///
/// @par Thread safety
/// None: `issue` and `use` change state. Call from the event loop's thread.
class nonce_service {
  public:
    virtual ~nonce_service() = default;

    /// A fresh nonce for a challenge sent to `source`, usable as a quoted-string value (no '"'
    /// or '\').
    virtual std::string issue(const boost::asio::ip::address& source,
                              std::chrono::system_clock::time_point now) = 0;

    /// Whether `nonce` is one of ours, issued to `source` and still fresh at `now`. Records
    /// nothing.
    virtual nonce_check check(std::string_view nonce, const boost::asio::ip::address& source,
                              std::chrono::system_clock::time_point now) const = 0;

    /// Records a use of a nonce that `check` found valid, once the request's digest proved the
    /// password. `nc` is the request's nonce count, or nullopt without qop (RFC 2069 form, no
    /// nc): such a nonce is single-use.
    virtual nonce_use use(const nonce_check& checked, std::optional<std::uint32_t> nc) = 0;

  protected:
    nonce_service() = default;
    nonce_service(const nonce_service&) = default;
    nonce_service& operator=(const nonce_service&) = default;
};

/// Settings of signed_nonce_service.
struct nonce_options {
    /// HMAC key (any bytes). Empty = 32 random bytes drawn at construction, so nonces die with
    /// the process; configure a fixed secret (16+ bytes recommended) to keep them across restarts
    /// or share them between instances.
    std::string secret;
    /// Lifetime of a nonce (RFC 7616 §5.4 leaves it to the server).
    std::chrono::seconds ttl{300};
    /// How far in the future an issue time may lie before the nonce counts as stale; covers a
    /// clock that stepped back between issue and check.
    std::chrono::seconds max_future_skew{5};
    /// How many of the most recently issued nonces have their nc tracked. An older nonce that
    /// is still within its lifetime is answered as stale, so the client retries silently; size
    /// it above the number of challenges sent in one `ttl`. 32 bytes each.
    std::size_t tracked_nonces = 65536;
    /// The worker (event loop) whose service this is: its nonces name it in their sequence's
    /// top byte, so a request that answers one reaches the only service that knows its nonce
    /// counts (`nonce_worker`).
    std::uint8_t worker = 0;
};

/// Nonces: base64url (no padding) of
///   issue time (8 bytes, big-endian seconds since the epoch) ‖ sequence (8 bytes) ‖
///   HMAC-SHA256(secret, time ‖ sequence ‖ source address)
/// i.e. 64 characters. The source address is signed but not sent: a nonce checks out only for
/// the address it was issued to. The sequence's top byte is the issuing worker
/// (nonce_options::worker), its other 56 bits count from a random start.
///
/// Nonce counts live in a ring of `tracked_nonces` slots indexed by sequence, so memory is fixed,
/// each operation is O(1) and nothing is allocated per request. The sequence starts at a random
/// 64-bit value, so nonces from an earlier process (same secret) find no slot and are stale.
///
/// Ownership: owns the secret as a keyed MAC (OpenSSL wipes it on destruction) and the ring.
/// Not copyable.
/// @par Thread safety
/// None (see nonce_service).
class signed_nonce_service final : public nonce_service {
  public:
    /// Throws std::invalid_argument if ttl is not positive, max_future_skew is negative or
    /// tracked_nonces is zero.
    explicit signed_nonce_service(nonce_options options = {});
    ~signed_nonce_service() override;

    signed_nonce_service(const signed_nonce_service&) = delete;
    signed_nonce_service& operator=(const signed_nonce_service&) = delete;

    // nonce_service
    std::string issue(const boost::asio::ip::address& source,
                      std::chrono::system_clock::time_point now) override;
    nonce_check check(std::string_view nonce, const boost::asio::ip::address& source,
                      std::chrono::system_clock::time_point now) const override;
    nonce_use use(const nonce_check& checked, std::optional<std::uint32_t> nc) override;

    /// Length of every nonce this service issues.
    static constexpr std::size_t encoded_length = 64;

  private:
    struct slot {
        std::uint64_t sequence = 0;
        std::uint32_t highest_nc = 0;  ///< 0 = unused; UINT32_MAX = used without qop
        bool issued = false;
        detail::address_key source;
    };

    slot& slot_for(std::uint64_t sequence) noexcept { return slots_[sequence % slots_.size()]; }
    const slot& slot_for(std::uint64_t sequence) const noexcept {
        return slots_[sequence % slots_.size()];
    }

    detail::hmac_sha256_key key_;  ///< the secret, keyed once
    std::chrono::seconds ttl_;
    std::chrono::seconds max_future_skew_;
    std::vector<slot> slots_;
    std::uint64_t next_sequence_ = 0;
    std::uint64_t worker_bits_ = 0;
};

/// The worker a nonce of signed_nonce_service's shape names, read without checking its
/// signature (the worker it names checks that), or nullopt when `nonce` has another shape.
std::optional<std::uint8_t> nonce_worker(std::string_view nonce) noexcept;

}  // namespace b2b::auth
