// The read-only status page at "/": a snapshot as one HTML document.
#pragma once

#include "admin/status_snapshot.hpp"

#include <chrono>
#include <string>

namespace b2b::admin {

/// How often the page reloads itself (<meta http-equiv="refresh">: no script).
inline constexpr std::chrono::seconds status_page_refresh{10};

/// The status page for `s`: trunks with their health and registration, calls in progress,
/// the PBXs' registrations, the last authentication failures with their hints; version and
/// uptime in the footer. A whole HTML document with inline CSS and no script. Every value
/// taken from `s` is escaped: names, reason phrases and Warning texts come from the network.
std::string render_status_page(const status_snapshot& s);

/// "45s", "4m 05s", "2h 03m", "3d 04h": a duration as an operator reads it at a glance.
std::string short_duration(std::chrono::seconds d);

}  // namespace b2b::admin
