// The "why 401" record: the most recent authentication failures, folded per source and minute.
#pragma once

#include "auth/failure.hpp"
#include "sip/transport/flow.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace b2b::b2bua {

/// Which side failed: downstream = a PBX and us (we challenge it, or a PBX target challenges
/// us), upstream = a trunk's provider challenging us.
enum class auth_direction : std::uint8_t { downstream, upstream };
std::string_view to_string(auth_direction d) noexcept;
std::optional<auth_direction> parse_auth_direction(std::string_view s) noexcept;

/// What was seen of one authentication failure. Text fields hold what the peer sent: they are
/// cut to `auth_failure_log::max_field` bytes and made printable when stored. Never a password,
/// an HA1 or a digest response: nothing here may help an attacker who reads the admin API.
struct auth_failure_record {
    std::chrono::system_clock::time_point time;  ///< wall clock, injected by the caller
    auth_direction direction = auth_direction::downstream;
    auth::failure reason = auth::failure::malformed_credentials;
    /// Where the request came from (downstream, we verify it); none upstream.
    std::optional<sip::endpoint> source;
    std::string username;       ///< the user name claimed, or ours answering a challenge
    std::string realm;          ///< the realm seen: answered for (downstream), challenged with (upstream)
    std::string our_realm;      ///< downstream: the realm we challenge with
    std::string trunk;          ///< upstream: the trunk's name
    std::string peer;           ///< the label operators filter by: our realm (PBXs) or trunk / PBX target name
    std::string peer_host;      ///< the host of the provider or PBX target that challenged us
    std::string method;         ///< of the request that failed
    std::string call_id;        ///< of that leg
    int status = 0;             ///< the final response (ours downstream, the peer's upstream); 0 none
    std::string reason_phrase;  ///< of the peer's response (upstream)
    std::string warning;        ///< the peer's Warning header (upstream)
    std::string algorithm_asked;  ///< the algorithm the peer answered with (down) or challenged with (up)
    std::vector<std::string> algorithms_offered;  ///< what we offered (down) or support (up)
    /// Our REGISTER to this trunk was refused this many times in a row, this one included
    /// (0: not a registration, or not counted).
    unsigned refused_in_a_row = 0;
};

/// One line of the log: the failures of one (source address or peer, direction, reason) in one
/// minute, the last one's facts kept.
struct auth_failure_entry {
    auth_failure_record last;
    std::chrono::system_clock::time_point first;
    std::uint64_t count = 1;
};

/// GET /api/v1/auth/failures?direction=&reason=&peer=&since=&limit=
struct auth_failure_filter {
    std::optional<auth_direction> direction;
    std::optional<auth::failure> reason;
    /// Matches the peer label, the trunk name or the source address (without port).
    std::string peer;
    std::optional<std::chrono::system_clock::time_point> since;  ///< last seen at or after
    std::size_t limit = 100;
};

/// GET /api/v1/auth/summary?window=1h
struct auth_failure_summary {
    struct count_row {
        auth_direction direction = auth_direction::downstream;
        auth::failure reason = auth::failure::malformed_credentials;
        std::string peer;
        std::uint64_t count = 0;
    };
    struct source_row {
        std::string source;  ///< address, without port
        std::uint64_t count = 0;
    };
    std::chrono::seconds window{0};
    std::vector<count_row> counts;        ///< most first
    std::vector<source_row> top_sources;  ///< downstream failures by source address, most first
};

/// A bounded ring of authentication failures for operators ("why was that 401?"). Failures of
/// the same direction and reason from one source address (downstream) or one peer (upstream)
/// within the same wall-clock minute fold into one entry with a count, so one source under
/// attack takes one entry a minute and cannot flush everything else out. When full, the entry
/// made first goes.
///
/// Sans-I/O: each record carries its time. Memory: `capacity` entries of fields cut to
/// `max_field` bytes.
///
/// @par Thread safety
/// None: owned by the core, on the SIP event loop; the admin API reads it by posting there.
class auth_failure_log {
public:
    /// Stored text fields longer than this are cut (at a UTF-8 boundary) and marked.
    static constexpr std::size_t max_field = 128;
    /// What a cut field ends with.
    static constexpr std::string_view truncation_mark = "...(truncated)";
    /// How many sources `summary` lists at most.
    static constexpr std::size_t top_sources = 10;

    /// `capacity` 0 keeps nothing (the log is off).
    explicit auth_failure_log(std::size_t capacity);

    void record(auth_failure_record r);

    /// Matching entries, newest (last seen) first, at most `filter.limit`.
    std::vector<auth_failure_entry> query(const auth_failure_filter& filter) const;
    /// Counts of entries last seen within `window` before `now`, with the `sources` sources seen
    /// most (all of them for `merge_summaries`).
    auth_failure_summary summary(std::chrono::seconds window, std::chrono::system_clock::time_point now,
                                 std::size_t sources = top_sources) const;

    /// What folds failures into one entry: direction, reason, source address (or peer), minute.
    static std::string fold_key(const auth_failure_record& r);

    std::size_t size() const noexcept { return entries_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }

private:
    std::size_t capacity_;
    std::deque<auth_failure_entry> entries_;  // oldest made first
    std::deque<std::string> keys_;            // fold key of each entry, same order
    std::uint64_t front_seq_ = 0;             // sequence number of entries_.front()
    std::unordered_map<std::string, std::uint64_t> by_key_;  // fold key -> sequence number
};

/// The answers of several logs (one per worker, sip.workers) to one query, as one log would
/// give them: entries of one fold key folded (counts summed, the earliest `first`, the latest
/// facts), newest first, at most `limit`. Each log answered with at most `limit` entries, so
/// a fold may miss what a busier worker no longer listed.
std::vector<auth_failure_entry> merge_failures(std::vector<std::vector<auth_failure_entry>> by_log, std::size_t limit);
/// Summaries of several logs (each listing every source) as one: counts summed by direction,
/// reason and peer, and by source, most first; the sources cut to auth_failure_log::top_sources.
auth_failure_summary merge_summaries(const std::vector<auth_failure_summary>& parts);

/// One plain sentence saying what is wrong and what to check, built from what was seen. Every
/// auth::failure value has one; it never contains a password or a digest response.
std::string hint(const auth_failure_entry& e);

}  // namespace b2b::b2bua
