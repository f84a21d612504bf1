// Errors of the link to Redis: the `b2b.cluster` category.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace b2b::cluster {

/// Why a Redis command gave no usable reply. The human-readable detail (hiredis's text, or the
/// server's error line) travels separately, as the text of a down report.
enum class errc {
    ok = 0,
    not_connected = 1,  ///< no connection, or it broke earlier and was not re-opened
    io_error,           ///< connect, send or receive failed or timed out; the connection is closed
    protocol_error,     ///< the bytes from the server were not RESP, or not the reply expected
    server_error,       ///< the server answered with an error reply (-ERR, -WRONGTYPE, ...)
};

const boost::system::error_category& cluster_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), cluster_category()};
}

}  // namespace b2b::cluster

template <>
struct boost::system::is_error_code_enum<b2b::cluster::errc> : std::true_type {};
