"""Delivery benchmark: one public post from an actor with 10,000 followers on 500 hosts.

Half of the hosts advertise a shared inbox, so the post makes 250 + 250 × 20 = 5,250 deliveries.
A real `fedsocial serve` delivers them (BENCH_SERVE_WORKERS=N runs `serve --workers N`: N
processes, each delivering to its own share of the hosts); `fedsocial post` (another process,
as a person would) queues the post. The 500 "hosts" are 500 loopback ports of one sink process
that verifies every signature (draft-cavage, with the Digest) and counts hits per inbox.

Reported (medians of several runs): signed deliveries per second (between the first and the
last POST the sinks received), time from the queued post until the queue is drained (this
includes up to a second of the server's queue polling, since the CLI cannot wake it), the
server's peak RSS (summed over its processes), and invalid signatures, inboxes hit twice and
inboxes missed.

The sink shares the machine's 2 cores with the server, so the CPU each used while the queue
drained is reported too: the server's CPU time per delivery (RSA signing included), and the
cores used by the server, by the sink (verifying every signature) and by other processes (a
busy machine makes the rate drop; the server's CPU per delivery is the steadier figure).
The server runs with the default delivery settings (SERVER_CONFIG adds nothing).

For scale, the same 5,250 signed POSTs are also sent by a bare aiohttp client that signs each
one (draft-cavage, RSA-2048) and does nothing else, in one process (one core) against the same
sink: the ceiling of this machine for an aiohttp client signing on one core, without a queue,
a database or retries (issue 5 quotes about 2,900/s for it).

Targets (issue 5): ≥ 2,000 deliveries/s on 2 cores, peak RSS < 150 MB, 0 invalid, 0 double,
0 missing.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).parent))

from _common import (
    CLI,
    busy_cpu,
    cpu_seconds,
    free_port,
    median,
    tree_peak_rss_mb,
    verdict,
    write_config,
)

from fedsocial.crypto.http_request import HttpRequestParts, parse_raw_request

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
# `fedsocial serve --workers N`: N processes, each delivering to its share of the hosts.
SERVE_WORKERS = int(os.environ.get("BENCH_SERVE_WORKERS", "1"))
HOSTS = 500
FOLLOWERS_PER_HOST = 20
TARGET_RATE = 2000.0
TARGET_RSS_MB = 150.0
CORES = 2
# Lines added to the server's [federation] section; empty: delivery_workers = 16 and
# delivery_per_host = 4, the defaults (16, 32 and 64 workers measured within the noise here).
SERVER_CONFIG = ""


# --- the sink process ------------------------------------------------------------------------


class _SinkState:
    """What the sink saw: hits per inbox URL, invalid signatures, first and last POST times."""

    def __init__(self, verify: Callable[[HttpRequestParts], bool]) -> None:
        self.verify = verify
        self.hits: Counter[str] = Counter()
        self.invalid = 0
        self.first = 0.0
        self.last = 0.0

    def report(self) -> bytes:
        return json.dumps(
            {"hits": self.hits, "invalid": self.invalid, "first": self.first, "last": self.last}
        ).encode()


class _SinkProtocol(asyncio.Protocol):
    """A bare HTTP/1.1 keep-alive server: every POST is parsed, its signature verified, counted.

    The remote servers a real instance delivers to run on other machines; here they share the
    2 cores with the server, so the sink is kept lean (no web framework) to leave the cores to
    what is measured. Requests are complete HTTP/1.1 messages with a Content-Length.
    """

    def __init__(self, state: _SinkState) -> None:
        self._state = state
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (request := self._next_request()) is not None:
            self._answer(request)

    def _next_request(self) -> bytes | None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        length = 0
        for line in self._buffer[:end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        size = end + 4 + length
        if len(self._buffer) < size:
            return None
        request, self._buffer = self._buffer[:size], self._buffer[size:]
        return request

    def _answer(self, request: bytes) -> None:
        assert self._transport is not None
        state = self._state
        if request.startswith(b"GET /__report"):
            body = state.report()
        else:
            parts = parse_raw_request(request, scheme="http")
            if not state.verify(parts):
                state.invalid += 1
            now = time.monotonic()
            state.first = state.first or now
            state.last = now
            state.hits[parts.url] += 1
            body = b""
        self._transport.write(
            b"HTTP/1.1 %d OK\r\nContent-Length: %d\r\n\r\n%s"
            % (200 if body else 202, len(body), body)
        )


async def sink_main(pem_path: Path) -> None:
    """Listen on HOSTS loopback ports, verify every POST, report on GET /__report.

    The ports are bound (and printed) first, so the driver can pick the server's port among the
    free ones; the poster's public key file is read at the first POST.
    """
    import socket
    from functools import cache

    from fedsocial.crypto.keys import PublicKey, load_public_key
    from fedsocial.crypto.verify import verify_request
    from fedsocial.errors import SignatureError

    @cache
    def key(_key_id: str) -> PublicKey:
        return load_public_key(pem_path.read_text())

    def verify(parts: HttpRequestParts) -> bool:
        try:
            verify_request(parts, key, now=time.time())
        except SignatureError:
            return False
        return True

    state = _SinkState(verify)
    loop = asyncio.get_running_loop()
    ports = []
    for _ in range(HOSTS):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        ports.append(sock.getsockname()[1])
        await loop.create_server(lambda: _SinkProtocol(state), sock=sock)
    print(json.dumps(ports), flush=True)
    await asyncio.Event().wait()


# --- the bare signing client (for scale) -----------------------------------------------------

FLOOR_KEY_ID = "http://127.0.0.1/users/floor#main-key"


def inbox_urls(ports: list[int]) -> list[str]:
    """The 5,250 inboxes of the followers: one shared inbox on even hosts, 20 on odd ones."""
    urls = []
    for index, port in enumerate(ports):
        base = f"http://127.0.0.1:{port}"
        if index % 2 == 0:
            urls.append(f"{base}/inbox")
        else:
            urls.extend(f"{base}/users/u{n}/inbox" for n in range(FOLLOWERS_PER_HOST))
    return urls


async def floor_main(private_pem: str, ports: list[int]) -> None:
    """POST a signed 2 KB activity to every inbox with a bare aiohttp client; print the figures.

    Same concurrency as the server's defaults (16 at once, 4 per host), draft-cavage with a
    Digest signed by our own signer, a fresh Date per request; no queue, database or retries.
    """
    import aiohttp

    from fedsocial.crypto.cavage import sign_cavage
    from fedsocial.crypto.keys import load_private_key

    key = load_private_key(private_pem)
    body = json.dumps({"type": "Create", "content": "x" * 2000}).encode()
    pending = iter(inbox_urls(ports))
    connector = aiohttp.TCPConnector(limit=16, limit_per_host=4)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for url in pending:
                headers = {"Content-Type": "application/activity+json"}
                parts = HttpRequestParts("POST", url, headers, body)
                headers |= sign_cavage(parts, key_id=FLOOR_KEY_ID, private_key=key, now=time.time())
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()

        started, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(16)))
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    count = len(inbox_urls(ports))
    print(json.dumps({"rate": count / seconds, "cpu_us": 1e6 * cpu / count}), flush=True)


def floor_run() -> dict[str, float]:
    """One run of the bare signing client against a fresh sink; returns its figures."""
    from fedsocial.crypto.keys import generate_rsa_key, private_key_to_pem, public_key_to_pem

    with tempfile.TemporaryDirectory() as tmp:
        key = generate_rsa_key()
        public, private = Path(tmp) / "public.pem", Path(tmp) / "private.pem"
        public.write_text(public_key_to_pem(key))
        private.write_text(private_key_to_pem(key))
        sink = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(public)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert sink.stdout is not None
            ports_line = sink.stdout.readline()
            out = subprocess.run(
                [sys.executable, __file__, "--floor", str(private), ports_line],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            port = json.loads(ports_line)[0]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/__report") as resp:
                report = json.loads(resp.read())
        finally:
            sink.terminate()
            sink.wait(10)
    figures: dict[str, float] = json.loads(out)
    hits = report["hits"]
    if report["invalid"] or len(hits) != len(inbox_urls(json.loads(ports_line))):
        raise RuntimeError(f"bare client: {report['invalid']} invalid, {len(hits)} inboxes hit")
    return figures


# --- the driver ------------------------------------------------------------------------------


def _populate(db_path: Path, actor_id: str, ports: list[int]) -> set[str]:
    """Store 10,000 cached remote followers; return the inboxes the post must reach."""
    now = time.time()
    actors = []
    follows = []
    for index, port in enumerate(ports):
        base = f"http://127.0.0.1:{port}"
        shared = f"{base}/inbox" if index % 2 == 0 else None
        for n in range(FOLLOWERS_PER_HOST):
            follower = f"{base}/users/u{n}"
            inbox = f"{follower}/inbox"
            document = json.dumps({"id": follower, "type": "Person", "inbox": inbox})
            actors.append(
                (
                    follower,
                    "Person",
                    f"u{n}",
                    f"127.0.0.1:{port}",
                    inbox,
                    shared,
                    f"{follower}/followers",
                    document,
                    now,
                )
            )
            follows.append((follower, actor_id, "accepted", now))
    conn = sqlite3.connect(db_path)
    with conn:
        conn.executemany(
            "INSERT INTO remote_actors (id, type, preferred_username, domain, inbox, shared_inbox,"
            " followers, document, fetched_at) VALUES (?,?,?,?,?,?,?,?,?)",
            actors,
        )
        conn.executemany(
            "INSERT INTO follows (follower, followee, state, created_at) VALUES (?,?,?,?)",
            follows,
        )
    conn.close()
    return set(inbox_urls(ports))


def _public_pem(db_path: Path, name: str) -> str:
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute(
            "SELECT rsa_public_pem FROM local_actors WHERE name = ?", (name,)
        ).fetchone()
    finally:
        conn.close()
    return str(row[0])


def _wait_http(url: str, *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status < 500:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def _pending(db_path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        total, pending = conn.execute(
            "SELECT count(*), coalesce(sum(state = 'pending'), 0) FROM deliveries"
        ).fetchone()
    finally:
        conn.close()
    return int(total), int(pending)


def one_run() -> dict[str, float]:
    """One full run; returns its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pem = folder / "poster.pem"
        sink = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(pem)],
            stdout=subprocess.PIPE,
            text=True,
        )
        server: subprocess.Popen[bytes] | None = None
        try:
            assert sink.stdout is not None
            ports = json.loads(sink.stdout.readline())
            # Chosen once the sink holds its 500 ports, so none of them can be handed out twice.
            port = free_port()
            config = write_config(folder, port, first_actor="poster", extra=SERVER_CONFIG)
            db_path = folder / "bench.sqlite3"
            subprocess.run([*CLI, "--config", str(config), "init"], check=True, capture_output=True)
            pem.write_text(_public_pem(db_path, "poster"))
            actor_id = f"http://127.0.0.1:{port}/users/poster"
            expected = _populate(db_path, actor_id, ports)
            server = subprocess.Popen(
                [*CLI, "--config", str(config), "serve", "--workers", str(SERVE_WORKERS)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait_http(f"http://127.0.0.1:{port}/.well-known/nodeinfo")
            subprocess.run(
                [*CLI, "--config", str(config), "post", "poster", "Hello, 10,000 followers!"],
                check=True,
                capture_output=True,
            )
            queued = time.monotonic()
            server_cpu, sink_cpu, busy = cpu_seconds(server.pid), cpu_seconds(sink.pid), busy_cpu()
            while True:
                total, pending = _pending(db_path)
                if total and not pending:
                    break
                if time.monotonic() - queued > 120:
                    raise RuntimeError(f"not drained: {pending} of {total} pending")
                time.sleep(0.02)
            drained = time.monotonic() - queued
            server_cpu = cpu_seconds(server.pid) - server_cpu
            sink_cpu = cpu_seconds(sink.pid) - sink_cpu
            others_cpu = busy_cpu() - busy - server_cpu - sink_cpu
            peak = tree_peak_rss_mb(server.pid)
            with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/__report") as resp:
                report = json.loads(resp.read())
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
            sink.terminate()
            sink.wait(10)
    hits: dict[str, int] = report["hits"]
    span = max(report["last"] - report["first"], 1e-9)
    return {
        "deliveries": float(total),
        "rate": sum(hits.values()) / span,
        "drain_s": drained,
        "send_s": span,
        "peak_mb": peak,
        "invalid": float(report["invalid"]),
        "double": float(sum(1 for n in hits.values() if n > 1)),
        "missing": float(len(expected - set(hits))),
        "unexpected": float(len(set(hits) - expected)),
        "server_ms": 1000 * server_cpu / max(total, 1),
        "server_cores": server_cpu / drained,
        "sink_cores": sink_cpu / drained,
        "others_cores": max(others_cpu, 0.0) / drained,
    }


def main() -> None:
    """Run the benchmark and print the medians against the targets."""
    runs = []
    for n in range(RUNS):
        figures = one_run()
        runs.append(figures)
        print(
            f"run {n + 1}: {figures['deliveries']:.0f} deliveries, {figures['rate']:.0f}/s,"
            f" sent in {figures['send_s']:.2f} s, drained {figures['drain_s']:.2f} s after"
            f" queueing, peak {figures['peak_mb']:.1f} MB, invalid {figures['invalid']:.0f},"
            f" double {figures['double']:.0f}, missing {figures['missing']:.0f};"
            f" server CPU {figures['server_ms']:.2f} ms/delivery, cores used: server"
            f" {figures['server_cores']:.2f}, sink {figures['sink_cores']:.2f},"
            f" others {figures['others_cores']:.2f}",
            flush=True,
        )
    rate = median([r["rate"] for r in runs])
    peak = median([r["peak_mb"] for r in runs])
    drain = median([r["drain_s"] for r in runs])
    send = median([r["send_s"] for r in runs])
    bad = max(r["invalid"] + r["double"] + r["missing"] + r["unexpected"] for r in runs)
    print(f"delivery: {median([r['deliveries'] for r in runs]):.0f} deliveries per post")
    print(
        f"delivery: {rate:.0f} signed deliveries/s (target ≥ {TARGET_RATE:.0f}):"
        f" {verdict(rate >= TARGET_RATE)}"
    )
    print(f"delivery: sent in {send:.2f} s; queue drained {drain:.2f} s after the post was queued")
    server_ms = median([r["server_ms"] for r in runs])
    print(
        f"delivery: server CPU {server_ms:.2f} ms per delivery, signing included (so at most"
        f" {CORES * 1000 / server_ms:.0f}/s if the server had all {CORES} cores to itself);"
        f" cores used while draining: server {median([r['server_cores'] for r in runs]):.2f},"
        f" sink {median([r['sink_cores'] for r in runs]):.2f} (verifying every signature),"
        f" other processes {median([r['others_cores'] for r in runs]):.2f}"
    )
    print(
        f"delivery: server processes: {SERVE_WORKERS} (BENCH_SERVE_WORKERS; each delivers to its"
        " share of the hosts)"
    )
    print(
        "delivery: server config: federation defaults (delivery_workers 16, delivery_per_host 4)"
        if not SERVER_CONFIG
        else f"delivery: server config adds: {SERVER_CONFIG.strip()!r}"
    )
    print(
        f"delivery: server peak RSS {peak:.1f} MB (target < {TARGET_RSS_MB:.0f}):"
        f" {verdict(peak < TARGET_RSS_MB)}"
    )
    print(
        f"delivery: invalid signatures, double hits, missing or unexpected inboxes: {bad:.0f}"
        f" (target 0): {verdict(bad == 0)}"
    )
    floors = [floor_run() for _ in range(3)]
    print(
        "delivery: for scale, a bare aiohttp client signing each POST (RSA-2048, cavage) on one"
        f" core, no queue or database: {median([f['rate'] for f in floors]):.0f}/s,"
        f" {median([f['cpu_us'] for f in floors]):.0f} µs CPU per POST (issue 5 quotes ~2,900/s)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sink":
        asyncio.run(sink_main(Path(sys.argv[2])))
    elif len(sys.argv) == 4 and sys.argv[1] == "--floor":
        asyncio.run(floor_main(Path(sys.argv[2]).read_text(), json.loads(sys.argv[3])))
    else:
        main()
