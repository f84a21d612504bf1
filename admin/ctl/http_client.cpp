// The admin API client's one exchange: resolve, connect, (TLS handshake), write, read.
#include "admin/ctl/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <sys/socket.h>
#include <sys/time.h>

namespace b2b::admin::ctl {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;

namespace {

// Synchronous reads and writes wait forever on a silent peer: the socket's own timeouts
// bound each read and write instead.
void set_socket_timeouts(net::ip::tcp::socket& s, std::chrono::seconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(timeout.count());
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

http::request<http::string_body> make_request(const base_url& url, const api_request& req, const std::string& token) {
    http::request<http::string_body> r{http::string_to_verb(req.method), url.path + req.target, 11};
    const bool ipv6 = url.host.find(':') != std::string::npos;
    const std::string host = ipv6 ? "[" + url.host + "]" : url.host;
    const bool default_port = url.port == (url.tls ? "443" : "80");
    r.set(http::field::host, default_port ? host : host + ":" + url.port);
    r.set(http::field::user_agent, "b2buactl");
    r.set(http::field::accept, "application/json");
    if (!token.empty()) r.set(http::field::authorization, "Bearer " + token);
    if (!req.body.empty()) {
        r.set(http::field::content_type, req.content_type);
        r.body() = req.body;
    }
    r.prepare_payload();
    return r;
}

template <class Stream>
api_response read_answer(Stream& stream, http::request<http::string_body>& request) {
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    auto& res = parser.get();
    return {static_cast<int>(res.result_int()), std::string(res.reason()), std::move(res.body())};
}

}  // namespace

std::optional<base_url> parse_base_url(std::string_view url) {
    base_url out;
    if (url.rfind("http://", 0) == 0) {
        url.remove_prefix(7);
    } else if (url.rfind("https://", 0) == 0) {
        url.remove_prefix(8);
        out.tls = true;
    } else {
        return std::nullopt;
    }
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) out.path = std::string(url.substr(slash));
    while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
    if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no credentials in URLs
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = std::string(authority.substr(1, close - 1));
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port = after.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (out.host.empty()) return std::nullopt;
    if (port.empty()) {
        out.port = out.tls ? "443" : "80";
    } else {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
        out.port = std::string(port);
    }
    return out;
}

std::variant<api_response, transport_failure> exchange(const base_url& url, const api_request& req,
                                                       const std::string& token, std::chrono::seconds timeout) {
    net::io_context io;
    beast::error_code ec;
    net::ip::tcp::resolver resolver(io);
    const auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) return transport_failure{"cannot resolve " + url.host + ": " + ec.message()};
    auto request = make_request(url, req, token);
    try {
        if (!url.tls) {
            net::ip::tcp::socket socket(io);
            net::connect(socket, endpoints);
            set_socket_timeouts(socket, timeout);
            auto answer = read_answer(socket, request);
            socket.shutdown(net::ip::tcp::socket::shutdown_both, ec);
            return answer;
        }
        ssl::context ctx(ssl::context::tls_client);
        ctx.set_default_verify_paths();
        ctx.set_verify_mode(ssl::verify_peer);
        ssl::stream<net::ip::tcp::socket> stream(io, ctx);
        // RFC 6066 §3: SNI carries a name, never an address (SSL_set_tlsext_host_name without
        // the macro's C cast). The certificate is checked against the name or address either way.
        beast::error_code not_address;
        (void)net::ip::make_address(url.host, not_address);
        if (not_address &&
            SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(url.host.c_str())) != 1)
            return transport_failure{"cannot set the TLS server name " + url.host};
        stream.set_verify_callback(ssl::host_name_verification(url.host));
        net::connect(stream.next_layer(), endpoints);
        set_socket_timeouts(stream.next_layer(), timeout);
        stream.handshake(ssl::stream_base::client);
        auto answer = read_answer(stream, request);
        stream.shutdown(ec);  // a peer that just closes is fine: the answer is complete
        return answer;
    } catch (const boost::system::system_error& e) {
        return transport_failure{e.code().message()};
    }
}

}  // namespace b2b::admin::ctl
