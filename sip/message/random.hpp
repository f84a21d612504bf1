// Randomness for the stack: the one wrapper of OpenSSL's CSPRNG, and branches, tags and Call-IDs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace b2b::sip {

/// Fills `out` from OpenSSL's CSPRNG (RAND_bytes): the only place the process draws random
/// bytes (nonce keys, tags, branches, Call-IDs). Throws std::runtime_error if the CSPRNG fails:
/// a process that cannot make unpredictable tags and nonces must not carry on with guessable
/// ones.
void random_bytes(std::span<std::uint8_t> out);

/// Makes Via branches (RFC 3261 §8.1.1.7), tags (§19.3) and Call-IDs. Each branch holds 64 bits
/// that are a keyed bijection of a counter, so branches of one source never repeat, and 64
/// random bits; random bits are fetched in blocks, so the CSPRNG is rarely called.
///
/// A branch and a tag end with the number of the worker (event loop) that made them, as two hex
/// digits in place of 8 of the random bits (56 stay; §19.3 asks for 32): whatever comes back
/// carrying one of ours (a response's top Via, an in-dialog request's To tag) can be handed to
/// that worker before it is looked up (`token_worker`).
///
/// @par Thread safety
/// None: one per owner (the transaction manager, the dialog manager, the core).
class token_source {
public:
    /// `worker`: the event loop this source serves (0 with one loop).
    explicit token_source(std::uint8_t worker = 0);

    /// "z9hG4bK" followed by 32 hex digits (128 bits).
    std::string branch();
    /// 16 hex digits (64 random bits): a tag (§19.3 wants at least 32).
    std::string tag();
    /// 2 * `bytes` hex digits of random bits (a Call-ID: 16 bytes).
    std::string hex(std::size_t bytes);

private:
    std::uint64_t unique() noexcept;
    std::uint64_t random();
    void refill();

    std::array<std::uint64_t, 32> pool_{};
    std::size_t next_ = pool_.size();
    std::uint64_t key_ = 0;
    std::uint64_t counter_ = 0;
    std::uint8_t worker_ = 0;
};

/// The worker a branch or tag of ours names (its last two hex digits), or nullopt when `token`
/// does not have the shape token_source gives them ("z9hG4bK" and 32 lowercase hex digits, or 16
/// lowercase hex digits). A peer's token of the same shape yields a number too: the caller only
/// asks about tokens that are ours when the message is genuine.
std::optional<std::uint8_t> token_worker(std::string_view token) noexcept;

}  // namespace b2b::sip
