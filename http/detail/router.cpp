// Route table lookup: exact path, else longest prefix; 405 carries the path's methods.
#include "http/detail/router.hpp"

#include <stdexcept>
#include <utility>

namespace b2b::http::detail {

namespace beast = boost::beast;

void router::add(beast::http::verb method, std::string pattern, route handler) {
    if (pattern.empty() || pattern.front() != '/')
        throw std::invalid_argument("route must start with '/': " + pattern);
    if (method == beast::http::verb::unknown)
        throw std::invalid_argument("route needs a known method: " + pattern);
    const bool prefix = pattern.back() == '*';
    if (prefix) pattern.pop_back();
    auto& table = prefix ? prefixes_ : exact_;
    const bool added = table[pattern].try_emplace(method, std::move(handler)).second;
    if (!added)
        throw std::invalid_argument("route already defined: " +
                                    std::string(beast::http::to_string(method)) + ' ' + pattern);
}

route_match router::find(beast::http::verb method, std::string_view path) const {
    const methods* candidates = nullptr;
    route_match m;
    if (auto it = exact_.find(path); it != exact_.end()) {
        candidates = &it->second;
    } else {
        // Prefixes are never empty (they start with '/'), so size 0 means "none yet".
        std::size_t longest = 0;
        for (const auto& [prefix, ms] : prefixes_) {
            if (prefix.size() > longest && path.starts_with(prefix)) {
                candidates = &ms;
                longest = prefix.size();
            }
        }
        if (candidates == nullptr) return {};
        m.rest = path.substr(longest);
    }
    if (auto it = candidates->find(method); it != candidates->end()) {
        m.handler = &it->second;
        return m;
    }
    // RFC 9110 §15.5.6: a 405 response must list the methods the target does support.
    for (const auto& [verb, h] : *candidates) {
        if (!m.allow.empty()) m.allow += ", ";
        m.allow += beast::http::to_string(verb);
    }
    return m;
}

}  // namespace b2b::http::detail
