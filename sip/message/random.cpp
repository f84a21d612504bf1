// OpenSSL's CSPRNG, and branch, tag and Call-ID generation from it plus a per-source counter.
#include "sip/message/random.hpp"

#include <openssl/rand.h>

#include <limits>
#include <stdexcept>

namespace b2b::sip {

namespace {

// The splitmix64 finaliser: a bijection on 64-bit values, so distinct counters give
// distinct outputs, and successive outputs look unrelated.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

void append_hex(std::string& out, std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    for (int shift = 60; shift >= 0; shift -= 4) {
        out += digits[(v >> shift) & 0xF];
    }
}

}  // namespace

token_source::token_source(std::uint8_t worker) : worker_(worker) {
    key_ = random();
}

void random_bytes(std::span<std::uint8_t> out) {
    if (out.empty()) return;
    if (out.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
}

void token_source::refill() {
    random_bytes(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(pool_.data()), sizeof(pool_)));
    next_ = 0;
}

std::uint64_t token_source::random() {
    if (next_ == pool_.size()) {
        refill();
    }
    return pool_[next_++];
}

std::uint64_t token_source::unique() noexcept {
    // Adding the key before mixing keeps the bijection (unique) while hiding the counter.
    return mix(++counter_ + key_);
}

std::string token_source::branch() {
    std::string out;
    out.reserve(7 + 32);
    out += "z9hG4bK";
    append_hex(out, unique());
    append_hex(out, (random() & ~std::uint64_t{0xFF}) | worker_);
    return out;
}

std::string token_source::tag() {
    std::string out;
    out.reserve(16);
    append_hex(out, (random() & ~std::uint64_t{0xFF}) | worker_);
    return out;
}

std::string token_source::hex(std::size_t bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes * 2);
    while (bytes > 0) {
        std::uint64_t v = random();
        for (int i = 0; i < 8 && bytes > 0; ++i, --bytes, v >>= 8) {
            out += digits[(v >> 4) & 0xF];
            out += digits[v & 0xF];
        }
    }
    return out;
}

std::optional<std::uint8_t> token_worker(std::string_view token) noexcept {
    constexpr std::string_view cookie = "z9hG4bK";
    std::string_view digits = token;
    if (token.size() == cookie.size() + 32 && token.starts_with(cookie)) {
        digits.remove_prefix(cookie.size());
    } else if (token.size() != 16) {
        return std::nullopt;
    }
    std::uint8_t value = 0;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        const char c = digits[i];
        std::uint8_t nibble = 0;
        if (c >= '0' && c <= '9') {
            nibble = static_cast<std::uint8_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            nibble = static_cast<std::uint8_t>(c - 'a' + 10);
        } else {
            return std::nullopt;
        }
        value = static_cast<std::uint8_t>((value << 4) | nibble);  // ends holding the last two
    }
    return value;
}

}  // namespace b2b::sip
