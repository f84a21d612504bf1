// Parser and writer micro-benchmarks on the messages a SIPp PBX call sends and receives.
#include <benchmark/benchmark.h>

#include <string>

#include "sip/message/message.hpp"
#include "sip/message/writer.hpp"

namespace {

using namespace b2b::sip;

const std::string sdp =
    "v=0\r\n"
    "o=pbx 53655765 2353687637 IN IP4 192.168.1.20\r\n"
    "s=-\r\n"
    "c=IN IP4 192.168.1.20\r\n"
    "t=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n";

// The second INVITE of /work/shared/bench/scenarios/pbx_uac_auth.xml, as SIPp expands it.
const std::string invite =
    "INVITE sip:1000@192.168.1.10:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.20:5061;branch=z9hG4bK-31337-1-2\r\n"
    "From: \"pbx\" <sip:pbx@192.168.1.20:5061>;tag=31337PbxTag1\r\n"
    "To: <sip:1000@192.168.1.10:5060>\r\n"
    "Call-ID: 1-31337@192.168.1.20\r\n"
    "CSeq: 2 INVITE\r\n"
    "Contact: <sip:pbx@192.168.1.20:5061>\r\n"
    "Proxy-Authorization: Digest "
    "username=\"pbx\",realm=\"b2bua.example\",cnonce=\"6b8b4567\",nc=00000001,"
    "qop=auth,uri=\"sip:1000@192.168.1.10:5060\",nonce=\"f84f1cec41e6cbe5aea9c8e88d359\","
    "response=\"2a2f0fd3d4b1b7b5d1f2e3c4a5b6c7d8\",algorithm=MD5\r\n"
    "Max-Forwards: 70\r\n"
    "Subject: anchor benchmark\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: " +
    std::to_string(sdp.size()) +
    "\r\n"
    "\r\n" +
    sdp;

const std::string ok200 =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP "
    "192.168.1.20:5061;branch=z9hG4bK-31337-1-2;received=192.168.1.20;rport=5061\r\n"
    "From: \"pbx\" <sip:pbx@192.168.1.20:5061>;tag=31337PbxTag1\r\n"
    "To: <sip:1000@192.168.1.10:5060>;tag=b2b-7f3a9c\r\n"
    "Call-ID: 1-31337@192.168.1.20\r\n"
    "CSeq: 2 INVITE\r\n"
    "Contact: <sip:b2bua@192.168.1.10:5060;transport=udp>\r\n"
    "Record-Route: <sip:192.168.1.10:5060;lr>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
    "Supported: timer\r\n"
    "Server: b2bua/0.1\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: " +
    std::to_string(sdp.size()) +
    "\r\n"
    "\r\n" +
    sdp;

const std::string ack =
    "ACK sip:1000@192.168.1.10:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.20:5061;branch=z9hG4bK-31337-1-4\r\n"
    "From: \"pbx\" <sip:pbx@192.168.1.20:5061>;tag=31337PbxTag1\r\n"
    "To: <sip:1000@192.168.1.10:5060>;tag=b2b-7f3a9c\r\n"
    "Call-ID: 1-31337@192.168.1.20\r\n"
    "CSeq: 2 ACK\r\n"
    "Max-Forwards: 70\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

void parse(benchmark::State& state, const std::string& bytes) {
    for (auto _ : state) {
        auto m = parse_message(bytes);
        if (!m) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(m->cseq().seq);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

void BM_parse_invite_sdp(benchmark::State& state) {
    parse(state, invite);
}
void BM_parse_200_ok_sdp(benchmark::State& state) {
    parse(state, ok200);
}
void BM_parse_ack(benchmark::State& state) {
    parse(state, ack);
}

void BM_parse_and_validate_invite(benchmark::State& state) {
    for (auto _ : state) {
        auto m = parse_message(invite);
        auto v = validate_request(*m);
        benchmark::DoNotOptimize(v.has_value());
    }
}

void BM_frame_stream_invite(benchmark::State& state) {
    for (auto _ : state) {
        auto f = frame_stream(invite);
        benchmark::DoNotOptimize(f->size);
    }
}

// What the B-leg does for each call: an INVITE toward the trunk with our SDP.
void BM_write_invite(benchmark::State& state) {
    const std::string_view branch = "z9hG4bK-b2b-0000000001";
    const std::string_view tag = "b2b-1a2b3c4d";
    unsigned cseq = 1;
    for (auto _ : state) {
        auto bytes =
            message_writer{}
                .request_line("INVITE", "sip:1000@trunk.example.net")
                .header_concat("Via", "SIP/2.0/UDP 203.0.113.5:5060;branch=", branch, ";rport")
                .header(header_id::max_forwards, "69")
                .header_concat("From", "<sip:pbx@203.0.113.5>;tag=", tag)
                .header(header_id::to, "<sip:1000@trunk.example.net>")
                .header(header_id::call_id, "b2b-5f2c7e1d9a@203.0.113.5")
                .header_concat("CSeq", cseq++, " INVITE")
                .header(header_id::contact, "<sip:b2bua@203.0.113.5:5060>")
                .header(header_id::allow, "INVITE, ACK, CANCEL, BYE, OPTIONS")
                .finish(sdp, "application/sdp");
        benchmark::DoNotOptimize(bytes.data());
    }
}

void BM_response_writer_180(benchmark::State& state) {
    auto req = parse_message(invite);
    for (auto _ : state) {
        auto bytes = response_writer(*req, 180, "Ringing", "b2b-7f3a9c")
                         .header("Contact", "<sip:b2bua@192.168.1.10>")
                         .finish();
        benchmark::DoNotOptimize(bytes.data());
    }
}

BENCHMARK(BM_parse_invite_sdp);
BENCHMARK(BM_parse_200_ok_sdp);
BENCHMARK(BM_parse_ack);
BENCHMARK(BM_parse_and_validate_invite);
BENCHMARK(BM_frame_stream_invite);
BENCHMARK(BM_write_invite);
BENCHMARK(BM_response_writer_180);

}  // namespace
