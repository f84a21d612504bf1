// The admin layer's logger: "admin" when the process made one, else the HTTP server's, else the
// default.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace b2b::admin::detail {

inline std::shared_ptr<spdlog::logger> admin_logger() {
    if (auto l = spdlog::get("admin")) return l;
    if (auto l = spdlog::get("http")) return l;
    return spdlog::default_logger();
}

}  // namespace b2b::admin::detail
