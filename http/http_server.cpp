// HTTP/1.1 server: the public handle over the listener (detail/listener.cpp) and its sessions
// (detail/session.cpp).
#include "http/http_server.hpp"

#include "http/detail/listener.hpp"

#include <utility>

namespace b2b::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

http_server::http_server(asio::any_io_executor ex, tcp::endpoint listen, http_server_options options)
    : impl_(std::make_shared<detail::http_listener>(std::move(ex), listen, std::move(options))) {}

http_server::~http_server() {
    impl_->close_gate();
    impl_->stop();
}

void http_server::add_route(beast::http::verb method, std::string path, route_handler handler) {
    impl_->add_route(method, std::move(path), std::move(handler));
}

void http_server::add_async_route(beast::http::verb method, std::string path, async_route_handler handler) {
    impl_->add_route(method, std::move(path), std::move(handler));
}

void http_server::set_observer(http_observer* observer) { impl_->set_observer(observer); }

boost::system::error_code http_server::start() { return impl_->start(); }

void http_server::stop() { impl_->stop(); }

tcp::endpoint http_server::local_endpoint() const { return impl_->local_endpoint(); }

std::size_t http_server::session_count() const { return impl_->session_count(); }

http_server_stats http_server::stats() const { return impl_->stats(); }

}  // namespace b2b::http
