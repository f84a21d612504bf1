// Accessors of message, via and name_addr, the UAS/UAC checks (RFC 3261 §8.2, §16.3) and the
// serializer.
#include "sip/message/message.hpp"

#include <array>
#include <cstdint>

#include "sip/message/detail/chars.hpp"
#include "sip/message/text.hpp"

namespace b2b::sip {

std::optional<std::string_view> via::param(std::string_view name) const noexcept {
    return find_param(params, name);
}

bool via::has_rfc3261_branch() const noexcept {
    // The magic cookie is case-sensitive (RFC 3261 §8.1.1.7).
    return branch.starts_with("z9hG4bK");
}

std::optional<std::string_view> name_addr::param(std::string_view name) const noexcept {
    return find_param(params, name);
}

std::string name_addr::display_name_text() const {
    return unquote(display_name);
}

const header_field* message::find(header_id id) const noexcept {
    for (const auto& h : headers_) {
        if (h.id == id) return &h;
    }
    return nullptr;
}

const header_field* message::find(std::string_view name) const noexcept {
    const header_id id = header_id_from_name(name);
    if (id != header_id::other) return find(id);
    for (const auto& h : headers_) {
        if (h.id == header_id::other && iequals(h.name, name)) return &h;
    }
    return nullptr;
}

std::size_t message::count(header_id id) const noexcept {
    std::size_t n = 0;
    for (const auto& h : headers_) {
        if (h.id == id) ++n;
    }
    return n;
}

boost::container::small_vector<std::string_view, 2> message::values(header_id id) const {
    boost::container::small_vector<std::string_view, 2> out;
    for (const auto& h : headers_) {
        if (h.id == id) out.push_back(h.value);
    }
    return out;
}

namespace {

void append_name(std::string& list, std::string_view name) {
    if (!list.empty()) list += ", ";
    list += name;
}

// Occurrences of each known header id, counted in one pass over the header lines.
class header_counts {
  public:
    explicit header_counts(const message& m) noexcept {
        for (const auto& h : m.headers()) {
            auto& c = n_[static_cast<std::size_t>(h.id)];
            if (c < UINT16_MAX) ++c;
        }
    }
    std::size_t operator[](header_id id) const noexcept { return n_[static_cast<std::size_t>(id)]; }

  private:
    std::array<std::uint16_t, static_cast<std::size_t>(header_id::warning) + 1> n_{};
};

// Single-value headers (RFC 3261 §7.3.1: only list headers may repeat). The parser keeps
// the first of each; repeating one is a reason for 400 (RFC 4475 §3.3.8).
parse_result<void> check_duplicates(const header_counts& count) {
    std::string dup;
    for (header_id id : {header_id::call_id, header_id::cseq, header_id::from, header_id::to,
                         header_id::max_forwards}) {
        if (count[id] > 1) append_name(dup, canonical_name(id));
    }
    if (!dup.empty()) return parse_error{errc::duplicate_header, std::move(dup)};
    return {};
}

// The parser already checked each Content-Length value; here only whether they agree
// (RFC 4475 §3.3.9: two different values make the framing unknowable).
parse_result<void> check_content_length(const message& m) {
    std::optional<std::string_view> first;
    for (const auto& h : m.headers()) {
        if (h.id != header_id::content_length) continue;
        std::string_view v = h.value;
        // Leading zeros do not make a different value.
        while (v.size() > 1 && v.front() == '0') v.remove_prefix(1);
        if (!first) {
            first = v;
        } else if (*first != v) {
            return parse_error{errc::bad_content_length, "conflicting Content-Length values"};
        }
    }
    return {};
}

bool two_digits(std::string_view s, std::size_t at, int max) {
    if (!detail::is_digit(s[at]) || !detail::is_digit(s[at + 1])) return false;
    return (s[at] - '0') * 10 + (s[at + 1] - '0') <= max;
}

// SIP-date = rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 §20.17, §25.1),
// fixed layout "Sat, 15 Oct 2005 04:44:56 GMT".
bool valid_sip_date(std::string_view d) {
    if (d.size() != 29) return false;
    constexpr std::string_view days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    bool day_ok = false;
    for (auto w : days) day_ok = day_ok || d.substr(0, 3) == w;
    bool month_ok = false;
    for (auto mo : months) month_ok = month_ok || d.substr(8, 3) == mo;
    if (!day_ok || !month_ok) return false;
    if (d.substr(3, 2) != ", " || d[7] != ' ' || d[11] != ' ' || d[16] != ' ' || d[19] != ':' ||
        d[22] != ':' || d[25] != ' ' || d.substr(26) != "GMT") {
        return false;
    }
    if (!two_digits(d, 5, 31) || d.substr(5, 2) == "00") return false;
    for (std::size_t i = 12; i < 16; ++i) {
        if (!detail::is_digit(d[i])) return false;
    }
    return two_digits(d, 17, 23) && two_digits(d, 20, 59) && two_digits(d, 23, 60);
}

parse_result<void> check_version(const message& m) {
    if (!iequals(m.version(), "SIP/2.0")) {
        return parse_error{errc::version_not_supported, std::string(m.version().substr(0, 20))};
    }
    return {};
}

}  // namespace

parse_result<void> validate_request(const message& m) {
    if (!m.is_request()) return parse_error{errc::bad_start_line, "not a request"};
    if (auto r = check_version(m); !r) return r;

    // RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are mandatory. A proxy
    // "SHOULD" add Max-Forwards for an RFC 2543 sender that has none (§16.3 step 2), which we
    // recognise by a top Via branch without the magic cookie (§8.1.1.7, RFC 4475 §3.4.1).
    const header_counts count(m);
    std::string missing;
    if (count[header_id::to] == 0) append_name(missing, "To");
    if (count[header_id::from] == 0) append_name(missing, "From");
    if (count[header_id::cseq] == 0) append_name(missing, "CSeq");
    if (count[header_id::call_id] == 0) append_name(missing, "Call-ID");
    if (m.vias().empty()) append_name(missing, "Via");
    const bool rfc2543_sender = !m.vias().empty() && !m.vias().front().has_rfc3261_branch();
    if (!m.max_forwards() && !rfc2543_sender) append_name(missing, "Max-Forwards");
    if (!missing.empty()) return parse_error{errc::missing_header, std::move(missing)};

    if (auto r = check_duplicates(count); !r) return r;
    if (count[header_id::content_length] > 1) {
        if (auto r = check_content_length(m); !r) return r;
    }

    // RFC 3261 §8.2 (and §12.2.1.1 for ACK/CANCEL): the CSeq method matches the request's.
    if (m.cseq().method_text != m.method_text()) {
        return parse_error{errc::cseq_method_mismatch,
                           "CSeq method " + std::string(m.cseq().method_text.substr(0, 32)) +
                               " differs from request method " +
                               std::string(m.method_text().substr(0, 32))};
    }

    // RFC 4475 §3.2.1: a branch that is only the magic cookie identifies no transaction.
    if (m.vias().front().branch == "z9hG4bK") {
        return parse_error{errc::bad_via, "branch holds only the magic cookie z9hG4bK"};
    }

    // RFC 3261 §20.17: Date is an RFC 1123 date in GMT (RFC 4475 §3.1.2.12).
    if (count[header_id::date] > 0) {
        for (const auto& h : m.headers()) {
            if (h.id == header_id::date && !valid_sip_date(h.value)) {
                return parse_error{errc::bad_header_value, "Date: not an RFC 1123 date in GMT"};
            }
        }
    }
    return {};
}

parse_result<void> validate_response(const message& m) {
    if (!m.is_response()) return parse_error{errc::bad_start_line, "not a response"};
    if (auto r = check_version(m); !r) return r;
    const header_counts count(m);
    std::string missing;
    if (m.vias().empty()) append_name(missing, "Via");
    if (count[header_id::from] == 0) append_name(missing, "From");
    if (count[header_id::to] == 0) append_name(missing, "To");
    if (count[header_id::call_id] == 0) append_name(missing, "Call-ID");
    if (count[header_id::cseq] == 0) append_name(missing, "CSeq");
    if (!missing.empty()) return parse_error{errc::missing_header, std::move(missing)};
    if (auto r = check_duplicates(count); !r) return r;
    return check_content_length(m);
}

std::string serialize(const message& m) {
    const std::string_view wire = m.wire();
    const std::size_t eol = wire.find("\r\n");
    if (eol == std::string_view::npos) return std::string(wire);
    std::string out;
    out.reserve(wire.size());
    out += wire.substr(0, eol + 2);
    for (const auto& h : m.headers()) out += h.raw;
    out += "\r\n";
    out += m.body();
    return out;
}

}  // namespace b2b::sip
