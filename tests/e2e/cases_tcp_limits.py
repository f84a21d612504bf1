"""TCP under attack (issue 8): connection budgets per source, and peers that never read.

Runs inside test_e2e.py's namespace (check, Session, ports, config_yaml, harness...)."""
import resource
import socket
import threading
import time


def _options(local_port: int, n: int, sip: int) -> bytes:
    return (f"OPTIONS sip:{HOST}:{sip};transport=tcp SIP/2.0\r\n"
            f"Via: SIP/2.0/TCP {HOST}:{local_port};branch=z9hG4bK-lim-{n}\r\nMax-Forwards: 70\r\n"
            f"To: <sip:{HOST}:{sip}>\r\nFrom: <sip:lim@{HOST}>;tag=lim{n}\r\nCall-ID: lim-{n}@{HOST}\r\n"
            f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode()


def _raise_open_files(wanted: int):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        check(hard == resource.RLIM_INFINITY or hard >= wanted,
              f"this test needs {wanted} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def case_tcp_connection_flood(binary):
    """1,500 connections from 127.0.0.5 (the defaults: max_connections 4096, 64 per source): 64 are
    held, the others closed at once and counted (reason source_limit), in a handful of log lines; a
    PBX on 127.0.0.1 still connects and gets its OPTIONS answered while the flood holds its 64."""
    sip, http, trunk_port, _ = ports()
    config = config_yaml(sip, http, trunk_port, tcp=True)
    flood = 1500
    _raise_open_files(flood + 256)
    with Session(binary) as s:
        b2bua = s.start_b2bua(config, sip, http, tcp=True)
        attackers: list[socket.socket] = []
        try:
            t0 = time.monotonic()
            for _ in range(flood):
                a = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                a.bind(("127.0.0.5", 0))
                a.settimeout(5)
                a.connect((HOST, sip))
                attackers.append(a)
            opened = time.monotonic() - t0

            def settled():
                text = scrape(http)
                return (metric(text, "b2bua_sip_connections_refused_total", transport="tcp",
                               reason="source_limit") == flood - 64 and
                        metric(text, "b2bua_sip_connections", transport="tcp", direction="inbound") == 64)
            harness.wait_until(settled, 10, f"{flood - 64} refusals and 64 held connections")

            # Another address is not locked out: connect, ask, get the answer at once.
            t1 = time.monotonic()
            with socket.create_connection((HOST, sip), timeout=3) as pbx:
                pbx.sendall(_options(pbx.getsockname()[1], 1, sip))
                answer = pbx.recv(65535).decode(errors="replace")
            answered = time.monotonic() - t1
            check(answer.startswith("SIP/2.0 200"), f"the PBX's OPTIONS during the flood: {answer[:80]!r}")
            check(answered < 1.0, f"the PBX's OPTIONS took {answered:.2f} s during the flood")

            # Those held stay held; those refused were closed by the b2bua.
            closed = 0
            for a in attackers:
                a.setblocking(False)
                try:
                    closed += a.recv(1) == b""
                except (BlockingIOError, ConnectionResetError) as e:
                    closed += isinstance(e, ConnectionResetError)
            check(closed == flood - 64, f"{closed} of the flood's connections were closed, expected {flood - 64}")
        finally:
            for a in attackers:
                a.close()
        log = b2bua.log()
        lines = [line for line in log.splitlines() if "holds its limit" in line]
        check(1 <= len(lines) <= 3, f"{len(lines)} log lines for {flood - 64} refused connections:\n" +
              "\n".join(lines[:5]))
    print(f"tcp_connection_flood: {flood} connections from 127.0.0.5 in {opened:.2f} s: 64 held, {flood - 64} "
          f"refused (source_limit) in {len(lines)} log line(s); OPTIONS from 127.0.0.1 answered in "
          f"{answered * 1000:.0f} ms meanwhile")


def case_tcp_peer_never_reads(binary):
    """A peer that sends OPTIONS as fast as it can and reads nothing (a 4 KiB receive buffer): once the
    kernel buffers are full its answers queue up in the b2bua, and past the bound (256 KiB) the
    connection is closed and counted (reason slow_reader). A well-behaved peer is served meanwhile.
    The peer is in security.trusted: over the per-source rate limit its OPTIONS would be dropped
    unanswered, and nothing would queue."""
    sip, http, trunk_port, _ = ports()
    config = config_yaml(sip, http, trunk_port, tcp=True, extra='security:\n  trusted: [ "127.0.0.6" ]\n')
    with Session(binary) as s:
        s.start_b2bua(config, sip, http, tcp=True)
        peer = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.bind(("127.0.0.6", 0))
        peer.connect((HOST, sip))
        local = peer.getsockname()[1]
        sent = 0
        stop = threading.Event()
        error: list[str] = []

        def blast():
            nonlocal sent
            peer.settimeout(1)
            deadline = time.monotonic() + 20
            try:
                while not stop.is_set() and time.monotonic() < deadline:
                    peer.sendall(b"".join(_options(local, sent + i, sip) for i in range(100)))
                    sent += 100
            except socket.timeout:
                pass  # the b2bua stopped reading too: it is closing us, or about to
            except OSError as e:  # reset / broken pipe: closed by the b2bua
                error.append(str(e))

        t = threading.Thread(target=blast, daemon=True)
        t0 = time.monotonic()
        t.start()
        try:
            harness.wait_until(lambda: metric(scrape(http), "b2bua_sip_connections_closed_total", transport="tcp",
                                              reason="slow_reader") == 1, 25, "the non-reading peer to be closed")
            took = time.monotonic() - t0
            with socket.create_connection((HOST, sip), timeout=3) as pbx:
                pbx.sendall(_options(pbx.getsockname()[1], 0, sip))
                answer = pbx.recv(65535).decode(errors="replace")
            check(answer.startswith("SIP/2.0 200"), f"a reading peer's OPTIONS: {answer[:80]!r}")
        finally:
            stop.set()
            t.join(5)
            peer.close()
    print(f"tcp_peer_never_reads: closed after {sent} unread OPTIONS in {took:.1f} s (slow_reader); "
          "another peer answered afterwards")
