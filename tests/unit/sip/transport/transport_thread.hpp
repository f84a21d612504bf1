// Tests run the Asio transport on a thread of its own; this ends one.
#pragma once

#include "sip/transport/asio_transport.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>

namespace b2b::sip {

using work_guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;

/// Stops `transport` on its own thread (its sockets are that thread's), then the loop, and joins.
inline void stop_transport_thread(boost::asio::io_context& io, asio_transport& transport, work_guard& guard,
                                  std::thread& thread) {
    std::promise<void> stopped;
    boost::asio::post(io, [&] {
        transport.stop();
        stopped.set_value();
    });
    stopped.get_future().wait();
    guard.reset();
    io.stop();
    thread.join();
}

}  // namespace b2b::sip
