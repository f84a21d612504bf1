// One event another node published on the shared stream.
#pragma once

#include <string>

namespace b2b::cluster {

/// An entry of the event stream as the link hands it over. `kind` and `body` are the
/// publisher's opaque strings (binary-safe); `id` is the stream id Redis gave it ("ms-seq"),
/// increasing along the stream, so an owner can persist it and start after it next time.
struct event {
    std::string id;
    std::string node;  ///< node_id of the publisher
    std::string kind;
    std::string body;

    friend bool operator==(const event&, const event&) = default;
};

}  // namespace b2b::cluster
