// Requests we originate: written once, with the positions the transaction layer needs.
#include "sip/message/outbound_request.hpp"

#include "sip/message/text.hpp"
#include "sip/message/writer.hpp"

namespace b2b::sip {

namespace {

// The branch parameter of a Via value we wrote or parsed (empty when there is none).
std::string_view branch_of(std::string_view via_value) noexcept {
    for (std::size_t at = via_value.find(';'); at != std::string_view::npos; at = via_value.find(';', at + 1)) {
        std::string_view param = trim_lws(via_value.substr(at + 1));
        if (param.size() > 7 && iequals(param.substr(0, 7), "branch=")) {
            param.remove_prefix(7);
            return param.substr(0, param.find_first_of("; \t,"));
        }
    }
    return {};
}

}  // namespace

outbound_request outbound_request::from_message(const message& m) {
    outbound_request r;
    r.wire_ = std::string(m.wire());
    const char* base = m.wire().data();
    const auto at = [&](std::string_view v) {
        if (v.empty()) return slice{};
        return slice{static_cast<std::uint32_t>(v.data() - base), static_cast<std::uint32_t>(v.size())};
    };
    r.method_ = m.method();
    r.method_text_ = at(m.method_text());
    r.request_uri_ = at(m.request_uri().text);
    if (!m.vias().empty()) {
        r.top_via_ = at(m.vias().front().text);
        r.branch_ = at(m.vias().front().branch);
    }
    r.from_ = at(m.from().text);
    r.to_ = at(m.to().text);
    r.call_id_ = at(m.call_id());
    r.cseq_ = m.cseq().seq;
    for (const header_field& h : m.headers()) {
        if (h.id != header_id::route) continue;
        std::string_view raw = h.raw;
        while (raw.ends_with('\n') || raw.ends_with('\r')) raw.remove_suffix(1);
        r.routes_.push_back(at(raw));
    }
    return r;
}

bool outbound_request::add_header_if_absent(std::string_view name, std::string_view value) {
    return sip::add_header_if_absent(wire_, name, value);
}

request_builder::request_builder(std::string_view method, std::string_view request_uri, std::size_t reserve)
    : w_(reserve), method_(method) {
    w_.request_line(method, request_uri);
    r_.method_ = method_from_string(method);
    r_.method_text_ = {0, static_cast<std::uint32_t>(method.size())};
    r_.request_uri_ = {static_cast<std::uint32_t>(method.size() + 1), static_cast<std::uint32_t>(request_uri.size())};
}

outbound_request::slice request_builder::last_value(std::size_t value_size) const noexcept {
    // The line just written ends in "value\r\n".
    return {static_cast<std::uint32_t>(w_.size() - 2 - value_size), static_cast<std::uint32_t>(value_size)};
}

request_builder& request_builder::via(std::string_view value) {
    w_.header(header_id::via, value);
    if (r_.top_via_.length == 0) {
        r_.top_via_ = last_value(value.size());
        const std::string_view branch = branch_of(value);
        if (!branch.empty()) {
            r_.branch_ = {r_.top_via_.offset + static_cast<std::uint32_t>(branch.data() - value.data()),
                          static_cast<std::uint32_t>(branch.size())};
        }
    }
    return *this;
}

request_builder& request_builder::route(std::string_view value) {
    const std::size_t start = w_.size();
    w_.header(header_id::route, value);
    r_.routes_.push_back({static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(w_.size() - 2 - start)});
    return *this;
}

request_builder& request_builder::max_forwards(unsigned hops) {
    w_.header_concat("Max-Forwards", hops);
    return *this;
}

request_builder& request_builder::from(std::string_view value) {
    w_.header(header_id::from, value);
    r_.from_ = last_value(value.size());
    return *this;
}

request_builder& request_builder::to(std::string_view value) {
    w_.header(header_id::to, value);
    r_.to_ = last_value(value.size());
    return *this;
}

request_builder& request_builder::call_id(std::string_view value) {
    w_.header(header_id::call_id, value);
    r_.call_id_ = last_value(value.size());
    return *this;
}

request_builder& request_builder::cseq(std::uint32_t seq, std::string_view method) {
    w_.header_concat("CSeq", seq, " ", method.empty() ? std::string_view(method_) : method);
    r_.cseq_ = seq;
    return *this;
}

request_builder& request_builder::header(std::string_view name, std::string_view value) {
    w_.header(name, value);
    return *this;
}

request_builder& request_builder::header(header_id id, std::string_view value) {
    w_.header(id, value);
    return *this;
}

outbound_request request_builder::finish(std::string_view body, std::string_view content_type) {
    r_.wire_ = w_.finish(body, content_type);
    return std::move(r_);
}

}  // namespace b2b::sip
