// Parsing with ares_parse_*_reply; the TTLs of NAPTR and SRV records, which those parsers do
// not return, with libresolv's ns_parserr.
#include "sip/resolver/detail/ares_parse.hpp"

#include <ares.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <array>
#include <limits>

namespace b2b::sip::resolver::detail {

namespace {

template <typename Answer>
bool negative(int status, Answer& out) {
    if (status == ARES_ENODATA || status == ARES_ENOTFOUND) {
        out.result = Answer::status::no_data;
        return true;
    }
    if (status != ARES_SUCCESS) {
        out.result = Answer::status::failed;
        return true;
    }
    return false;
}

// The smallest TTL of the answer section's records of `type`.
std::uint32_t min_ttl(std::span<const unsigned char> message, int type) {
    ns_msg msg{};
    if (ns_initparse(message.data(), static_cast<int>(message.size()), &msg) != 0) return 0;
    std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
    const int count = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < count; ++i) {
        ns_rr rr{};
        if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) break;
        if (ns_rr_type(rr) == type) ttl = std::min<std::uint32_t>(ttl, ns_rr_ttl(rr));
    }
    return ttl == std::numeric_limits<std::uint32_t>::max() ? 0 : ttl;
}

int length(std::span<const unsigned char> message) { return static_cast<int>(message.size()); }

}  // namespace

naptr_answer parse_naptr(int status, std::span<const unsigned char> message) {
    naptr_answer out;
    if (negative(status, out)) return out;
    ares_naptr_reply* head = nullptr;
    if (const int rc = ares_parse_naptr_reply(message.data(), length(message), &head); rc != ARES_SUCCESS) {
        negative(rc, out);
        return out;
    }
    for (auto* r = head; r != nullptr; r = r->next) {
        naptr_record rec;
        rec.order = r->order;
        rec.preference = r->preference;
        rec.flags = reinterpret_cast<const char*>(r->flags);
        rec.service = reinterpret_cast<const char*>(r->service);
        rec.replacement = r->replacement != nullptr ? r->replacement : "";
        out.records.push_back(std::move(rec));
    }
    ares_free_data(head);
    out.result = naptr_answer::status::ok;
    out.ttl = min_ttl(message, ns_t_naptr);
    return out;
}

srv_answer parse_srv(int status, std::span<const unsigned char> message) {
    srv_answer out;
    if (negative(status, out)) return out;
    ares_srv_reply* head = nullptr;
    if (const int rc = ares_parse_srv_reply(message.data(), length(message), &head); rc != ARES_SUCCESS) {
        negative(rc, out);
        return out;
    }
    for (auto* r = head; r != nullptr; r = r->next) {
        out.records.push_back({r->priority, r->weight, r->port, r->host != nullptr ? r->host : ""});
    }
    ares_free_data(head);
    out.result = srv_answer::status::ok;
    out.ttl = min_ttl(message, ns_t_srv);
    return out;
}

address_answer parse_a(int status, std::span<const unsigned char> message) {
    address_answer out;
    if (negative(status, out)) return out;
    std::array<ares_addrttl, 32> ttls{};
    int count = static_cast<int>(ttls.size());
    if (const int rc = ares_parse_a_reply(message.data(), length(message), nullptr, ttls.data(), &count);
        rc != ARES_SUCCESS) {
        negative(rc, out);
        return out;
    }
    std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
    for (int i = 0; i < count; ++i) {
        boost::asio::ip::address_v4::bytes_type bytes{};
        std::copy_n(reinterpret_cast<const unsigned char*>(&ttls[static_cast<std::size_t>(i)].ipaddr), bytes.size(),
                    bytes.begin());
        out.records.emplace_back(boost::asio::ip::address_v4(bytes));
        ttl = std::min<std::uint32_t>(ttl, static_cast<std::uint32_t>(std::max(0, ttls[static_cast<std::size_t>(i)].ttl)));
    }
    out.result = count > 0 ? address_answer::status::ok : address_answer::status::no_data;
    out.ttl = count > 0 ? ttl : 0;
    return out;
}

address_answer parse_aaaa(int status, std::span<const unsigned char> message) {
    address_answer out;
    if (negative(status, out)) return out;
    std::array<ares_addr6ttl, 32> ttls{};
    int count = static_cast<int>(ttls.size());
    if (const int rc = ares_parse_aaaa_reply(message.data(), length(message), nullptr, ttls.data(), &count);
        rc != ARES_SUCCESS) {
        negative(rc, out);
        return out;
    }
    std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
    for (int i = 0; i < count; ++i) {
        boost::asio::ip::address_v6::bytes_type bytes{};
        std::copy_n(reinterpret_cast<const unsigned char*>(&ttls[static_cast<std::size_t>(i)].ip6addr), bytes.size(),
                    bytes.begin());
        out.records.emplace_back(boost::asio::ip::address_v6(bytes));
        ttl = std::min<std::uint32_t>(ttl, static_cast<std::uint32_t>(std::max(0, ttls[static_cast<std::size_t>(i)].ttl)));
    }
    out.result = count > 0 ? address_answer::status::ok : address_answer::status::no_data;
    out.ttl = count > 0 ? ttl : 0;
    return out;
}

}  // namespace b2b::sip::resolver::detail
