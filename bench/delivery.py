"""Delivery benchmark: one public post from an actor with 10,000 followers on 500 hosts.

Half of the hosts advertise a shared inbox, so the post makes 250 + 250 × 20 = 5,250 deliveries.
A real `fedsocial serve` process delivers them; `fedsocial post` (another process, as a person
would) queues the post. The 500 "hosts" are 500 loopback ports of one sink process that
verifies every signature (draft-cavage, with the Digest) and counts hits per inbox.

Reported (medians of several runs): signed deliveries per second (between the first and the
last POST the sinks received), time from the queued post until the queue is drained (this
includes up to a second of the server's queue polling, since the CLI cannot wake it), the
server's peak RSS, and invalid signatures, inboxes hit twice and inboxes missed.

Targets (issue 5): ≥ 2,000 deliveries/s on 2 cores, peak RSS < 150 MB, 0 invalid, 0 double,
0 missing.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import CLI, free_port, median, peak_rss_mb, verdict, write_config

RUNS = 3
HOSTS = 500
FOLLOWERS_PER_HOST = 20
TARGET_RATE = 2000.0
TARGET_RSS_MB = 150.0


# --- the sink process ------------------------------------------------------------------------


async def sink_main(pem: str) -> None:
    """Listen on HOSTS loopback ports, verify every POST, report on GET /__report."""
    import socket

    from aiohttp import web

    from fedsocial.crypto.http_request import HttpRequestParts
    from fedsocial.crypto.keys import load_public_key
    from fedsocial.crypto.verify import verify_request
    from fedsocial.errors import SignatureError

    key = load_public_key(pem)
    hits: Counter[str] = Counter()
    state = {"invalid": 0, "first": 0.0, "last": 0.0}

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        url = f"http://{request.host}{request.path_qs}"
        parts = HttpRequestParts("POST", url, request.headers, body)
        try:
            verify_request(parts, lambda _key_id: key, now=time.time())
        except SignatureError:
            state["invalid"] += 1
        now = time.monotonic()
        state["first"] = state["first"] or now
        state["last"] = now
        hits[url] += 1
        return web.Response(status=202)

    async def report(request: web.Request) -> web.Response:
        return web.json_response({"hits": dict(hits), **state})

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    app.router.add_get("/__report", report)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    ports = []
    for _ in range(HOSTS):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        ports.append(sock.getsockname()[1])
        await web.SockSite(runner, sock, backlog=512).start()
    print(json.dumps(ports), flush=True)
    await asyncio.Event().wait()


# --- the driver ------------------------------------------------------------------------------


def _populate(db_path: Path, actor_id: str, ports: list[int]) -> set[str]:
    """Store 10,000 cached remote followers; return the inboxes the post must reach."""
    now = time.time()
    expected: set[str] = set()
    actors = []
    follows = []
    for index, port in enumerate(ports):
        base = f"http://127.0.0.1:{port}"
        shared = f"{base}/inbox" if index % 2 == 0 else None
        if shared:
            expected.add(shared)
        for n in range(FOLLOWERS_PER_HOST):
            follower = f"{base}/users/u{n}"
            inbox = f"{follower}/inbox"
            if not shared:
                expected.add(inbox)
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
    return expected


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
        port = free_port()
        config = write_config(folder, port, first_actor="poster")
        db_path = folder / "bench.sqlite3"
        subprocess.run([*CLI, "--config", str(config), "init"], check=True, capture_output=True)
        pem = folder / "poster.pem"
        pem.write_text(_public_pem(db_path, "poster"))
        sink = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(pem)],
            stdout=subprocess.PIPE,
            text=True,
        )
        server: subprocess.Popen[bytes] | None = None
        try:
            assert sink.stdout is not None
            ports = json.loads(sink.stdout.readline())
            actor_id = f"http://127.0.0.1:{port}/users/poster"
            expected = _populate(db_path, actor_id, ports)
            server = subprocess.Popen(
                [*CLI, "--config", str(config), "serve"],
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
            while True:
                total, pending = _pending(db_path)
                if total and not pending:
                    break
                if time.monotonic() - queued > 120:
                    raise RuntimeError(f"not drained: {pending} of {total} pending")
                time.sleep(0.02)
            drained = time.monotonic() - queued
            peak = peak_rss_mb(server.pid)
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
            f" double {figures['double']:.0f}, missing {figures['missing']:.0f}",
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
    print(
        f"delivery: server peak RSS {peak:.1f} MB (target < {TARGET_RSS_MB:.0f}):"
        f" {verdict(peak < TARGET_RSS_MB)}"
    )
    print(
        f"delivery: invalid signatures, double hits, missing or unexpected inboxes: {bad:.0f}"
        f" (target 0): {verdict(bad == 0)}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sink":
        asyncio.run(sink_main(Path(sys.argv[2]).read_text()))
    else:
        main()
