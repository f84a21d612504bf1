// Label values of the HTTP server's refusals and timeouts.
#include "http/http_observer.hpp"

namespace b2b::http {

std::string_view to_string(connection_refusal r) noexcept {
    switch (r) {
        case connection_refusal::max_connections: return "max_connections";
        case connection_refusal::source_limit: return "source_limit";
    }
    return "max_connections";
}

std::string_view to_string(http_timeout t) noexcept {
    switch (t) {
        case http_timeout::tls_handshake: return "tls_handshake";
        case http_timeout::header: return "header";
        case http_timeout::body: return "body";
        case http_timeout::write: return "write";
        case http_timeout::answer: return "answer";
    }
    return "header";
}

}  // namespace b2b::http
