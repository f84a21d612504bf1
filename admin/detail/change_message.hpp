// A committed change as the other nodes of a cluster receive it: self-contained JSON carrying the
// whole document and an id, so that a repeat of it changes nothing.
#pragma once

#include "admin/detail/document_change.hpp"
#include "admin/store.hpp"

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace b2b::admin::detail {

/// The version of the body `serialize` writes. A body of a later version is refused rather
/// than half understood.
inline constexpr int change_message_format = 1;

/// One change committed on one node.
///
/// {"format": 1, "id": "9f86d081884c7d65-12", "kind": "trunk", "key": "acme", "op": "put",
///  "document": {...}, "end_calls": false,
///  "audit": {"time": "2026-03-02T10:15:00.123Z", "remote": "10.0.0.5:43122",
///            "operation": "PUT /api/v1/trunks/acme", "object": "trunk acme", "result": 200}}
///
/// `id` is unique to the change (the publisher's random prefix, then its count), so that a copy
/// delivered again, even after later changes, is recognised. `op` is "put" (with `document`, as
/// stored, secrets included) or "remove" (without). The route tables have the key "".
/// `end_calls` (a removed trunk only) says the trunk's calls in progress were ended where it
/// was removed (DELETE ?force=true); otherwise they go on.
struct change_message {
    std::string id;
    document_change change;
    /// Who made it, when, and with what answer, as the origin's audit log has it.
    audit_entry audit;
    bool end_calls = false;
};

/// The body of `m`.
std::string serialize(const change_message& m);

/// Where the store keeps a change of this node's until the cluster's stream has it
/// (store::put_state keys): "outbox:<id>".
inline constexpr std::string_view outbox_prefix = "outbox:";
inline std::string outbox_key(std::string_view id) { return std::string(outbox_prefix) + std::string(id); }

/// Reads a body `serialize` wrote (any JSON of that shape). Error: what is wrong with it, for
/// the log. Whether the change fits a document set is `with_change`'s question, not this one's.
boost::system::result<change_message, std::string> parse_change_message(std::string_view body);

}  // namespace b2b::admin::detail
