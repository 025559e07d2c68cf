#!/usr/bin/env python3
"""Writes the generated seeds of tests/fuzz/corpus: tiny layer tars (plain,
gzip, a few hostile shapes), DNS packets, manifest JSON and HTTP requests.
The Compose and config.json seeds are copied files (see README.md).
Deterministic: re-running it rewrites identical bytes.

  python3 tests/fuzz/make_seeds.py
"""
import gzip
import io
import json
import os
import struct
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- layer tars ----

def tar(entries, fmt=tarfile.USTAR_FORMAT):
    """entries: (name, type, extra dict). Trailing zero records are cut to the
    end marker, keeping seeds ~1-3 KB."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, extra in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            info.mode = extra.get("mode", 0o644 if kind == "file" else 0o755)
            data = extra.get("data", b"")
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = extra["to"]
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = extra["to"]
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            elif kind == "chr":
                info.type = tarfile.CHRTYPE
                info.devmajor, info.devminor = extra.get("dev", (1, 3))
            if "pax" in extra:
                info.pax_headers = extra["pax"]
            info.size = len(data)
            t.addfile(info, io.BytesIO(data) if kind == "file" else None)
    raw = buf.getvalue()
    end = len(raw.rstrip(b"\0"))
    end = (end + 511) // 512 * 512 + 1024  # two zero blocks: the end marker
    return raw[:end]


def layer_seeds():
    t = "fuzz_layer_unpack"
    basic = tar([
        ("etc/", "dir", {}),
        ("etc/hostname", "file", {"data": b"stack\n"}),
        ("bin/", "dir", {}),
        ("bin/busybox", "file", {"data": b"\x7fELF", "mode": 0o755}),
        ("bin/sh", "symlink", {"to": "busybox"}),
        ("bin/ls", "hardlink", {"to": "bin/busybox"}),
    ])
    write(t, "basic.tar", basic)
    write(t, "basic.tar.gz", gzip.compress(basic, mtime=0))
    write(t, "whiteouts.tar", tar([
        ("etc/", "dir", {}),
        ("etc/.wh.hostname", "file", {}),
        ("var/", "dir", {}),
        ("var/.wh..wh..opq", "file", {}),
    ]))
    # Hostile shapes the unpacker must refuse or keep inside the root.
    write(t, "escape_dotdot.tar", tar([("../evil", "file", {"data": b"x"})]))
    write(t, "escape_symlink.tar", tar([
        ("up", "symlink", {"to": "../../.."}),
        ("up/evil", "file", {"data": b"x"}),
        ("abs", "symlink", {"to": "/"}),
        ("abs/tmp/evil", "file", {"data": b"x"}),
    ]))
    write(t, "escape_hardlink.tar", tar([
        ("link", "hardlink", {"to": "../../etc/passwd"}),
        ("dir/", "dir", {}),
        ("dir/x", "symlink", {"to": "/etc"}),
        ("y", "hardlink", {"to": "dir/x"}),
    ]))
    write(t, "replace.tar", tar([
        ("a/", "dir", {}),
        ("a/b", "file", {"data": b"1"}),
        ("a", "file", {"data": b"now a file"}),
        ("a/", "dir", {}),
        ("p", "fifo", {}),
        ("d", "chr", {"dev": (1, 3)}),
    ]))
    write(t, "pax_xattr.tar", tar([
        ("f", "file", {"data": b"x", "pax": {"SCHILY.xattr.user.k": "v",
                                             "SCHILY.xattr.trusted.overlay.opaque": "y",
                                             "path": "long/" + "n" * 120}}),
    ], fmt=tarfile.PAX_FORMAT))
    write(t, "gnu_longname.tar", tar([("d" * 150 + "/f", "file", {"data": b"x"})], fmt=tarfile.GNU_FORMAT))


# ---- DNS ----

def dns_query(name, qtype=1, qid=0x1234, edns=None, flags=0x0100):
    out = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    for label in name.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    out += b"\0" + struct.pack(">HH", qtype, 1)
    if edns:
        out += b"\0" + struct.pack(">HHIH", 41, edns, 0, 0)
    return out


def dns_seeds():
    t = "fuzz_dns_message"
    write(t, "a_web.bin", dns_query("web.shop"))
    write(t, "aaaa_edns.bin", dns_query("shop-web-1", qtype=28, edns=1232))
    write(t, "case_0x20.bin", dns_query("WeB.ShOp.", edns=4096))
    write(t, "any_root.bin", dns_query("", qtype=255))
    # Compression pointer in the question (points back into the header: refused)
    # and one in the additional section's owner name.
    write(t, "pointer.bin", struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + b"\0\x01\0\x01")
    q = dns_query("api.shop")
    write(t, "record_pointer.bin", q[:10] + b"\0\x01" + q[12:] + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + b"\x0a\0\0\x01")
    # An answer, as the client side parses it.
    resp = bytearray(dns_query("web.shop"))
    resp[2] = 0x85
    resp[3] = 0x80
    resp[6:8] = b"\0\x01"
    resp += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + bytes([172, 17, 0, 2])
    write(t, "response.bin", bytes(resp))
    # A pointer chain (each pointer to the one before) in a record's data,
    # named by 160 records: parse cost grew as chain x records before the
    # parser capped pointers per name.
    chain = bytearray(struct.pack(">HHHHHH", 1, 0x0100, 1, 0, 0, 161) + b"\x01a\0\0\x01\0\x01")
    chain += b"\0" + struct.pack(">HHIH", 1, 1, 0, 2000)
    at = len(chain)
    for i in range(1000):
        chain += struct.pack(">H", 0xC000 | (12 if i == 0 else at + 2 * (i - 1)))
    chain += (struct.pack(">H", 0xC000 | (at + 2 * 999)) + struct.pack(">HHIH", 1, 1, 0, 0)) * 160
    write(t, "dos-pointer-chain.bin", bytes(chain))


# ---- image JSON (first byte: which Content-Type the registry claimed) ----

def manifest_seeds():
    t = "fuzz_image_manifest"
    d = "sha256:" + "a" * 64
    oci_manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d, "size": 1469},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                "digest": "sha256:" + "b" * 64, "size": 2479431}]}
    docker_manifest = dict(oci_manifest, mediaType="application/vnd.docker.distribution.manifest.v2+json")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": 1,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "c" * 64, "size": 1,
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
         "annotations": {"org.opencontainers.image.ref.name": "1"}}]}
    config = {"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
              "config": {"User": "65532", "Env": ["PATH=/bin"], "Entrypoint": ["/bin/sh"], "Cmd": ["-c", "true"],
                         "WorkingDir": "/app", "ExposedPorts": {"3000/tcp": {}}, "Volumes": {"/data": {}},
                         "Labels": {"a": "b"}, "StopSignal": "SIGTERM",
                         "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 5000000000, "Retries": 3}},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "d" * 64, "sha256:" + "e" * 64]}}
    write(t, "oci_manifest.json", b"\x00" + json.dumps(oci_manifest).encode())
    write(t, "docker_manifest.json", b"\x03" + json.dumps(docker_manifest).encode())
    write(t, "oci_index.json", b"\x02" + json.dumps(index).encode())
    write(t, "docker_list.json", b"\x04" + json.dumps(dict(index, mediaType=
          "application/vnd.docker.distribution.manifest.list.v2+json")).encode())
    write(t, "config.json", b"\x00" + json.dumps(config).encode())


# ---- API requests (raw bytes on stackd's socket) ----

def http(method, target, body=None, headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"] + list(headers)
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + (body or "")).encode()


def api_seeds():
    t = "fuzz_api_request"
    project = {"name": "shop", "services": {"web": {"image": "busybox", "ports": [
        {"target": 80, "published": "8080", "protocol": "tcp"}]}}}
    write(t, "version.http", http("GET", "/v1/version"))
    write(t, "ps_pipelined.http", http("GET", "/v1/stacks/_all/ps") + http("GET", "/v1/stacks") +
          http("GET", "/v1/stacks/shop"))
    write(t, "up.http", http("POST", "/v1/stacks/shop/up", json.dumps(
        {"project": project, "services": ["web"], "wait": True, "wait_timeout_ms": 1000, "pull": "missing"})))
    write(t, "scale.http", http("POST", "/v1/stacks/shop/scale", '{"replicas": {"web": 3}}'))
    write(t, "stop.http", http("POST", "/v1/stacks/shop/stop", '{"services": ["web"]}'))
    write(t, "down.http", http("POST", "/v1/stacks/shop/down?volumes=1"))
    write(t, "logs.http", http("GET", "/v1/stacks/shop/logs?follow=1&tail=10&service=web&since=%31"))
    write(t, "events.http", http("GET", "/v1/events?since=0&stack=shop"))
    exec_body = json.dumps({"service": "web", "index": 1, "cmd": ["sh"], "tty": True, "interactive": True,
                            "env": ["A=b"], "user": "0", "workdir": "/"})
    frames = bytes([0]) + struct.pack(">I", 3) + b"ls\n" + bytes([4]) + struct.pack(">I", 4) + \
        struct.pack(">HH", 24, 80) + bytes([0]) + struct.pack(">I", 0)
    write(t, "exec_frames.http", http("POST", "/v1/stacks/shop/exec", exec_body,
                                      ["Connection: Upgrade", "Upgrade: stack-stream"]) + frames)
    write(t, "run.http", http("POST", "/v1/stacks/shop/run", json.dumps({"service": "web", "rm": True}),
                              ["Connection: Upgrade", "Upgrade: stack-stream"]))
    write(t, "chunked.http", b"POST /v1/stacks/shop/restart HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
          b"\r\n5\r\n{\"ser\r\n11\r\nvices\": [\"web\"]}\r\n0\r\n\r\n")
    write(t, "bad_json.http", http("POST", "/v1/stacks/shop/start", '{"services": [1]'))


if __name__ == "__main__":
    layer_seeds()
    dns_seeds()
    manifest_seeds()
    api_seeds()
