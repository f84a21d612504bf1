// NAPTR service selection (RFC 3263 §4.1) and SRV ordering (RFC 2782).
#include "sip/resolver/selection.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <algorithm>
#include <numeric>

namespace b2b::sip::resolver {

std::optional<transport_kind> naptr_transport(std::string_view service) noexcept {
    if (boost::algorithm::iequals(service, "SIP+D2U")) return transport_kind::udp;
    if (boost::algorithm::iequals(service, "SIP+D2T")) return transport_kind::tcp;
    if (boost::algorithm::iequals(service, "SIPS+D2T")) return transport_kind::tls;
    return std::nullopt;
}

std::vector<srv_choice> naptr_choices(std::span<const naptr_record> records) {
    std::vector<const naptr_record*> usable;
    for (const auto& r : records) {
        // §4.1: only terminal "s" records lead to SRV; the replacement names the SRV domain.
        if (!boost::algorithm::iequals(r.flags, "s")) continue;
        if (!naptr_transport(r.service) || r.replacement.empty() || r.replacement == ".") continue;
        usable.push_back(&r);
    }
    std::stable_sort(usable.begin(), usable.end(), [](const naptr_record* a, const naptr_record* b) {
        return a->order != b->order ? a->order < b->order : a->preference < b->preference;
    });
    std::vector<srv_choice> out;
    for (const auto* r : usable) {
        srv_choice c{*naptr_transport(r->service), r->replacement};
        const bool seen = std::any_of(out.begin(), out.end(), [&](const srv_choice& o) {
            return o.transport == c.transport && boost::algorithm::iequals(o.name, c.name);
        });
        if (!seen) out.push_back(std::move(c));
    }
    return out;
}

std::vector<srv_choice> default_srv_choices(std::string_view host) {
    return {{transport_kind::udp, "_sip._udp." + std::string(host)},
            {transport_kind::tcp, "_sip._tcp." + std::string(host)}};
}

std::vector<srv_record> order_srv(std::vector<srv_record> records, const random_source& random) {
    std::erase_if(records, [](const srv_record& r) { return r.target.empty() || r.target == "."; });
    std::stable_sort(records.begin(), records.end(),
                     [](const srv_record& a, const srv_record& b) { return a.priority < b.priority; });
    std::vector<srv_record> out;
    out.reserve(records.size());
    auto group = records.begin();
    while (group != records.end()) {
        auto group_end = std::find_if(group, records.end(), [&](const srv_record& r) { return r.priority != group->priority; });
        // RFC 2782 "Usage rules": weight-0 records first, then the running sum of weights; a
        // number drawn in [0, sum] picks the first record whose running sum reaches it.
        std::vector<srv_record> left(group, group_end);
        std::stable_partition(left.begin(), left.end(), [](const srv_record& r) { return r.weight == 0; });
        while (!left.empty()) {
            const std::uint32_t sum = std::accumulate(left.begin(), left.end(), std::uint32_t{0},
                                                      [](std::uint32_t s, const srv_record& r) { return s + r.weight; });
            // The last one left needs no draw.
            const std::uint32_t drawn = sum == 0 || left.size() == 1 ? 0 : std::min(random(sum), sum);
            std::uint32_t running = 0;
            auto pick = left.begin();
            for (; pick != left.end(); ++pick) {
                running += pick->weight;
                if (running >= drawn) break;
            }
            if (pick == left.end()) pick = std::prev(left.end());
            out.push_back(std::move(*pick));
            left.erase(pick);
        }
        group = group_end;
    }
    return out;
}

}  // namespace b2b::sip::resolver
