// Who may authenticate downstream: the credential_store interface and an in-memory store.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "auth/algorithm.hpp"

namespace b2b::auth {

/// One account a PBX may authenticate as. Either a plain password, or precomputed HA1 values
/// (lower-case hex of H(username ":" realm ":" password)) for the server's realm, per algorithm,
/// so that no clear password need be stored. When both exist for an algorithm the HA1 wins.
struct user_credentials {
    std::string username;
    std::optional<std::string> password;
    std::map<algorithm, std::string> ha1;

    /// True when a response with `a` can be checked for this user.
    bool can_verify(algorithm a) const noexcept;

    /// HA1 for `a` in `realm`: the stored value, else computed from the password, else nullopt.
    std::optional<std::string> ha1_for(algorithm a, std::string_view realm) const;
};

/// Looks users up by name for digest_server. Implementations may be backed by memory, a file or
/// a database; lookups happen on the data plane, so they must not block for long.
///
/// @par Thread safety
/// Called only from the event-loop thread that runs the digest_server.
class credential_store {
  public:
    virtual ~credential_store() = default;

    /// The user named exactly `username` (case-sensitive, RFC 7616 §3.4), or nullopt.
    /// Returns a copy so that a later change to the store cannot invalidate the caller's view.
    virtual std::optional<user_credentials> find(std::string_view username) const = 0;

  protected:
    credential_store() = default;
    credential_store(const credential_store&) = default;
    credential_store& operator=(const credential_store&) = default;
};

/// A credential_store held in a map; users can be added, replaced and removed at run time
/// (e.g. by the admin API, which must post those calls onto the event-loop thread).
///
/// @par Thread safety
/// None: every member, including `find` through the interface, must run on the single
/// event-loop thread that owns the store.
class in_memory_credential_store final : public credential_store {
  public:
    in_memory_credential_store() = default;

    /// Adds `user`, replacing any user with the same name. HA1 values are normalised to lower
    /// case. Control plane: throws std::invalid_argument (store unchanged) when the username is
    /// empty, there is neither a password nor an HA1, an HA1 is keyed by a `-sess` algorithm,
    /// or an HA1 is not hex of the algorithm's digest length.
    void set_user(user_credentials user);

    /// Removes the user; returns whether it existed.
    bool remove_user(std::string_view username);

    std::size_t size() const noexcept { return users_.size(); }

    /// Calls `fn` with every user, in name order.
    template <class Fn>
    void for_each(Fn&& fn) const {
        for (const auto& [name, user] : users_) fn(user);
    }

    // credential_store
    std::optional<user_credentials> find(std::string_view username) const override;

  private:
    std::map<std::string, user_credentials, std::less<>> users_;
};

}  // namespace b2b::auth
