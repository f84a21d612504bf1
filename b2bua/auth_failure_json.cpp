// FAILURE and summary documents of GET /api/v1/auth/failures and /api/v1/auth/summary.
#include "b2bua/auth_failure_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdio>
#include <ctime>

namespace b2b::b2bua {

namespace {

boost::json::value text_or_null(const std::string& s) {
    if (s.empty()) return nullptr;
    return boost::json::string(s);
}

}  // namespace

std::string rfc3339_ms(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
    const auto seconds = std::chrono::floor<std::chrono::seconds>(ms);
    const std::time_t tt = std::chrono::system_clock::to_time_t(seconds);
    std::tm utc{};
    gmtime_r(&tt, &utc);
    char buf[40];
    const auto n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                                 utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                                 static_cast<int>((ms - seconds).count()));
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

boost::json::value to_json(const auth_failure_entry& e) {
    const auto& r = e.last;
    boost::json::object o;
    o["time"] = rfc3339_ms(r.time);
    o["first"] = rfc3339_ms(e.first);
    o["count"] = e.count;
    o["direction"] = to_string(r.direction);
    o["source"] = r.source ? boost::json::value(r.source->to_string()) : boost::json::value(nullptr);
    o["username"] = text_or_null(r.username);
    o["realm"] = text_or_null(r.realm.empty() ? r.our_realm : r.realm);
    o["trunk"] = text_or_null(r.trunk);
    o["peer"] = r.peer;
    o["reason"] = auth::to_string(r.reason);
    o["method"] = r.method;
    o["call_id"] = r.call_id;
    o["status"] = r.status != 0 ? boost::json::value(r.status) : boost::json::value(nullptr);
    o["reason_phrase"] = text_or_null(r.reason_phrase);
    o["warning"] = text_or_null(r.warning);
    o["hint"] = hint(e);
    return o;
}

boost::json::value to_json(const std::vector<auth_failure_entry>& failures) {
    boost::json::array a;
    a.reserve(failures.size());
    for (const auto& e : failures) a.push_back(to_json(e));
    return boost::json::object{{"failures", std::move(a)}};
}

boost::json::value to_json(const auth_failure_summary& s) {
    boost::json::array counts;
    for (const auto& c : s.counts) {
        counts.push_back(boost::json::object{{"direction", to_string(c.direction)},
                                             {"reason", auth::to_string(c.reason)},
                                             {"peer", c.peer},
                                             {"count", c.count}});
    }
    boost::json::array sources;
    for (const auto& t : s.top_sources) sources.push_back(boost::json::object{{"source", t.source}, {"count", t.count}});
    return boost::json::object{{"window_s", s.window.count()}, {"counts", std::move(counts)},
                               {"top_sources", std::move(sources)}};
}

}  // namespace b2b::b2bua
