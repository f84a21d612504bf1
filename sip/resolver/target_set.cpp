// Per-peer target bookkeeping: TTL refresh, retry back-off, recently failed targets.
#include "sip/resolver/target_set.hpp"

#include <algorithm>

namespace b2b::sip::resolver {

target_set target_set::fixed(std::vector<target> targets) {
    target_set s;
    s.targets_ = std::move(targets);
    s.fixed_ = true;
    s.refresh_at_ = time_point::max();
    return s;
}

bool target_set::update(const resolution& r, time_point now) {
    if (r.targets.empty()) {
        on_failure(now);
        return false;
    }
    failures_ = 0;
    refresh_at_ = now + std::clamp(r.ttl, policy_.min_refresh, policy_.max_refresh);
    if (r.targets == targets_) return false;
    targets_ = r.targets;
    // A failure mark of a target that is gone means nothing any more.
    std::erase_if(failed_, [&](const failure_mark& m) {
        return std::find(targets_.begin(), targets_.end(), m.what) == targets_.end();
    });
    return true;
}

void target_set::on_failure(time_point now) {
    // 1 s, 2 s, 4 s ... up to retry_max: a DNS server that is down is not hammered.
    auto wait = policy_.retry_first;
    for (unsigned i = 0; i < failures_ && wait < policy_.retry_max; ++i) wait *= 2;
    ++failures_;
    refresh_at_ = now + std::min(wait, policy_.retry_max);
}

void target_set::mark_failed(const target& t, time_point now) {
    const auto until = now + policy_.failed_for;
    for (auto& m : failed_) {
        if (m.what == t) {
            m.until = until;
            return;
        }
    }
    failed_.push_back({t, until});
}

std::vector<target> target_set::ordered(time_point now) const {
    std::vector<target> good;
    std::vector<failure_mark> bad;
    for (const auto& t : targets_) {
        auto m = std::find_if(failed_.begin(), failed_.end(),
                              [&](const failure_mark& f) { return f.what == t && f.until > now; });
        if (m == failed_.end()) {
            good.push_back(t);
        } else {
            bad.push_back(*m);
        }
    }
    std::stable_sort(bad.begin(), bad.end(), [](const failure_mark& a, const failure_mark& b) { return a.until < b.until; });
    for (const auto& m : bad) good.push_back(m.what);
    return good;
}

}  // namespace b2b::sip::resolver
