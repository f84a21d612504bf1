// What a failed authentication towards a trunk (or PBX target) shows, for the failure log.
#pragma once

#include "auth/failure.hpp"
#include "b2bua/auth_failure_log.hpp"
#include "routing/trunk.hpp"
#include "sip/message/message.hpp"

#include <chrono>

namespace b2b::b2bua {

/// The record of `reason`, ending our request to `peer` with `response`: the realm and
/// algorithms of its challenges (when it is one), its status, reason phrase and Warning, the
/// Call-ID and method of that leg. `is_trunk`: a trunk's provider (upstream), else a PBX target
/// of an inbound route (downstream). Never the password.
auth_failure_record upstream_failure_record(const sip::message& response, const routing::trunk& peer, bool is_trunk,
                                            auth::failure reason, std::chrono::system_clock::time_point now);

}  // namespace b2b::b2bua
