// The parser's way into `message`'s private fields (the only friend of `message`).
#pragma once

#include "sip/message/message.hpp"

namespace b2b::sip::detail {

struct message_access {
    static std::unique_ptr<char[]>& buffer(message& m) noexcept { return m.buffer_; }
    static std::size_t& size(message& m) noexcept { return m.size_; }
    static bool& is_request(message& m) noexcept { return m.is_request_; }
    static bool& contact_star(message& m) noexcept { return m.contact_star_; }
    static sip::method& method(message& m) noexcept { return m.method_; }
    static int& status(message& m) noexcept { return m.status_; }
    static std::string_view& method_text(message& m) noexcept { return m.method_text_; }
    static sip::uri& request_uri(message& m) noexcept { return m.request_uri_; }
    static std::string_view& reason(message& m) noexcept { return m.reason_; }
    static std::string_view& version(message& m) noexcept { return m.version_; }
    static auto& headers(message& m) noexcept { return m.headers_; }
    static auto& vias(message& m) noexcept { return m.vias_; }
    static auto& contacts(message& m) noexcept { return m.contacts_; }
    static auto& routes(message& m) noexcept { return m.routes_; }
    static auto& record_routes(message& m) noexcept { return m.record_routes_; }
    static name_addr& from(message& m) noexcept { return m.from_; }
    static name_addr& to(message& m) noexcept { return m.to_; }
    static std::string_view& call_id(message& m) noexcept { return m.call_id_; }
    static cseq_value& cseq(message& m) noexcept { return m.cseq_; }
    static std::optional<unsigned>& max_forwards(message& m) noexcept { return m.max_forwards_; }
    static std::optional<std::size_t>& content_length(message& m) noexcept {
        return m.content_length_;
    }
    static std::string_view& body(message& m) noexcept { return m.body_; }
};

}  // namespace b2b::sip::detail
