#include "sip/transaction/detail/text_pool.hpp"

#include <cstring>
#include <new>

namespace b2b::sip::detail {

void text_pool::text::take(text& other) noexcept {
    pool_ = other.pool_;
    data_ = other.data_;
    size_ = other.size_;
    size_class_ = other.size_class_;
    other.pool_ = nullptr;
    other.data_ = nullptr;
    other.size_ = 0;
}

void text_pool::text::release() noexcept {
    if (data_ != nullptr) pool_->give_back(data_, size_class_);
    pool_ = nullptr;
    data_ = nullptr;
    size_ = 0;
}

// Slabs of 64 KiB: the larger sizes hold few texts at a time, and a slab is only given back
// once all of its blocks are free.
text_pool::text_pool()
    : classes_{block_pool(sizes[0], 64 * 1024), block_pool(sizes[1], 64 * 1024), block_pool(sizes[2], 64 * 1024),
               block_pool(sizes[3], 64 * 1024), block_pool(sizes[4], 64 * 1024)} {}

text_pool::text text_pool::make(std::string_view s) {
    text t;
    if (s.empty()) return t;
    std::uint8_t c = 0;
    while (c < heap_class && sizes[c] < s.size()) ++c;
    t.data_ = c < heap_class ? static_cast<char*>(classes_[c].allocate()) : static_cast<char*>(::operator new(s.size()));
    std::memcpy(t.data_, s.data(), s.size());
    t.pool_ = this;
    t.size_ = static_cast<std::uint32_t>(s.size());
    t.size_class_ = c;
    return t;
}

void text_pool::give_back(char* data, std::uint8_t size_class) noexcept {
    if (size_class < heap_class) classes_[size_class].deallocate(data);
    else ::operator delete(data);
}

std::size_t text_pool::in_use() const noexcept {
    std::size_t n = 0;
    for (const auto& c : classes_) n += c.in_use();
    return n;
}

}  // namespace b2b::sip::detail
