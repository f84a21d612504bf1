// Runs the owner's callbacks on its executor until the link closes the gate.
#pragma once

#include <mutex>
#include <utility>

namespace b2b::cluster::detail {

/// Shared between a link and the callbacks it posted: each posted callback runs through the
/// gate, and `close` makes the later ones do nothing. `close` waits for one running on another
/// thread; called from inside a callback (the same thread) it does not wait for itself, which
/// the recursive mutex allows.
///
/// @par Thread safety
/// Safe.
class callback_gate {
public:
    /// Runs `f` unless closed; false when it did not.
    template <class F>
    bool run(F&& f) {
        std::lock_guard lock(mutex_);
        if (closed_) return false;
        std::forward<F>(f)();
        return true;
    }

    bool closed() {
        std::lock_guard lock(mutex_);
        return closed_;
    }

    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }

private:
    std::recursive_mutex mutex_;
    bool closed_ = false;
};

}  // namespace b2b::cluster::detail
