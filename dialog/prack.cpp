// Reliable provisional responses (RFC 3262): numbering, retransmission, PRACK matching, RSeq order.
#include "dialog/prack.hpp"

#include "sip/message/text.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace b2b::dialog {

namespace {

// 1*DIGIT as RFC 3262 §7.1 writes response-num: digits only, in range, nothing after.
std::optional<std::uint32_t> parse_number(std::string_view s) noexcept {
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > std::numeric_limits<std::uint32_t>::max()) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(v);
}

// Cuts the next LWS-separated word off `s`.
std::string_view next_word(std::string_view& s) noexcept {
    s = sip::trim_lws(s);
    const auto end = s.find_first_of(" \t\r\n");
    const std::string_view word = s.substr(0, end);
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
    return word;
}

}  // namespace

bool names_100rel(const sip::message& m, sip::header_id id) {
    // Option tags compare exactly (RFC 3261 §19.2).
    return sip::any_list_item(m, id, [](std::string_view tag) { return tag == option_100rel; });
}

std::optional<std::uint32_t> parse_rseq(std::string_view value) noexcept {
    auto n = parse_number(sip::trim_lws(value));
    if (!n || *n == 0) return std::nullopt;
    return n;
}

std::optional<rack_value> parse_rack(std::string_view value) noexcept {
    // RAck = response-num LWS CSeq-num LWS Method (§7.2)
    auto rseq = parse_number(next_word(value));
    auto cseq = parse_number(next_word(value));
    const std::string_view method = next_word(value);
    if (!rseq || !cseq || method.empty() || !sip::trim_lws(value).empty()) return std::nullopt;
    return rack_value{*rseq, *cseq, sip::method_from_string(method)};
}

std::string make_rack(std::uint32_t rseq, std::uint32_t cseq) {
    return std::to_string(rseq) + " " + std::to_string(cseq) + " INVITE";
}

std::optional<std::uint32_t> reliable_rseq(const sip::message& response) {
    // §4: a provisional other than 100 is reliable when it carries Require: 100rel (and then
    // an RSeq, §7.1). A 100 is hop by hop and never reliable (§3).
    if (!response.is_response() || response.status() <= 100 || response.status() >= 200) return std::nullopt;
    if (!names_100rel(response, sip::header_id::require)) return std::nullopt;
    const auto* h = response.find("RSeq");
    if (h == nullptr) return std::nullopt;
    return parse_rseq(h->value);
}

// ------------------------------------------------------------------------------------ UAS

std::optional<std::uint32_t> reliable_provisional_uas::send(bool with_sdp) noexcept {
    if (state_ != state::idle) return std::nullopt;  // §3: one unacknowledged at a time
    state_ = state::awaiting_prack;
    last_rseq_ = next_rseq_++;  // §3: each reliable provisional of the transaction takes RSeq + 1
    elapsed_ = duration{0};
    retransmissions_ = 0;
    with_sdp_ = with_sdp;
    return last_rseq_;
}

reliable_provisional_uas::duration reliable_provisional_uas::next_timer() const noexcept {
    // §3: retransmitted at an interval that starts at T1 and doubles each time; given up after
    // 64*T1 without a PRACK. The shift stops growing once past the deadline anyway.
    const duration deadline = 64 * t1_;
    const duration interval = t1_ * (1LL << std::min(retransmissions_, 7u));
    return std::min(interval, deadline - elapsed_);
}

reliable_provisional_uas::timer_action reliable_provisional_uas::on_timer() noexcept {
    switch (state_) {
        case state::idle:
        case state::gave_up:
            return timer_action::none;  // a timer that outlived its provisional
        case state::awaiting_prack:
            elapsed_ += next_timer();
            if (elapsed_ >= 64 * t1_) {
                state_ = state::gave_up;
                return timer_action::give_up;
            }
            ++retransmissions_;
            return timer_action::retransmit;
    }
    return timer_action::none;
}

bool reliable_provisional_uas::on_prack(const rack_value& rack, std::uint32_t invite_cseq) noexcept {
    // §7.2: the RAck's response-num, CSeq number and method must all match the provisional
    // that is still unacknowledged; anything else (an old one, a guess) matches nothing.
    if (state_ != state::awaiting_prack) return false;
    if (rack.rseq != last_rseq_ || rack.cseq != invite_cseq || rack.method != sip::method::invite) return false;
    state_ = state::idle;
    with_sdp_ = false;
    return true;
}

// ------------------------------------------------------------------------------------ UAC

reliable_provisional_uac::verdict reliable_provisional_uac::on_reliable(std::string_view to_tag, std::uint32_t rseq) {
    auto it = std::find_if(last_.begin(), last_.end(), [&](const auto& e) { return e.first == to_tag; });
    if (it == last_.end()) {
        // §4: the first reliable provisional of an early dialog sets the count, whatever it is.
        last_.emplace_back(std::string(to_tag), rseq);
        return verdict::in_order;
    }
    if (rseq == it->second + 1) {
        it->second = rseq;
        return verdict::in_order;
    }
    return rseq <= it->second ? verdict::duplicate : verdict::out_of_order;
}

}  // namespace b2b::dialog
