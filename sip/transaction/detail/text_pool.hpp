// Text a transaction keeps for its whole span (its key, its ACK), in pooled blocks.
#pragma once

#include "sip/transaction/detail/block_pool.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace b2b::sip::detail {

/// Copies of short texts in blocks of a few sizes (64 to 1024 bytes), each size a block_pool of
/// its own; anything longer goes to the heap. For what a transaction holds until it ends (its
/// key for 32 s past the final response, the ACK it repeats over Timer D): off the heap, such
/// text leaves no holes between the blocks of the calls that outlive it (see block_pool).
///
/// @par Thread safety
/// None: one pool per event loop, outliving every text it made.
class text_pool {
public:
    /// A text made by a pool; move-only, gives its block back when destroyed or replaced.
    class text {
    public:
        text() noexcept = default;
        text(text&& other) noexcept { take(other); }
        text& operator=(text&& other) noexcept {
            if (this != &other) {
                release();
                take(other);
            }
            return *this;
        }
        text(const text&) = delete;
        text& operator=(const text&) = delete;
        ~text() { release(); }

        std::string_view view() const noexcept { return {data_, size_}; }
        bool empty() const noexcept { return size_ == 0; }

    private:
        friend class text_pool;
        void take(text& other) noexcept;
        void release() noexcept;

        text_pool* pool_ = nullptr;
        char* data_ = nullptr;
        std::uint32_t size_ = 0;
        std::uint8_t size_class_ = 0;  ///< index into classes_, or heap_class
    };

    text_pool();
    text_pool(const text_pool&) = delete;
    text_pool& operator=(const text_pool&) = delete;

    /// A copy of `s` (empty: a text holding no block).
    text make(std::string_view s);

    /// Blocks handed out by all sizes together, for tests.
    std::size_t in_use() const noexcept;

private:
    static constexpr std::array<std::size_t, 5> sizes{64, 128, 256, 512, 1024};
    static constexpr std::uint8_t heap_class = sizes.size();

    void give_back(char* data, std::uint8_t size_class) noexcept;

    std::array<block_pool, sizes.size()> classes_;
};

}  // namespace b2b::sip::detail
