// The admin API's JSON for the authentication failure log (shapes: the issue 9 design contract).
#pragma once

#include "b2bua/auth_failure_log.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace b2b::b2bua {

/// RFC 3339 UTC with milliseconds: "2026-12-02T10:00:00.123Z".
std::string rfc3339_ms(std::chrono::system_clock::time_point t);

/// FAILURE: {"time" (last seen), "first", "count", "direction", "source"|null, "username"|null,
/// "realm"|null, "trunk"|null, "peer", "reason", "method", "call_id", "status"|null,
/// "reason_phrase"|null, "warning"|null, "hint"}.
boost::json::value to_json(const auth_failure_entry& e);
/// {"failures": [FAILURE...]} in the order given (query's: newest first).
boost::json::value to_json(const std::vector<auth_failure_entry>& failures);
/// {"window_s", "counts": [{"direction","reason","peer","count"}], "top_sources": [{"source","count"}]}.
boost::json::value to_json(const auth_failure_summary& s);

}  // namespace b2b::b2bua
