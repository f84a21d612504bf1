#include "sip/transaction/detail/block_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cstdint>

// Under AddressSanitizer a free block is poisoned, so that a use after `deallocate` is caught
// as it would be for memory from the heap.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define B2B_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define B2B_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define B2B_POISON(p, n) ((void)(p), (void)(n))
#define B2B_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace b2b::sip::detail {

// At the start of each slab. Free blocks form a list through their first word; blocks past
// `carved` were never handed out, so a new slab's pages are touched only as it fills.
struct block_pool::slab {
    slab* prev = nullptr;  // in open_
    slab* next = nullptr;
    slab* all_prev = nullptr;  // every slab mapped, for the destructor
    slab* all_next = nullptr;
    void* free = nullptr;
    std::size_t used = 0;
    std::size_t carved = 0;
    bool open = false;
};

namespace {

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

}  // namespace

block_pool::block_pool(std::size_t block_size, std::size_t slab_bytes)
    : block_size_(round_up(block_size == 0 ? 1 : block_size, alignof(std::max_align_t))) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    slab_bytes_ = std::bit_ceil(slab_bytes < page ? page : slab_bytes);
    first_offset_ = round_up(sizeof(slab), alignof(std::max_align_t));
    while (slab_bytes_ - first_offset_ < block_size_) slab_bytes_ *= 2;
    per_slab_ = (slab_bytes_ - first_offset_) / block_size_;
}

block_pool::~block_pool() {
    while (all_ != nullptr) unmap_slab(all_);
}

void* block_pool::allocate() {
    if (open_ == nullptr) {
        slab* s = spare_;
        spare_ = nullptr;
        if (s == nullptr) s = map_slab();
        link(s);
    }
    slab* s = open_;
    void* block = s->free;
    if (block != nullptr) {
        B2B_UNPOISON(block, block_size_);
        s->free = *static_cast<void**>(block);
    } else {
        block = reinterpret_cast<char*>(s) + first_offset_ + s->carved * block_size_;
        ++s->carved;
        B2B_UNPOISON(block, block_size_);
    }
    ++s->used;
    ++in_use_;
    if (s->used == per_slab_) unlink(s);
    return block;
}

void block_pool::deallocate(void* block) noexcept {
    slab* s = slab_of(block);
    *static_cast<void**>(block) = s->free;
    s->free = block;
    B2B_POISON(block, block_size_);
    --in_use_;
    if (s->used-- == per_slab_) link(s);
    if (s->used != 0) return;
    unlink(s);
    if (spare_ == nullptr) {
        // Kept mapped, but as new: its free list and carved blocks start over.
        s->free = nullptr;
        s->carved = 0;
        B2B_POISON(reinterpret_cast<char*>(s) + first_offset_, slab_bytes_ - first_offset_);
        spare_ = s;
        return;
    }
    unmap_slab(s);
}

block_pool::slab* block_pool::map_slab() {
    // Twice the size, then the unaligned ends unmapped: a block finds its slab by masking
    // its address.
    const std::size_t span = slab_bytes_ * 2;
    void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t aligned = round_up(start, slab_bytes_);
    if (aligned > start) ::munmap(p, aligned - start);
    if (const std::uintptr_t end = aligned + slab_bytes_; end < start + span) {
        ::munmap(reinterpret_cast<void*>(end), start + span - end);
    }
    auto* s = ::new (reinterpret_cast<void*>(aligned)) slab{};
    B2B_POISON(reinterpret_cast<char*>(s) + first_offset_, slab_bytes_ - first_offset_);
    s->all_next = all_;
    if (all_ != nullptr) all_->all_prev = s;
    all_ = s;
    ++slabs_;
    return s;
}

void block_pool::unmap_slab(slab* s) noexcept {
    if (s == spare_) spare_ = nullptr;
    if (s->open) unlink(s);
    if (s->all_prev != nullptr) s->all_prev->all_next = s->all_next;
    else all_ = s->all_next;
    if (s->all_next != nullptr) s->all_next->all_prev = s->all_prev;
    --slabs_;
    s->~slab();
    B2B_UNPOISON(s, slab_bytes_);  // the shadow of unmapped memory must not stay poisoned
    ::munmap(s, slab_bytes_);
}

block_pool::slab* block_pool::slab_of(void* block) const noexcept {
    return reinterpret_cast<slab*>(reinterpret_cast<std::uintptr_t>(block) & ~(slab_bytes_ - 1));
}

// Any slab with a free block serves, the last one to gain a free block first (its memory was
// touched last). Whatever the mix, every block in the pool is a transaction's: once those end,
// their slabs are empty and go back.
void block_pool::link(slab* s) noexcept {
    s->prev = nullptr;
    s->next = open_;
    if (open_ != nullptr) open_->prev = s;
    open_ = s;
    s->open = true;
}

void block_pool::unlink(slab* s) noexcept {
    if (!s->open) return;
    if (s->prev != nullptr) s->prev->next = s->next;
    else open_ = s->next;
    if (s->next != nullptr) s->next->prev = s->prev;
    s->prev = s->next = nullptr;
    s->open = false;
}

}  // namespace b2b::sip::detail
