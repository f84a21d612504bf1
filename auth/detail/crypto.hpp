// Thin wrappers over OpenSSL libcrypto: randomness, HMAC-SHA256, constant-time compare, base64url.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace b2b::auth::detail {

/// Fills `out` from RAND_bytes. Throws std::runtime_error if the CSPRNG fails: that is a broken
/// host, not bad input, and continuing with predictable nonces would be worse.
void random_bytes(std::span<std::uint8_t> out);

/// `n` random bytes as lower-case hex (2n characters).
std::string random_hex(std::size_t n);

/// HMAC-SHA256(key, data), for a key used once (hmac_sha256_key below for one used per message).
std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::span<const std::uint8_t> data);

/// HMAC-SHA256 under one key, keyed once. OpenSSL 3's one-shot HMAC() looks the MAC and the
/// digest up by name and sets the key on every call (about 2 µs here); a copy of a context
/// keyed at construction takes a third of that. For a key used per message (the nonces').
///
/// Ownership: the keyed context, which OpenSSL wipes when freed. Movable, not copyable.
class hmac_sha256_key {
public:
    /// Throws std::runtime_error when OpenSSL cannot set it up (a broken library).
    explicit hmac_sha256_key(std::string_view key);
    ~hmac_sha256_key();
    hmac_sha256_key(hmac_sha256_key&& other) noexcept : keyed_(std::exchange(other.keyed_, nullptr)) {}
    hmac_sha256_key& operator=(hmac_sha256_key&&) = delete;
    hmac_sha256_key(const hmac_sha256_key&) = delete;
    hmac_sha256_key& operator=(const hmac_sha256_key&) = delete;

    /// HMAC-SHA256(key, data). Throws std::runtime_error when OpenSSL fails. Thread-safe: the
    /// keyed context is only read.
    std::array<std::uint8_t, 32> sign(std::span<const std::uint8_t> data) const;

private:
    evp_mac_ctx_st* keyed_ = nullptr;
};

/// Constant-time equality (CRYPTO_memcmp). Different lengths compare unequal at once: lengths
/// are public (digest sizes), only contents are secret.
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

/// The 6-bit value of a base64url character (RFC 4648 §5), or -1 for any other byte.
int base64url_digit(char c) noexcept;
/// RFC 4648 §5 base64url without padding.
std::string base64url_encode(std::span<const std::uint8_t> bytes);

/// Strict decoding: rejects padding, characters outside the alphabet, impossible lengths and
/// non-zero trailing bits (so each byte string has exactly one accepted encoding).
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

}  // namespace b2b::auth::detail
