// A glance at an unparsed SIP message: the start line and one header, without the parser.
#pragma once

#include <optional>
#include <string_view>

namespace b2b::security {

/// What the start line of an unparsed message says. A request's line is "METHOD SP
/// Request-URI SP SIP-Version" (RFC 3261 §7.1); anything starting "SIP/" is a response (§7.2).
struct start_line {
    bool request = false;
    std::string_view method;
    /// The Request-URI's user part for sip:, sips: and tel: URIs ("112" in sip:112@host or
    /// tel:112), without parameters; empty when there is none.
    std::string_view user;
};

/// Reads the first line of `bytes`; nullopt when it is neither a request nor a response line.
std::optional<start_line> peek_start_line(std::string_view bytes) noexcept;

/// The value of the first header named `name` (or its compact form `compact`, RFC 3261 §7.3.3;
/// empty for none), case-insensitive, from the header section of `bytes`, trimmed; nullopt
/// when absent. Folded continuation lines are not joined: this is for screening, not parsing.
std::optional<std::string_view> peek_header(std::string_view bytes, std::string_view name,
                                            std::string_view compact = {}) noexcept;

/// True when `text` contains `needle`, ignoring ASCII case.
bool contains_ignoring_case(std::string_view text, std::string_view needle) noexcept;

}  // namespace b2b::security
