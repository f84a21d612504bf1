// Branch and tag generation: unique per manager and unpredictable to an outsider.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace b2b::sip::detail {

/// Makes Via branches (RFC 3261 §8.1.1.7) and tags (§19.3). Each token holds 64 bits that are
/// a keyed bijection of a counter, so tokens of one source never repeat, and 64 bits drawn
/// from OpenSSL's CSPRNG (fetched in blocks, so RAND_bytes is rarely called).
class token_source {
public:
    token_source();

    /// "z9hG4bK" followed by 32 hex digits (128 bits).
    std::string branch();
    /// 16 hex digits (64 random bits): a To tag for a stateless response.
    std::string tag();

private:
    std::uint64_t unique() noexcept;
    std::uint64_t random();
    void refill();

    std::array<std::uint64_t, 32> pool_{};
    std::size_t next_ = pool_.size();
    std::uint64_t key_ = 0;
    std::uint64_t counter_ = 0;
};

}  // namespace b2b::sip::detail
