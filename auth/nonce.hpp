// Stateless, tamper-proof Digest nonces: the nonce_service interface and its HMAC implementation.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace b2b::auth {

/// What a nonce check found.
enum class nonce_status {
    valid,    ///< issued by us and within its lifetime
    stale,    ///< issued by us (signature good) but expired, or dated too far in the future
    invalid,  ///< not ours: bad encoding, wrong length or bad signature
};

std::string_view to_string(nonce_status s) noexcept;

/// Issues and checks nonces for digest_server. Time is always passed in, never read, so tests
/// control it. Implementations must be safe to call with any byte string as `nonce`.
///
/// @par Thread safety
/// The production implementation (signed_nonce_service) is immutable after construction, so
/// its const members may be called from several threads; other implementations say otherwise.
class nonce_service {
  public:
    virtual ~nonce_service() = default;

    /// A fresh nonce, usable as a quoted-string value (no '"' or '\').
    virtual std::string issue(std::chrono::system_clock::time_point now) const = 0;

    /// Whether `nonce` is one of ours and still fresh at `now`.
    virtual nonce_status check(std::string_view nonce,
                               std::chrono::system_clock::time_point now) const = 0;

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
};

/// Stateless nonces: base64url (no padding) of
///   issue time (8 bytes, big-endian seconds since the epoch) ‖ 8 random bytes ‖
///   HMAC-SHA256(secret, the first 16 bytes)
/// i.e. 64 characters. Nothing is stored per nonce, so any number of challenges costs no memory;
/// the price is that a nonce can be replayed within its lifetime (nc is not tracked).
///
/// Ownership: owns a copy of the secret, wiped on destruction. Not copyable.
/// @par Thread safety
/// Immutable after construction; `issue` and `check` may run concurrently.
class signed_nonce_service final : public nonce_service {
  public:
    /// Throws std::invalid_argument if ttl is not positive or max_future_skew is negative.
    explicit signed_nonce_service(nonce_options options = {});
    ~signed_nonce_service() override;

    signed_nonce_service(const signed_nonce_service&) = delete;
    signed_nonce_service& operator=(const signed_nonce_service&) = delete;

    // nonce_service
    std::string issue(std::chrono::system_clock::time_point now) const override;
    nonce_status check(std::string_view nonce,
                       std::chrono::system_clock::time_point now) const override;

    /// Length of every nonce this service issues.
    static constexpr std::size_t encoded_length = 64;

  private:
    std::string key_;
    std::chrono::seconds ttl_;
    std::chrono::seconds max_future_skew_;
};

}  // namespace b2b::auth
