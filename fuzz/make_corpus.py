#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ from ../shared/testdata (the RFC 4475
torture messages, the digest vectors) and the inputs of the unit and end-to-end tests.

Run from anywhere: python3 fuzz/make_corpus.py. Each seed is named by the SHA-1 of its bytes
(libFuzzer's own naming), so running it again changes nothing unless a source changed.
"""
import ast
import hashlib
import json
import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "testdata"
OUT = ROOT / "fuzz" / "corpus"

# C++ string literals: raw R"(...)" and ordinary "..." (escapes decoded the C way).
RAW = re.compile(r'R"\((.*?)\)"', re.S)
PLAIN = re.compile(r'(?<![R\w])"((?:[^"\\\n]|\\.)*)"')


def c_unescape(s: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = s[i + 1]
        i += 2
        if n in "\"'\\?":
            out += n.encode()
        elif n in "nrt0":
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "0": b"\0"}[n]
        elif n == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", s[i:])
            out.append(int(m.group(0), 16))
            i += len(m.group(0))
        else:
            out += n.encode()
    return bytes(out)


def literals(path: pathlib.Path):
    text = path.read_text(encoding="utf-8")
    for m in RAW.finditer(text):
        yield m.group(1).encode()
    for m in PLAIN.finditer(RAW.sub("", text)):
        yield c_unescape(m.group(1))


def write(target: str, seeds):
    d = OUT / target
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    n = 0
    for s in seeds:
        if not s:
            continue
        (d / hashlib.sha1(s).hexdigest()).write_bytes(s)
        n += 1
    print(f"{target}: {len(list(d.iterdir()))} seeds")


def main():
    torture = sorted((SHARED / "rfc4475").glob("*.dat"))
    messages = [p.read_bytes() for p in torture]
    unit_msgs = [s for f in ("message_test.cpp", "stream_test.cpp", "robustness_test.cpp")
                 for s in literals(ROOT / "tests/unit/sip/message" / f)
                 if re.match(rb"^[A-Z]+ \S+ SIP/2\.0\r\n|^SIP/2\.0 \d{3}", s) and len(s) < 4096]

    write("sip_message_fuzz", messages + unit_msgs)

    # The stream framer's first octet is its read size: seeds read 7 octets at a time, one
    # with keep-alives in front, one as two pipelined messages.
    framed = [m for m in messages + unit_msgs if re.search(rb"\n(Content-Length|l)\s*:", m, re.I)]
    write("sip_stream_fuzz", [b"\x06" + m for m in framed] +
          [b"\x00\r\n\r\n" + framed[0], b"\x3f" + framed[0] + framed[-1]])

    uris = set()
    for m in messages:
        start = m.split(b"\r\n", 1)[0].split(b" ")
        if len(start) == 3 and not start[0].startswith(b"SIP/"):
            uris.add(start[1])
        uris.update(re.findall(rb"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\r\n]{1,200})>", m))
    for s in literals(ROOT / "tests/unit/sip/message/uri_test.cpp"):
        if re.match(rb"^[a-zA-Z][a-zA-Z0-9+.-]*:", s) and len(s) < 512:
            uris.add(s)
    write("uri_fuzz", sorted(uris))

    digest = []
    for s in literals(ROOT / "tests/unit/auth/digest_header_test.cpp"):
        if s.lower().startswith(b"digest"):
            digest += [b"\x00" + s, b"\x01" + s]
    for v in json.loads((SHARED / "digest/vectors.json").read_text())["vectors"]:
        alg = f", algorithm={v['algorithm']}" if v.get("algorithm") else ""
        qop = f', qop="{v["qop"]}"' if v.get("qop") else ""
        opaque = f', opaque="{v["opaque"]}"' if v.get("opaque") else ""
        digest.append(b"\x00" + f'Digest realm="{v["realm"]}", nonce="{v["nonce"]}"{opaque}{alg}{qop}'.encode())
        cred = (f'Digest username="{v["username"]}", realm="{v["realm"]}", nonce="{v["nonce"]}", '
                f'uri="{v["uri"]}", response="{v.get("expected_response", "")}"{alg}{opaque}')
        if v.get("qop"):
            cred += f', qop={v["qop"]}, nc={v["nc"]}, cnonce="{v["cnonce"]}"'
        if v.get("userhash"):
            cred += ", userhash=true"
        digest.append(b"\x01" + cred.encode())
    write("digest_fuzz", digest)

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    configs = [b.encode() for b in re.findall(r"```yaml\n(.*?)```", readme, re.S)]
    configs += [(ROOT / "deploy/demo.yaml").read_bytes()]
    # The same blocks with their commented examples uncommented (the readme.configs test's way).
    configs += [re.sub(rb"(?m)^(\s*)# ?(?=[a-z_-]+:|- )", rb"\1", c) for c in configs]
    write("config_fuzz", configs)

    # Bodies the e2e cases send, each with the operation octet of admin_body_fuzz.cpp.
    ops = {("POST", "/api/v1/trunks"): 0, ("PUT", "/api/v1/trunks/"): 1, ("PATCH", "/api/v1/trunks/"): 2,
           ("POST", "/api/v1/users"): 4, ("PUT", "/api/v1/users/"): 5, ("PATCH", "/api/v1/users/"): 6,
           ("PUT", "/api/v1/routes"): 7, ("PUT", "/api/v1/inbound-routes"): 8, ("PUT", "/api/v1/log-level"): 9}
    bodies = []
    call = re.compile(r'api\(\w+, "(POST|PUT|PATCH)", f?"(/api/v1/[a-z-]+/?)[^"]*",\s*(\{.*?\})\)', re.S)
    for f in sorted((ROOT / "tests/e2e").glob("cases_*.py")):
        for method, path, body in call.findall(f.read_text(encoding="utf-8")):
            op = ops.get((method, path))
            if op is None:
                continue
            try:
                doc = ast.literal_eval(body)
            except (ValueError, SyntaxError):
                continue  # built from variables
            bodies.append(bytes([op]) + json.dumps(doc).encode())
    bodies += [bytes([8]) + json.dumps({"inbound_routes": [{"prefix": "+4930", "to": "sip:127.0.0.1:5080",
                                                             "strip": 3, "prepend": "0"}]}).encode(),
               bytes([6]) + json.dumps({"password": None, "ha1": "0" * 32}).encode(),
               bytes([3]) + json.dumps({"uri": "sips:trunk.example.com;transport=tls", "register": True,
                                        "username": "u", "password": "p", "max_calls": 5}).encode()]
    write("admin_body_fuzz", bodies)


if __name__ == "__main__":
    main()
