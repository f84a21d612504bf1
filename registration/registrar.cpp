// The registrar for the PBX: RFC 3261 §10.3 steps 5-8 over the bindings of each account.
#include "registration/registrar.hpp"

#include "dialog/session_timer.hpp"
#include "registration/detail/registrar_values.hpp"
#include "sip/message/text.hpp"
#include "sip/message/uri.hpp"
#include "sip/message/values.hpp"

#include <algorithm>
#include <limits>

namespace b2b::registration {

namespace {

using time_point = sip::timer_service::time_point;

register_response refuse(int status, std::string reason) {
    register_response r;
    r.status = status;
    r.reason = std::move(reason);
    return r;
}

bool live(const binding& b, time_point now) noexcept { return b.expires_at > now; }

/// RFC 3327 §4: every Path value of the REGISTER, in order (one header may list several);
/// nothing when one does not parse.
std::optional<std::vector<std::string>> path_of(const sip::message& request) {
    std::vector<std::string> path;
    for (const sip::header_field& h : request.headers()) {
        if (h.id != sip::header_id::other || !sip::iequals(h.name, "Path")) continue;
        auto list = sip::parse_route_list(h.value);
        if (!list) return std::nullopt;
        for (const sip::name_addr& entry : *list) path.emplace_back(entry.text);
    }
    return path;
}

/// The binding a Contact names (§10.3 step 7: "using the URI comparison rules", §19.1.4).
/// Stored URIs were parsed once already, so parsing them again cannot fail.
bool same_contact(const binding& b, const sip::uri& contact) {
    const auto stored = sip::parse_uri(b.contact);
    return stored && sip::equivalent(*stored, contact);
}

/// One Contact of the REGISTER, decided but not yet applied (§10.3 step 7: "tentatively").
struct update {
    const sip::name_addr* contact = nullptr;
    std::uint32_t expires = 0;                                         ///< already capped
    std::size_t existing = std::numeric_limits<std::size_t>::max();  ///< index of its binding, if any
    bool exists() const noexcept { return existing != std::numeric_limits<std::size_t>::max(); }
};

}  // namespace

registrar::registrar(registrar_policy policy, wall_clock wall) : policy_(policy), wall_(std::move(wall)) {
    if (!wall_) wall_ = [] { return std::chrono::system_clock::now(); };
}

register_response registrar::on_register(std::string_view user, const sip::message& request, const sip::flow& source,
                                         time_point now) {
    // §10.3 steps 4-5: the address-of-record is the To URI, and the authenticated account may
    // register only its own (compared unescaped: "%32%30%30" is "200").
    const sip::uri& to = request.to().uri;
    if (!to.is_sip_or_sips() || !to.has_user || sip::unescape(to.user) != user) return refuse(403, "Forbidden");

    std::optional<std::uint32_t> header_expires;
    if (const sip::header_field* h = request.find(sip::header_id::expires)) {
        // RFC 3261 §20.19 would read a malformed value as 3600; we refuse it instead, so the UA
        // learns at once that it is not registered for as long as it thinks.
        header_expires = detail::parse_delta_seconds(h->value);
        if (!header_expires) return refuse(400, "Bad Request");
    }

    auto path = path_of(request);
    if (!path) return refuse(400, "Bad Path");
    // §5.3: a UA that supports Path learns the one stored in the 200.
    const bool echo_path = !path->empty() && dialog::has_option_tag(request, sip::header_id::supported, "path");

    const auto found = bindings_.find(user);
    binding_list* const list = found == bindings_.end() ? nullptr : &found->second;
    const std::string_view call_id = request.call_id();
    const std::uint32_t cseq = request.cseq().seq;
    // §10.3 steps 6-7: a request with the Call-ID of a binding and a CSeq not above the one it
    // recorded is out of order (or replayed): "the update MUST be aborted".
    const auto out_of_order = [&](const binding& b) { return b.call_id == call_id && cseq <= b.cseq; };

    // §10.3 step 8 for a request without Contact: a query.
    if (request.contacts().empty() && !request.contact_is_star()) return ok(list, now, false);

    if (request.contact_is_star()) {
        // §10.3 step 6: "*" only with Expires: 0 and as the only Contact (the parser already
        // refuses "*" next to an address; a second "Contact: *" line is refused here).
        if (request.count(sip::header_id::contact) != 1 || header_expires != 0u) return refuse(400, "Bad Request");
        if (list == nullptr) return ok(nullptr, now, false);
        for (const binding& b : *list) {
            if (live(b, now) && out_of_order(b)) return refuse(400, "Invalid CSeq");
        }
        bindings_.erase(found);
        return ok(nullptr, now, true);
    }

    // §10.3 step 7, first every decision, then (only when all succeed) the commit.
    std::vector<update> updates;
    bool too_brief = false;
    for (const sip::name_addr& c : request.contacts()) {
        // We send calls to a binding ourselves, so it must be a URI we can send to.
        if (!c.uri.is_sip_or_sips()) return refuse(400, "Bad Request");
        std::uint32_t expires = 0;
        if (const auto param = c.param("expires")) {
            const auto v = detail::parse_delta_seconds(*param);
            if (!v) return refuse(400, "Bad Request");
            expires = *v;
        } else if (header_expires) {
            expires = *header_expires;
        } else {
            expires = static_cast<std::uint32_t>(policy_.default_expires.count());
        }
        if (expires != 0 && expires < policy_.min_expires.count()) too_brief = true;
        expires = std::min(expires, static_cast<std::uint32_t>(policy_.max_expires.count()));

        // A Contact listed twice in one request: the last one counts.
        const auto same = std::find_if(updates.begin(), updates.end(), [&](const update& u) {
            return sip::equivalent(u.contact->uri, c.uri);
        });
        update& u = same != updates.end() ? *same : updates.emplace_back();
        u.contact = &c;
        u.expires = expires;
    }
    // "If and only if the expiration interval is less than a minimum ... the registrar MAY
    // reject the registration with a 423" (§10.3 step 7): for the whole request.
    if (too_brief) {
        register_response r = refuse(423, "Interval Too Brief");
        r.headers.emplace_back("Min-Expires", std::to_string(policy_.min_expires.count()));
        return r;
    }

    std::size_t live_count = 0;
    std::size_t added = 0;
    std::size_t removed = 0;
    if (list != nullptr) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            const binding& b = (*list)[i];
            if (!live(b, now)) continue;
            ++live_count;
            for (update& u : updates) {
                if (u.exists() || !same_contact(b, u.contact->uri)) continue;
                if (out_of_order(b)) return refuse(400, "Invalid CSeq");
                u.existing = i;
                if (u.expires == 0) ++removed;
                break;
            }
        }
    }
    for (const update& u : updates) {
        if (!u.exists() && u.expires != 0) ++added;
    }
    if (added > 0 && live_count - removed + added > policy_.max_bindings) {
        return refuse(403, "Too Many Registered Contacts");
    }

    // Commit: this request's bindings first (the most recent), then the others, in their order;
    // removed and expired ones dropped.
    binding_list next;
    bool changed = false;
    for (const update& u : updates) {
        if (u.expires == 0) {
            changed = changed || u.exists();
            continue;
        }
        binding b = u.exists() ? (*list)[u.existing] : binding{};
        b.user = std::string(user);
        b.contact = std::string(u.contact->uri.text);
        b.call_id = std::string(call_id);
        b.cseq = cseq;
        b.source = source;
        b.path = *path;
        if (!b.path.empty()) {
            // RFC 3327 §5.3: requests to it go through the Path, to its first entry (the proxy
            // that handles the UA's NAT, if any; one named by host: the proxy that sent this).
            const auto first = sip::parse_name_addr(b.path.front());
            const auto at = first ? detail::contact_endpoint(first->uri) : std::nullopt;
            b.behind_nat = false;
            b.destination = at ? *at : source.remote;
        } else {
            // RFC 3581 style: a Contact that is not where the REGISTER came from (or a name we
            // would have to resolve) is reached at that source instead.
            const auto at = detail::contact_endpoint(u.contact->uri);
            b.behind_nat = !at || *at != source.remote;
            b.destination = b.behind_nat ? source.remote : *at;
        }
        b.registered_at = now;
        b.expires_at = now + std::chrono::seconds(u.expires);
        next.push_back(std::move(b));
        changed = true;
    }
    if (list != nullptr) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            binding& b = (*list)[i];
            const bool updated = std::any_of(updates.begin(), updates.end(),
                                             [&](const update& u) { return u.existing == i; });
            if (updated) continue;
            if (!live(b, now)) {
                changed = true;
                continue;
            }
            next.push_back(std::move(b));
        }
    }

    if (next.empty()) {
        if (list != nullptr) bindings_.erase(found);
        return ok(nullptr, now, changed, echo_path ? &*path : nullptr);
    }
    binding_list& stored = list != nullptr ? *list : bindings_[std::string(user)];
    stored = std::move(next);
    return ok(&stored, now, changed, echo_path ? &*path : nullptr);
}

register_response registrar::ok(const binding_list* list, time_point now, bool changed,
                                const std::vector<std::string>* path) const {
    register_response r;
    r.status = 200;
    r.reason = "OK";
    r.changed = changed;
    // §10.3 step 8: every current binding, each with its remaining time in "expires". Rounded
    // up, so that a live binding never reads as "expires=0" (which means removed).
    if (list != nullptr) {
        for (const binding& b : *list) {
            if (!live(b, now)) continue;
            const auto remaining = std::chrono::ceil<std::chrono::seconds>(b.expires_at - now);
            r.headers.emplace_back("Contact", "<" + b.contact + ">;expires=" + std::to_string(remaining.count()));
        }
    }
    if (path != nullptr) {
        for (const auto& entry : *path) r.headers.emplace_back("Path", entry);
    }
    // "The response SHOULD include a Date header field" (§10.3 step 8).
    r.headers.emplace_back("Date", detail::format_sip_date(wall_()));
    return r;
}

std::vector<const binding*> registrar::bindings_of(std::string_view user, time_point now) const {
    std::vector<const binding*> out;
    if (const auto it = bindings_.find(user); it != bindings_.end()) {
        for (const binding& b : it->second) {
            if (live(b, now)) out.push_back(&b);
        }
    }
    return out;
}

std::size_t registrar::expire(time_point now) {
    std::size_t removed = 0;
    for (auto it = bindings_.begin(); it != bindings_.end();) {
        removed += std::erase_if(it->second, [&](const binding& b) { return !live(b, now); });
        it = it->second.empty() ? bindings_.erase(it) : std::next(it);
    }
    return removed;
}

std::optional<time_point> registrar::next_expiry() const {
    std::optional<time_point> earliest;
    for (const auto& [user, list] : bindings_) {
        for (const binding& b : list) {
            if (!earliest || b.expires_at < *earliest) earliest = b.expires_at;
        }
    }
    return earliest;
}

void registrar::restore(binding b) {
    auto& list = bindings_[b.user];
    list.push_back(std::move(b));
}

void registrar::replace(std::string_view user, std::vector<binding> now) {
    if (now.empty()) {
        if (auto it = bindings_.find(user); it != bindings_.end()) bindings_.erase(it);
        return;
    }
    auto it = bindings_.find(user);
    if (it == bindings_.end()) it = bindings_.emplace(std::string(user), binding_list{}).first;
    it->second = std::move(now);
}

void registrar::for_each(const std::function<void(const binding&)>& fn) const {
    for (const auto& [user, list] : bindings_) {
        for (const binding& b : list) fn(b);
    }
}

std::size_t registrar::size() const noexcept {
    std::size_t n = 0;
    for (const auto& [user, list] : bindings_) n += list.size();
    return n;
}

}  // namespace b2b::registration
