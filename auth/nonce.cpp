// Source-bound signed nonces (time ‖ sequence ‖ HMAC) and the ring tracking their nonce counts.
#include "auth/nonce.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <utility>

#include "auth/detail/crypto.hpp"

namespace b2b::auth {
namespace {

constexpr std::size_t time_size = 8;
constexpr std::size_t sequence_size = 8;
constexpr std::size_t sent_size = time_size + sequence_size;
constexpr std::size_t mac_size = 32;
constexpr std::size_t raw_size = sent_size + mac_size;
constexpr std::size_t address_size = std::tuple_size_v<decltype(detail::address_key::bytes)>;

static_assert((raw_size * 4 + 2) / 3 == signed_nonce_service::encoded_length);

// The sequence's bits below the worker's byte.
constexpr std::uint64_t sequence_count_mask = (std::uint64_t{1} << 56) - 1;

// nc of a nonce used without qop: no later request can bring a higher one.
constexpr std::uint32_t single_use_spent = std::numeric_limits<std::uint32_t>::max();

std::int64_t seconds_since_epoch(std::chrono::system_clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void put_be64(std::span<std::uint8_t> out, std::uint64_t v) noexcept {
    for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * (7 - i)));
}

std::uint64_t get_be64(std::span<const std::uint8_t> in) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | in[i];
    return v;
}

// The MAC covers the address the nonce is issued to, which is not sent: a nonce captured from
// one PBX is worthless from any other address.
std::array<std::uint8_t, mac_size> sign(const detail::hmac_sha256_key& key, std::span<const std::uint8_t> sent,
                                        const detail::address_key& source) {
    std::array<std::uint8_t, sent_size + address_size> input{};
    std::copy(sent.begin(), sent.end(), input.begin());
    std::copy(source.bytes.begin(), source.bytes.end(), input.begin() + sent_size);
    return key.sign(input);
}

// The configured secret, or 32 random bytes when there is none (nonces then die with the
// process). The caller wipes it once keyed.
std::string secret_or_random(std::string secret) {
    if (!secret.empty()) return secret;
    std::array<std::uint8_t, 32> key{};
    detail::random_bytes(key);
    secret.assign(key.begin(), key.end());
    OPENSSL_cleanse(key.data(), key.size());
    return secret;
}

// Keys the MAC with `secret` and wipes the copy.
detail::hmac_sha256_key keyed(std::string secret) {
    detail::hmac_sha256_key key(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    return key;
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
        case nonce_status::other_source:
            return "other_source";
        case nonce_status::untracked:
            return "untracked";
    }
    return "unknown";
}

signed_nonce_service::signed_nonce_service(nonce_options options)
    : key_(keyed(secret_or_random(std::move(options.secret)))),
      ttl_(options.ttl),
      max_future_skew_(options.max_future_skew),
      worker_bits_(std::uint64_t{options.worker} << 56) {
    if (ttl_.count() <= 0) throw std::invalid_argument("nonce ttl must be positive");
    if (max_future_skew_.count() < 0)
        throw std::invalid_argument("nonce max_future_skew must not be negative");
    if (options.tracked_nonces == 0)
        throw std::invalid_argument("nonce tracked_nonces must be positive");
    slots_.resize(options.tracked_nonces);
    // A random start, so that a nonce signed with the same secret by an earlier process names a
    // sequence that no slot holds (2^-64 odds of a collision per nonce).
    std::array<std::uint8_t, 8> start{};
    detail::random_bytes(start);
    next_sequence_ = get_be64(start);
}

signed_nonce_service::~signed_nonce_service() = default;

std::string signed_nonce_service::issue(const boost::asio::ip::address& source,
                                        std::chrono::system_clock::time_point now) {
    const std::uint64_t sequence = worker_bits_ | (next_sequence_++ & sequence_count_mask);
    const detail::address_key who = detail::key_of(source);
    std::array<std::uint8_t, raw_size> raw{};
    put_be64(std::span(raw).first(time_size), static_cast<std::uint64_t>(seconds_since_epoch(now)));
    put_be64(std::span(raw).subspan(time_size, sequence_size), sequence);
    const auto mac = sign(key_, std::span(raw).first(sent_size), who);
    std::copy(mac.begin(), mac.end(), raw.begin() + sent_size);
    // Overwrites the oldest nonce's slot: from now on that nonce is untracked (hence stale).
    slot_for(sequence) = slot{.sequence = sequence, .highest_nc = 0, .issued = true, .source = who};
    return detail::base64url_encode(raw);
}

std::optional<std::uint8_t> nonce_worker(std::string_view nonce) noexcept {
    if (nonce.size() != signed_nonce_service::encoded_length) return std::nullopt;
    // base64url: raw bytes 6, 7, 8 are characters 8-11; byte 8 (the sequence's top byte) is
    // the low 2 bits of character 10 and all 6 of character 11.
    const int high = detail::base64url_digit(nonce[10]);
    const int low = detail::base64url_digit(nonce[11]);
    if (high < 0 || low < 0) return std::nullopt;
    return static_cast<std::uint8_t>(((high & 0x3) << 6) | low);
}

nonce_check signed_nonce_service::check(std::string_view nonce,
                                        const boost::asio::ip::address& source,
                                        std::chrono::system_clock::time_point now) const {
    nonce_check out;
    // The length test first: a huge or empty value is rejected without decoding it.
    if (nonce.size() != encoded_length) return out;
    const auto raw = detail::base64url_decode(nonce);
    if (!raw || raw->size() != raw_size) return out;
    const std::span<const std::uint8_t> bytes(*raw);
    const auto sent = bytes.first(sent_size);
    const auto given_mac = bytes.subspan(sent_size);
    const std::uint64_t sequence = get_be64(bytes.subspan(time_size, sequence_size));
    const slot& s = slot_for(sequence);
    const bool tracked = s.issued && s.sequence == sequence;

    if (!detail::equal_constant_time(sign(key_, sent, detail::key_of(source)), given_mac)) {
        // Not signed for this address. If its slot remembers another address and the MAC holds
        // for that one, it is our nonce presented elsewhere: a replay, worth naming as such.
        // Once the slot is gone the two cases look alike and both are invalid.
        if (tracked && s.source != detail::key_of(source) &&
            detail::equal_constant_time(sign(key_, sent, s.source), given_mac)) {
            out.status = nonce_status::other_source;
            out.sequence = sequence;
            out.issued_to = detail::address_of(s.source);
        }
        return out;
    }
    out.sequence = sequence;

    const auto issued = static_cast<std::int64_t>(get_be64(bytes.first(time_size)));
    // Only our own (signed) times reach this point, so the subtraction cannot overflow for any
    // clock within a few hundred billion years of the epoch.
    const std::int64_t age = seconds_since_epoch(now) - issued;
    if (age > ttl_.count() || -age > max_future_skew_.count()) {
        out.status = nonce_status::stale;
        return out;
    }
    out.status = tracked ? nonce_status::valid : nonce_status::untracked;
    return out;
}

nonce_use signed_nonce_service::use(const nonce_check& checked, std::optional<std::uint32_t> nc) {
    slot& s = slot_for(checked.sequence);
    if (checked.status != nonce_status::valid || !s.issued || s.sequence != checked.sequence)
        return nonce_use::untracked;
    if (!nc) {
        // RFC 2069 form: without nc a second use cannot be told from a replay, so one use only.
        if (s.highest_nc != 0) return nonce_use::replayed;
        s.highest_nc = single_use_spent;
        return nonce_use::accepted;
    }
    // RFC 7616 §3.4: the client increments nc for each request with the same nonce; a value
    // that is not higher was seen before (retransmissions never get here).
    if (*nc <= s.highest_nc) return nonce_use::replayed;
    s.highest_nc = *nc;
    return nonce_use::accepted;
}

}  // namespace b2b::auth
