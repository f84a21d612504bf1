// HMAC-signed stateless nonces: time ‖ random ‖ HMAC-SHA256, base64url-encoded.
#include "auth/nonce.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <utility>

#include "auth/detail/crypto.hpp"

namespace b2b::auth {
namespace {

constexpr std::size_t time_size = 8;
constexpr std::size_t random_size = 8;
constexpr std::size_t signed_size = time_size + random_size;
constexpr std::size_t mac_size = 32;
constexpr std::size_t raw_size = signed_size + mac_size;

static_assert((raw_size * 4 + 2) / 3 == signed_nonce_service::encoded_length);

std::int64_t seconds_since_epoch(std::chrono::system_clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(nonce_status s) noexcept {
    switch (s) {
        case nonce_status::valid:
            return "valid";
        case nonce_status::stale:
            return "stale";
        case nonce_status::invalid:
            return "invalid";
    }
    return "unknown";
}

signed_nonce_service::signed_nonce_service(nonce_options options)
    : key_(std::move(options.secret)),
      ttl_(options.ttl),
      max_future_skew_(options.max_future_skew) {
    if (ttl_.count() <= 0) throw std::invalid_argument("nonce ttl must be positive");
    if (max_future_skew_.count() < 0)
        throw std::invalid_argument("nonce max_future_skew must not be negative");
    if (key_.empty()) {
        std::array<std::uint8_t, 32> key{};
        detail::random_bytes(key);
        key_.assign(key.begin(), key.end());
        OPENSSL_cleanse(key.data(), key.size());
    }
}

signed_nonce_service::~signed_nonce_service() {
    if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

std::string signed_nonce_service::issue(std::chrono::system_clock::time_point now) const {
    std::array<std::uint8_t, raw_size> raw{};
    const auto t = static_cast<std::uint64_t>(seconds_since_epoch(now));
    for (std::size_t i = 0; i < time_size; ++i)
        raw[i] = static_cast<std::uint8_t>(t >> (8 * (time_size - 1 - i)));
    detail::random_bytes(std::span(raw).subspan(time_size, random_size));
    const auto mac = detail::hmac_sha256(key_, std::span(raw).first(signed_size));
    std::copy(mac.begin(), mac.end(), raw.begin() + signed_size);
    return detail::base64url_encode(raw);
}

nonce_status signed_nonce_service::check(std::string_view nonce,
                                         std::chrono::system_clock::time_point now) const {
    // The length test first: a huge or empty value is rejected without decoding it.
    if (nonce.size() != encoded_length) return nonce_status::invalid;
    const auto raw = detail::base64url_decode(nonce);
    if (!raw || raw->size() != raw_size) return nonce_status::invalid;
    const std::span<const std::uint8_t> bytes(*raw);
    const auto mac = detail::hmac_sha256(key_, bytes.first(signed_size));
    if (!detail::equal_constant_time(mac, bytes.subspan(signed_size))) return nonce_status::invalid;

    std::uint64_t t = 0;
    for (std::size_t i = 0; i < time_size; ++i) t = (t << 8) | bytes[i];
    const auto issued = static_cast<std::int64_t>(t);
    const std::int64_t current = seconds_since_epoch(now);
    // Only our own (signed) times reach this point, so the subtraction cannot overflow for any
    // clock within a few hundred billion years of the epoch.
    const std::int64_t age = current - issued;
    if (age > ttl_.count()) return nonce_status::stale;
    if (-age > max_future_skew_.count()) return nonce_status::stale;
    return nonce_status::valid;
}

}  // namespace b2b::auth
