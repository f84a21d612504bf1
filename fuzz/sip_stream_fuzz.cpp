// libFuzzer target: a TCP/TLS byte stream through the stream framer (RFC 3261 §18.3) the way
// the transport reads it: a buffer growing a few octets at a time, the search for the end of
// the header section carried from one read to the next, each framed message parsed with
// framing::stream.
//
// Invariants: a frame lies inside the buffer; the incremental search finds the same frame as
// a fresh search over the same bytes; whatever the framer accepts as one message parses (or
// is refused by the parser) without harm.
#include "fuzz/fuzz_check.hpp"
#include "sip/message/message.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace b2b::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    // The first octet sets the read size (1..64 octets per read) and a small header bound now
    // and then, so that both the byte-at-a-time path and the size limit are reached.
    const std::size_t step = (data[0] & 0x3f) + 1;
    const std::size_t max_size = (data[0] & 0x40) ? 512 : 65535;
    const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

    std::string buffer;
    std::size_t searched = 0;
    std::size_t offset = 0;
    while (offset < stream.size()) {
        const std::size_t n = std::min(step, stream.size() - offset);
        buffer.append(stream.substr(offset, n));
        offset += n;
        for (;;) {
            auto f = frame_stream(buffer, max_size, &searched);
            // Compared with a fresh search where the transport acts on the answer (a frame, an
            // error) and after the last read; in between the buffer only waits for more.
            if (!f || f->size != 0 || offset == stream.size()) {
                auto fresh = frame_stream(buffer, max_size);
                B2B_FUZZ_CHECK(static_cast<bool>(f) == static_cast<bool>(fresh));
                if (f) {
                    B2B_FUZZ_CHECK(f->leading_crlf == fresh->leading_crlf);
                    B2B_FUZZ_CHECK(f->size == fresh->size);
                }
            }
            if (!f) return 0;  // the connection would be closed
            B2B_FUZZ_CHECK(f->leading_crlf + f->size <= buffer.size());
            if (f->size == 0) {
                // Keep-alives go; the search restarts after them (the offset is into `buffer`).
                buffer.erase(0, f->leading_crlf);
                searched -= std::min(searched, f->leading_crlf);
                break;
            }
            const std::string_view one = std::string_view(buffer).substr(f->leading_crlf, f->size);
            if (auto m = parse_message(one, framing::stream, max_size)) {
                B2B_FUZZ_CHECK(m->wire() == one);
                B2B_FUZZ_CHECK(m->content_length().has_value());
                B2B_FUZZ_CHECK(m->body().size() == *m->content_length());
                (void)(m->is_request() ? validate_request(*m) : validate_response(*m));
            }
            buffer.erase(0, f->leading_crlf + f->size);
            searched = 0;
        }
    }
    return 0;
}
