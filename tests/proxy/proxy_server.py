#!/usr/bin/env python3
"""A SOCKS5 (RFC 1928/1929) and HTTP CONNECT proxy for the tests, and the
ways a proxy can misbehave.

    proxy_server.py MODE [--user U --password P] [--log FILE] [--fault F]

MODE is socks5 or http. It binds 127.0.0.1 on a free port, prints
"PORT <n>" on stdout, and serves until stdin closes (so it never outlives
the test that started it). Targets are resolved here and must be loopback
addresses: the proxy never reaches past this machine. Each tunnel request
is logged to FILE as one JSON line: the target as the client named it, the
address type (SOCKS5) or the request's lines (HTTP), whether the
credentials matched, and how many of the server's bytes went out in the
same write as the proxy's "tunnel open" answer.

Faults (--fault): refuse (SOCKS5 reply 2 / HTTP 403), garbage (an answer in
no protocol), close (close at once), long-header (an HTTP header block
that never ends), greeting-with-200 (HTTP: wait for the server's first
bytes and send them in the same segment as the 200), truncated (SOCKS5:
half a reply, then close), slow-reply (the answer split into single-byte
writes), silent (read, never answer).
"""
import argparse
import asyncio
import base64
import ipaddress
import json
import socket
import sys


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("socks5", "http"))
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--log")
    ap.add_argument("--fault", default="")
    return ap.parse_args()


ARGS = parse_args()


def log(entry):
    if ARGS.log:
        with open(ARGS.log, "a") as f:
            f.write(json.dumps(entry) + "\n")


async def resolve_loopback(host, port):
    """The first loopback address of host, or None."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None
    for fam, _, _, _, addr in infos:
        if ipaddress.ip_address(addr[0].split("%")[0]).is_loopback:
            return fam, addr
    return None


async def open_upstream(host, port):
    found = await resolve_loopback(host, port)
    if not found:
        return None
    try:
        return await asyncio.open_connection(found[1][0], port)
    except OSError:
        return None


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def send(writer, data):
    if ARGS.fault == "slow-reply":
        for i in range(len(data)):
            writer.write(data[i:i + 1])
            await writer.drain()
            await asyncio.sleep(0)
    else:
        writer.write(data)
        await writer.drain()


async def splice(cr, cw, ur, uw, first=b""):
    if first:
        uw.write(first)
    await asyncio.gather(pump(cr, uw), pump(ur, cw))


# ------------------------------------------------------------------ SOCKS5
async def socks5(cr, cw):
    entry = {"kind": "socks5"}
    ver, n = await cr.readexactly(2)
    methods = await cr.readexactly(n)
    entry["methods"] = list(methods)
    if ver != 5:
        return
    if ARGS.fault == "garbage":
        cw.write(b"HTTP/1.0 400 what\r\n\r\n")
        return
    want = 2 if ARGS.user else 0
    if want not in methods:
        cw.write(b"\x05\xff")
        entry["result"] = "no acceptable method"
        log(entry)
        return
    cw.write(bytes([5, want]))
    if want == 2:
        v, ul = await cr.readexactly(2)
        user = (await cr.readexactly(ul)).decode("utf-8", "replace")
        (pl,) = await cr.readexactly(1)
        password = (await cr.readexactly(pl)).decode("utf-8", "replace")
        ok = v == 1 and user == ARGS.user and password == ARGS.password
        entry["auth"] = ok
        entry["user"] = user
        cw.write(b"\x01\x00" if ok else b"\x01\x01")
        if not ok:
            log(entry)
            return
    ver, cmd, _, atyp = await cr.readexactly(4)
    if atyp == 1:
        host = socket.inet_ntop(socket.AF_INET, await cr.readexactly(4))
    elif atyp == 4:
        host = socket.inet_ntop(socket.AF_INET6, await cr.readexactly(16))
    elif atyp == 3:
        (hl,) = await cr.readexactly(1)
        host = (await cr.readexactly(hl)).decode("ascii", "replace")
    else:
        return
    port = int.from_bytes(await cr.readexactly(2), "big")
    entry.update(target=host, port=port, atyp=atyp, cmd=cmd)
    if ARGS.fault == "refuse":
        cw.write(b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00")
        entry["result"] = "refused"
        log(entry)
        return
    if ARGS.fault == "truncated":
        cw.write(b"\x05\x00\x00")
        log(entry)
        return
    up = await open_upstream(host, port)
    if up is None:
        cw.write(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")  # connection refused
        entry["result"] = "connection refused"
        log(entry)
        return
    ur, uw = up
    # Bound to a name, to exercise the longest form of the reply.
    bound = b"proxy.test"
    await send(cw, b"\x05\x00\x00\x03" + bytes([len(bound)]) + bound + b"\x00\x00")
    entry["result"] = "open"
    log(entry)
    await splice(cr, cw, ur, uw)


# -------------------------------------------------------------------- HTTP
async def http(cr, cw):
    entry = {"kind": "http"}
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await cr.read(4096)
        if not chunk:
            return
        head += chunk
        if len(head) > 65536:
            return
    head, _, rest = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    entry["lines"] = [ln for ln in lines if not ln.lower().startswith("proxy-authorization")]
    method, target, _ = (lines[0].split(" ") + ["", "", ""])[:3]
    entry["method"] = method
    entry["target"] = target
    auth_ok = True
    if ARGS.user:
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (ARGS.user, ARGS.password)).encode()).decode()
        got = [ln.split(":", 1)[1].strip() for ln in lines[1:]
               if ln.lower().startswith("proxy-authorization:")]
        auth_ok = got == [want]
        entry["auth"] = auth_ok
    if ARGS.fault == "close":
        log(entry)
        return
    if ARGS.fault == "garbage":
        cw.write(b"\x05\x00\x00\x01garbage\r\n\r\n")
        log(entry)
        return
    if ARGS.fault == "long-header":
        cw.write(b"HTTP/1.1 200 OK\r\n")
        try:
            while True:
                cw.write(b"X-Filler: " + b"a" * 1000 + b"\r\n")
                await cw.drain()
        except (ConnectionError, OSError):
            pass
        return
    if not auth_ok:
        cw.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                 b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
        log(entry)
        return
    if ARGS.fault == "refuse":
        cw.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        log(entry)
        return
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    up = await open_upstream(host, int(port)) if method == "CONNECT" and port.isdigit() else None
    if up is None:
        cw.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        entry["result"] = "bad gateway"
        log(entry)
        return
    ur, uw = up
    first = b""
    if ARGS.fault == "greeting-with-200":
        first = await ur.read(65536)  # the server speaks first
    entry["surplus"] = len(first)
    entry["result"] = "open"
    log(entry)
    await send(cw, b"HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n" + first)
    await splice(cr, cw, ur, uw, rest)


async def handle(cr, cw):
    try:
        if ARGS.fault == "silent":
            while await cr.read(4096):
                pass
            return
        await (socks5 if ARGS.mode == "socks5" else http)(cr, cw)
    except (asyncio.IncompleteReadError, asyncio.CancelledError, ConnectionError, OSError):
        pass  # a tunnel still open when the test stops the proxy
    finally:
        try:
            cw.close()
        except Exception:
            pass


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print("PORT %d" % port, flush=True)
    loop = asyncio.get_running_loop()
    # Serve until the test closes our stdin.
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
