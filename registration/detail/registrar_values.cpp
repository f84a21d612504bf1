// Small value codecs of the registration layer: delta-seconds, the RFC 1123 Date, where a Contact is.
#include "registration/detail/registrar_values.hpp"

#include "sip/message/text.hpp"

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdio>

namespace b2b::registration::detail {

std::optional<std::uint32_t> parse_delta_seconds(std::string_view s) noexcept {
    s = sip::trim_lws(s);
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        // Saturate instead of refusing: "Implementations MAY treat values larger than 2**32-1
        // as equivalent to 2**32-1" (RFC 3261 §10.2.1.1).
        v = std::min<std::uint64_t>(v * 10 + static_cast<std::uint64_t>(c - '0'), 0xffffffffULL);
    }
    return static_cast<std::uint32_t>(v);
}

std::string format_sip_date(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    static constexpr std::array<const char*, 7> wkday{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> month{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{floor<seconds>(t - day)};
    std::array<char, 40> out{};
    const int n = std::snprintf(out.data(), out.size(), "%s, %02u %s %04d %02d:%02d:%02d GMT",
                                wkday[weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                                month[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                                static_cast<int>(hms.seconds().count()));
    return {out.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

std::optional<sip::endpoint> contact_endpoint(const sip::uri& contact) {
    if (contact.host_type != sip::host_kind::ipv4 && contact.host_type != sip::host_kind::ipv6) return std::nullopt;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(contact.host_without_brackets()), ec);
    if (ec) return std::nullopt;
    return sip::endpoint{address, contact.port != 0 ? contact.port : sip::default_port(contact.is_sips() ? sip::transport_kind::tls : sip::transport_kind::udp)};
}

}  // namespace b2b::registration::detail
