// GET/POST /api/v1/bans and DELETE /api/v1/bans/{address}: the source gate's ban list.
#include "admin/admin_api.hpp"

#include "admin/detail/api_request.hpp"
#include "admin/detail/json_response.hpp"
#include "b2bua/auth_failure_json.hpp"
#include "b2bua/core.hpp"
#include "b2bua/source_gate.hpp"
#include "security/source_address.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <memory>

namespace b2b::admin {

namespace json = boost::json;
namespace asio = boost::asio;
using boost::beast::http::status;
using boost::beast::http::verb;
using detail::json_error;
using detail::json_response;

namespace {

// The longest ban an operator may set: a year, like security.ban.max_s.
constexpr std::int64_t max_ban_s = 365LL * 86400;

json::object ban_json(const security::ban& b, const b2bua::core& core, std::chrono::steady_clock::time_point now) {
    json::object o;
    o["source"] = b.source.to_string();
    o["until"] = b2bua::rfc3339_ms(core.wall_time(b.until));
    o["remaining_s"] = std::chrono::ceil<std::chrono::seconds>(b.until - now).count();
    o["origin"] = std::string(security::to_string(b.origin));
    o["bans_in_a_row"] = b.count;
    if (b.username.empty()) {
        o["username"] = nullptr;
    } else {
        o["username"] = b.username;
    }
    return o;
}

std::optional<boost::asio::ip::address> address_of(std::string_view text) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(text, ec);
    if (ec) return std::nullopt;
    return a;
}

}  // namespace

void admin_api::bans(request& r, reply done) {
    const auto& seg = r.segments;
    auto* gate = core_.gate();
    if (gate == nullptr) return done(json_error(status::service_unavailable, "no source gate in this process"));
    if (seg.size() == 1 && r.method == verb::get) {
        return asio::post(sip_ex_, [this, gate, done = std::move(done)]() mutable {
            const auto now = gate->now();
            json::array list;
            for (const auto& b : gate->bans()) list.push_back(ban_json(b, core_, now));
            auto body = std::make_shared<json::object>();
            (*body)["bans"] = std::move(list);
            asio::post(http_ex_, [body, done = std::move(done)] { done(json_response(status::ok, *body)); });
        });
    }
    if (seg.size() == 1 && r.method == verb::post) {
        auto body = r.object_body();
        if (body.error) return done(std::move(*body.error));
        const auto* source = body.object.if_contains("source");
        if (source == nullptr || !source->is_string()) {
            return done(json_error(status::bad_request, "required: an IPv4 or IPv6 address", "source"));
        }
        const auto address = address_of(source->as_string());
        if (!address) return done(json_error(status::bad_request, "must be one IPv4 or IPv6 address", "source"));
        std::optional<std::chrono::seconds> duration;
        if (const auto* d = body.object.if_contains("duration_s")) {
            if (!d->is_int64() || d->as_int64() < 1 || d->as_int64() > max_ban_s) {
                return done(json_error(status::bad_request, "must be a whole number of seconds from 1 to 31536000",
                                       "duration_s"));
            }
            duration = std::chrono::seconds(d->as_int64());
        }
        for (const auto& [key, value] : body.object) {
            if (key != "source" && key != "duration_s") {
                return done(json_error(status::bad_request, "unknown field", std::string(key)));
            }
        }
        return asio::post(sip_ex_, [this, gate, a = *address, duration, remote = r.remote, op = r.operation(),
                                    done = std::move(done)]() mutable {
            const auto length = duration.value_or(gate->first_ban());
            auto refused = gate->add_ban(a, length);
            std::shared_ptr<json::object> ban;
            if (!refused) {
                // Every worker's gate screens what its sockets read: each holds the ban too.
                for (std::size_t i = 1; i < workers_.size(); ++i) {
                    asio::post(workers_[i].executor, [core = workers_[i].core, a, length] {
                        if (auto* g = core->gate()) (void)g->add_ban(a, length);
                    });
                }
                const auto now = gate->now();
                for (const auto& b : gate->bans()) {
                    if (b.source == security::source_key(a)) {
                        ban = std::make_shared<json::object>(ban_json(b, core_, now));
                    }
                }
            }
            asio::post(http_ex_, [this, refused, ban, a, remote, op, done = std::move(done)] {
                const int code = refused ? 422 : 201;
                record_audit(remote, op, "ban " + a.to_string(), code);
                if (refused) return done(json_error(status::unprocessable_entity, *refused, "source"));
                done(json_response(status::created, ban ? *ban : json::object{}));
            });
        });
    }
    if (seg.size() == 2 && r.method == verb::delete_) {
        const auto address = address_of(seg[1]);
        if (!address) return done(json_error(status::bad_request, "'" + seg[1] + "' is not an IPv4 or IPv6 address"));
        return asio::post(sip_ex_, [this, gate, a = *address, remote = r.remote, op = r.operation(),
                                    done = std::move(done)]() mutable {
            const bool was = gate->remove_ban(a);
            for (std::size_t i = 1; i < workers_.size(); ++i) {
                asio::post(workers_[i].executor, [core = workers_[i].core, a] {
                    if (auto* g = core->gate()) (void)g->remove_ban(a);
                });
            }
            asio::post(http_ex_, [this, was, a, remote, op, done = std::move(done)] {
                if (!was) return done(json_error(status::not_found, a.to_string() + " is not banned"));
                record_audit(remote, op, "unban " + a.to_string(), 204);
                done(http::response{.status = status::no_content, .content_type = ""});
            });
        });
    }
    if (seg.size() > 2) return done(json_error(status::not_found, "no such resource: /api/v1/" + r.path));
    auto rsp = json_error(status::method_not_allowed, std::string(boost::beast::http::to_string(r.method)) +
                                                          " is not allowed here");
    rsp.headers.set(boost::beast::http::field::allow, seg.size() == 1 ? "GET, POST" : "DELETE");
    done(std::move(rsp));
}

}  // namespace b2b::admin
