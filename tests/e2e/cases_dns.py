"""Trunks named by host, located by DNS (RFC 3263) through dnsmasq on 127.0.0.1.

Runs inside test_e2e.py's namespace (check, Session, harness, SCENARIOS...: see _case_modules)."""

DNSMASQ = Path("/usr/sbin/dnsmasq")
DNS_TTL = 2  # seconds: the TTL of every record dnsmasq serves here
PROVIDER = "provider.test"


def start_dnsmasq(s: Session, name: str, port: int, records: list[str]) -> harness.Process:
    """dnsmasq in the foreground on udp/tcp 127.0.0.1:`port`, answering only from `records` (no
    resolv.conf, no /etc/hosts, no upstream), every answer with TTL DNS_TTL. Ready once it
    answers a query (a UDP socket bound on the port)."""
    check(DNSMASQ.exists(), "dnsmasq is not installed (deploy/install-deps.sh installs dnsmasq-base)")
    proc = s.start_process(name, [
        str(DNSMASQ), "--keep-in-foreground", "--log-facility=-", "--log-queries", "--conf-file=/dev/null",
        "--no-resolv", "--no-hosts", "--no-poll", "--pid-file=", "--bind-interfaces", "--listen-address=127.0.0.1",
        f"--port={port}", f"--local-ttl={DNS_TTL}", f"--auth-ttl={DNS_TTL}",
        # As root it would drop to "nobody"; it needs no privilege on a port above 1024.
        *(["--user=root"] if os.geteuid() == 0 else []), *records], cwd=s.workdir)
    harness.wait_until(lambda: harness.udp_bound(port) or not proc.alive(), 10, "dnsmasq listening")
    check(proc.alive(), f"dnsmasq exited:\n{proc.log()}")
    return proc


def provider_records(srv: list[tuple[str, str, int, int]]) -> list[str]:
    """NAPTR provider.test -> _sip._udp.provider.test (SIP+D2U) -> SRV records (host, ip, port, priority)
    -> A records."""
    out = [f"--naptr-record={PROVIDER},10,10,S,SIP+D2U,,_sip._udp.{PROVIDER}"]
    for host, ip, port, priority in srv:
        out.append(f"--srv-host=_sip._udp.{PROVIDER},{host}.{PROVIDER},{port},{priority},10")
        out.append(f"--host-record={host}.{PROVIDER},{ip}")
    return out


def dns_config(sip: int, http: int, dns_port: int, trunk_extra: str = "") -> str:
    trunk = f'{{ name: carrier, uri: "sip:{PROVIDER}", username: trunkuser, password: trunkpass{trunk_extra} }}'
    return harness.trunks_config_yaml(sip, http, [trunk], ['{ prefix: "", trunk: carrier }'],
                                      extra=f'dns:\n  servers: [ "127.0.0.1:{dns_port}" ]\n')


def wait_for_log(proc: harness.Process, text: str, timeout: float):
    harness.wait_until(lambda: text in proc.log(), timeout, f"the b2bua log line {text!r}")


def case_dns_srv_failover(binary: Path):
    """sip:provider.test: NAPTR -> SRV -> A. The first SRV record (priority 10) points at 127.0.0.2, where
    nothing answers; the second (priority 20) at a SIPp UAS on 127.0.0.3. The call gets no provisional
    from the first target within invite_timeout_ms and goes to the second: answered."""
    sip, http, _, pbx_port = ports()
    dns_port = free_port()
    dead_port, live_port = free_port(host="127.0.0.2"), free_port(host="127.0.0.3")
    with Session(binary) as s:
        start_dnsmasq(s, "dnsmasq", dns_port, provider_records([("dead", "127.0.0.2", dead_port, 10),
                                                                 ("live", "127.0.0.3", live_port, 20)]))
        b2bua = s.start_b2bua(dns_config(sip, http, dns_port, ", invite_timeout_ms: 1000"), sip, http)
        live_targets = f"UDP 127.0.0.2:{dead_port}, UDP 127.0.0.3:{live_port}"
        wait_for_log(b2bua, f"{PROVIDER} resolves to {live_targets}", 10)
        live = s.start_sipp_server("live", SHARED_SCENARIOS / "trunk_uas_auth.xml", live_port, local_ip="127.0.0.3")
        with harness.RawUdp("127.0.0.2", dead_port) as silent:
            pbx = sipp_calls(s, "pbx", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, 1, 1, PBX_AUTH)
            dead_got = []
            while (m := silent.recv(0.5)) is not None:
                dead_got.append(m)
        live_r = stop_trunk(s, live)
        all_passed(pbx, live_r, 1)
        check(any(start_line(m).startswith("INVITE") for m in dead_got),
              f"the first SRV target got no INVITE: {[start_line(m) for m in dead_got]}")
        log = b2bua.log()
        check(f"target UDP 127.0.0.2:{dead_port} failed (timeout); trying its next target UDP 127.0.0.3:{live_port}"
              in log, "expected the log line of the move to the next target")
        check(metric(scrape(http), "b2bua_calls_total", trunk="carrier", result="answered") == 1, "answered")
        print(f"dns_srv_failover: {PROVIDER} -> {live_targets}; the first target stayed silent, "
              f"the call was answered at the second")


def case_dns_ttl_followed(binary: Path):
    """The records change (dnsmasq restarted on the same port with new ones, TTL 2 s): once the TTL has
    run out the b2bua locates provider.test again, and the next call goes to the new target."""
    sip, http, _, pbx_port = ports()
    dns_port = free_port()
    old_port, new_port = free_port(host="127.0.0.3"), free_port(host="127.0.0.4")
    with Session(binary) as s:
        dns = start_dnsmasq(s, "dnsmasq-old", dns_port, provider_records([("old", "127.0.0.3", old_port, 10)]))
        b2bua = s.start_b2bua(dns_config(sip, http, dns_port), sip, http)
        wait_for_log(b2bua, f"{PROVIDER} resolves to UDP 127.0.0.3:{old_port}", 10)
        old = s.start_sipp_server("old", SHARED_SCENARIOS / "trunk_uas_auth.xml", old_port, local_ip="127.0.0.3")
        pbx1 = sipp_calls(s, "pbx1", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, 1, 1, PBX_AUTH)
        old_r = stop_trunk(s, old)
        all_passed(pbx1, old_r, 1)

        s.stop(dns)
        start_dnsmasq(s, "dnsmasq-new", dns_port, provider_records([("new", "127.0.0.4", new_port, 10)]))
        t0 = time.monotonic()
        wait_for_log(b2bua, f"{PROVIDER} resolves to UDP 127.0.0.4:{new_port}", 20)
        followed = time.monotonic() - t0
        new = s.start_sipp_server("new", SHARED_SCENARIOS / "trunk_uas_auth.xml", new_port, local_ip="127.0.0.4")
        pbx2 = sipp_calls(s, "pbx2", SHARED_SCENARIOS / "pbx_uac_auth.xml", sip, pbx_port, 1, 1, PBX_AUTH)
        new_r = stop_trunk(s, new)
        all_passed(pbx2, new_r, 1)
        check(metric(scrape(http), "b2bua_calls_total", trunk="carrier", result="answered") == 2, "two calls answered")
        print(f"dns_ttl_followed: {PROVIDER} moved from 127.0.0.3:{old_port} to 127.0.0.4:{new_port}; "
              f"followed {followed:.1f} s after the new records were served (TTL {DNS_TTL} s); the next call went there")
