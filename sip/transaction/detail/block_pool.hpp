// Fixed-size blocks for objects that live for a transaction's span, kept apart from the heap.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace b2b::sip::detail {

/// Blocks of one size, carved from slabs mapped from the kernel on their own (mmap), and each
/// slab given back (munmap) as soon as its last block is free.
///
/// Why not the heap: a transaction outlives its call's setup by 64*T1 (Timers D, L, M: 32 s),
/// so at 500 calls per second some 16,000 calls' transactions are alive at once. On the heap
/// their blocks sit between the blocks of the calls that stay up; once they end, the space is
/// free but cut up below page size between the held calls' blocks, and the process keeps it
/// (`malloc_trim` frees whole pages only). Here they share slabs only with each other: with the
/// last transaction of a slab gone, the whole slab goes back to the system.
///
/// One empty slab is kept, so that a single transaction coming and going does not map and
/// unmap a slab each time.
///
/// @par Thread safety
/// None: one pool per event loop.
class block_pool {
public:
    /// Blocks of `block_size` bytes (rounded up to the alignment of any scalar type), from
    /// slabs of `slab_bytes` (a power of two, at least a page; rounded up).
    explicit block_pool(std::size_t block_size, std::size_t slab_bytes = 256 * 1024);
    ~block_pool();
    block_pool(const block_pool&) = delete;
    block_pool& operator=(const block_pool&) = delete;

    /// A block; throws std::bad_alloc when the system has no memory to map.
    void* allocate();
    /// Gives back a block `allocate` returned.
    void deallocate(void* block) noexcept;

    std::size_t block_size() const noexcept { return block_size_; }
    /// Blocks handed out and not given back.
    std::size_t in_use() const noexcept { return in_use_; }
    /// Slabs mapped now (those in use and the one spare).
    std::size_t slabs() const noexcept { return slabs_; }
    std::size_t blocks_per_slab() const noexcept { return per_slab_; }

private:
    struct slab;  ///< the header at the start of each slab

    slab* map_slab();
    void unmap_slab(slab* s) noexcept;
    slab* slab_of(void* block) const noexcept;
    void link(slab* s) noexcept;
    void unlink(slab* s) noexcept;

    std::size_t block_size_;
    std::size_t slab_bytes_;
    std::size_t first_offset_;  ///< where a slab's first block starts, past its header
    std::size_t per_slab_;
    slab* open_ = nullptr;      ///< slabs with a free block, the last one to gain one first
    slab* all_ = nullptr;       ///< every slab mapped
    slab* spare_ = nullptr;     ///< an empty slab kept mapped
    std::size_t in_use_ = 0;
    std::size_t slabs_ = 0;
};

/// Objects of type T in a block_pool: `create` constructs one in a block, `destroy` destroys it
/// and gives the block back. Addresses never move.
template <class T>
class object_pool {
public:
    explicit object_pool(std::size_t slab_bytes = 256 * 1024) : blocks_(sizeof(T), slab_bytes) {}

    template <class... Args>
    T* create(Args&&... args) {
        void* block = blocks_.allocate();
        try {
            return ::new (block) T(std::forward<Args>(args)...);
        } catch (...) {
            blocks_.deallocate(block);
            throw;
        }
    }

    void destroy(T* object) noexcept {
        object->~T();
        blocks_.deallocate(object);
    }

    const block_pool& blocks() const noexcept { return blocks_; }

private:
    static_assert(alignof(T) <= alignof(std::max_align_t), "block_pool aligns blocks for scalar types only");
    block_pool blocks_;
};

}  // namespace b2b::sip::detail
