// Branch and tag generation from OpenSSL's CSPRNG plus a per-source counter.
#include "sip/transaction/detail/tokens.hpp"

#include <openssl/rand.h>

#include <random>

namespace b2b::sip::detail {

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

token_source::token_source() {
    key_ = random();
}

void token_source::refill() {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(pool_.data()),
                   static_cast<int>(sizeof(pool_))) != 1) {
        // OpenSSL could not seed itself (no entropy source at all): fall back to the OS
        // generator rather than failing to make a branch.
        std::random_device rd;
        for (auto& v : pool_) {
            v = (std::uint64_t{rd()} << 32) ^ rd();
        }
    }
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
    append_hex(out, random());
    return out;
}

std::string token_source::tag() {
    std::string out;
    out.reserve(16);
    append_hex(out, random());
    return out;
}

}  // namespace b2b::sip::detail
