// A fixed-capacity map that forgets its least recently used entry to make room.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <utility>

namespace b2b::security::detail {

/// At most `capacity` entries; inserting into a full table evicts the least recently used one
/// (counted in `evictions`). `touch` and `insert` make an entry the most recent; `peek` does
/// not. An attacker can fill the table, never grow it: that is the point.
///
/// @par Thread safety
/// None.
template <class Key, class Value, class Hash = std::hash<Key>>
class lru_table {
public:
    using entry = std::pair<Key, Value>;

    explicit lru_table(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
        index_.reserve(capacity_ < 4096 ? capacity_ : 4096);
    }

    /// The entry for `key`, made the most recent; nullptr when absent.
    Value* touch(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return &it->second->second;
    }

    /// The entry for `key`, left where it is in the order; nullptr when absent.
    Value* peek(const Key& key) {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : &it->second->second;
    }
    const Value* peek(const Key& key) const {
        auto it = index_.find(key);
        return it == index_.end() ? nullptr : &it->second->second;
    }

    /// The entry for `key`, created from `Value{}` when absent; `evicted` receives the entry
    /// that made room, if one had to.
    template <class OnEvict>
    Value& insert(const Key& key, OnEvict&& evicted) {
        if (Value* v = touch(key)) return *v;
        if (index_.size() >= capacity_) {
            auto& last = order_.back();
            evicted(last.first, last.second);
            index_.erase(last.first);
            order_.pop_back();
            ++evictions_;
        }
        order_.emplace_front(key, Value{});
        index_.emplace(key, order_.begin());
        return order_.front().second;
    }
    Value& insert(const Key& key) {
        return insert(key, [](const Key&, const Value&) {});
    }

    bool erase(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return false;
        order_.erase(it->second);
        index_.erase(it);
        return true;
    }

    std::size_t size() const noexcept { return index_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }
    std::uint64_t evictions() const noexcept { return evictions_; }

    /// Most recent first.
    auto begin() const { return order_.begin(); }
    auto end() const { return order_.end(); }

private:
    std::size_t capacity_;
    std::list<entry> order_;
    std::unordered_map<Key, typename std::list<entry>::iterator, Hash> index_;
    std::uint64_t evictions_ = 0;
};

}  // namespace b2b::security::detail
