"""Inbox benchmark: a real `fedsocial serve` receiving 20,000 signed activities.

A loopback aiohttp server in this process plays 100 remote actors (documents with RSA keys).
Every request is signed before timing starts; 64 connections then POST 10,000 Create{Note}
and 10,000 Like activities to the shared inbox. Reported (medians of several runs): accepted
activities per second, p50/p99 latency of the 202 answers, the time until all are applied
(counted in the server's database), and lost or doubly applied activities.

Targets (issue 4), on this 2-core machine: ≥ 4,000 accepted/s with p99 < 50 ms, all applied
within 2× the sending time, zero lost or doubly applied. Each actor's key is fetched once, by a
warm-up Follow per actor, before the timed part (the targets are for cached keys).

BENCH_SERVE_WORKERS=N runs `fedsocial serve --workers N` (N processes on the port); server CPU
is then summed over them. The server CPU per activity (receive + apply) is also printed: unlike
rates, it barely moves when other work shares the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from _common import CLI, cpu_seconds, free_port, median, verdict, write_config

from fedsocial.crypto.cavage import sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import generate_rsa_key, public_key_to_pem

ACTORS = 100
ACTIVITIES = 20_000
CONNECTIONS = 64
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# `fedsocial serve --workers N`: processes sharing the port (SO_REUSEPORT).
SERVE_WORKERS = int(os.environ.get("BENCH_SERVE_WORKERS", "1"))
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass(frozen=True, slots=True)
class Signed:
    """One pre-signed POST, serialised as the HTTP/1.1 bytes to write."""

    activity_id: str
    request: bytes


class Actors:
    """The loopback server of the 100 remote actors."""

    def __init__(self, keys: list[RSAPrivateKey]) -> None:
        self.keys = keys
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None

    def actor_id(self, index: int) -> str:
        return f"{self.base}/users/a{index}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_post("/{tail:.*}", self._sink)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _actor(self, request: web.Request) -> web.Response:
        index = int(request.match_info["name"][1:])
        actor_id = self.actor_id(index)
        doc = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": f"a{index}",
            "inbox": f"{actor_id}/inbox",
            "followers": f"{actor_id}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_key_to_pem(self.keys[index].public_key()),
            },
        }
        return web.json_response(doc, content_type="application/activity+json")

    async def _sink(self, request: web.Request) -> web.Response:
        await request.read()  # Accepts of the warm-up follows land here
        return web.Response(status=202)


def sign(actors: Actors, index: int, url: str, activity: dict[str, Any]) -> Signed:
    body = json.dumps(activity).encode()
    headers = {"Content-Type": "application/activity+json"}
    parts = HttpRequestParts("POST", url, headers, body)
    headers.update(
        sign_cavage(
            parts,
            key_id=f"{actors.actor_id(index)}#main-key",
            private_key=actors.keys[index],
            now=time.time(),
        )
    )
    headers["Content-Length"] = str(len(body))
    head = f"POST {parts.target} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return Signed(str(activity["id"]), head.encode() + b"\r\n" + body)


def note(actors: Actors, index: int, n: int) -> dict[str, Any]:
    actor = actors.actor_id(index)
    object_id = f"{actor}/statuses/{n}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{object_id}/activity",
        "type": "Create",
        "actor": actor,
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
        "object": {
            "id": object_id,
            "type": "Note",
            "attributedTo": actor,
            "content": f'<p>benchmark post {n} with a <a href="https://example.com/">link</a></p>',
            "published": "2024-05-01T10:00:00Z",
            "to": [PUBLIC],
            "cc": [f"{actor}/followers"],
        },
    }


def like(actors: Actors, index: int, n: int, target: str) -> dict[str, Any]:
    actor = actors.actor_id(index)
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}#likes/{n}",
        "type": "Like",
        "actor": actor,
        "object": target,
    }


def presign(actors: Actors, server: str) -> tuple[list[Signed], list[Signed]]:
    """The warm-up Follows (one per actor) and the timed activities, all signed now."""
    inbox = f"{server}/inbox"
    local = f"{server}/users/bench"
    warmup = [
        sign(
            actors,
            i,
            inbox,
            {
                "id": f"{actors.actor_id(i)}#follow",
                "type": "Follow",
                "actor": actors.actor_id(i),
                "object": local,
            },
        )
        for i in range(ACTORS)
    ]
    timed: list[Signed] = []
    for n in range(ACTIVITIES):
        index = n % ACTORS
        if n % 2 == 0:
            timed.append(sign(actors, index, inbox, note(actors, index, n)))
        else:
            target = f"{actors.actor_id((index + 1) % ACTORS)}/statuses/{n - 1}"
            timed.append(sign(actors, index, inbox, like(actors, index, n, target)))
    return warmup, timed


async def send_all(port: int, requests: list[Signed]) -> tuple[list[float], int, float]:
    """Write every request over CONNECTIONS keep-alive connections; return latencies, non-202s
    and seconds.

    A minimal HTTP/1.1 client on asyncio streams: an aiohttp ClientSession tops out near
    2,500 requests/s on this machine and would measure itself rather than the server.
    """
    latencies: list[float] = []
    failures = 0
    queue = iter(requests)

    async def worker() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for item in queue:
            started = time.perf_counter()
            writer.write(item.request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 202"):
                failures += 1
            at = head.lower().find(b"content-length:")
            length = int(head[at + 15 : head.index(b"\r\n", at)]) if at >= 0 else 0
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return latencies, failures, time.perf_counter() - began


def counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as conn:
        states = dict(conn.execute("SELECT state, count(*) FROM inbox_activities GROUP BY state"))
        doubled = conn.execute(
            "SELECT count(*) FROM inbox_activities WHERE attempts > 1"
        ).fetchone()[0]
        notes = conn.execute("SELECT count(*) FROM objects WHERE local = 0").fetchone()[0]
        likes = conn.execute("SELECT count(*) FROM reactions").fetchone()[0]
    return {**states, "doubled": doubled, "notes": notes, "likes": likes}


async def settled(database: Path, *, applied: int) -> None:
    """Wait until `applied` activities are applied and no delivery is pending."""
    while True:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as conn:
            done = conn.execute(
                "SELECT count(*) FROM inbox_activities WHERE state = 'applied'"
            ).fetchone()[0]
            queued = conn.execute(
                "SELECT count(*) FROM deliveries WHERE state = 'pending'"
            ).fetchone()[0]
        if done >= applied and queued == 0:
            return
        await asyncio.sleep(0.05)


def wait_until_served(port: int) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/nodeinfo", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


async def measure(
    keys: list[RSAPrivateKey], port: int, database: Path, server_pid: int
) -> dict[str, float]:
    """Warm up, send the timed activities, and wait until the server applied them all."""
    actors = Actors(keys)
    await actors.start()
    try:
        warmup, timed = presign(actors, f"http://127.0.0.1:{port}")
        await send_all(port, warmup)
        await settled(database, applied=ACTORS)  # keys fetched, Accepts delivered
        print(f"inbox: sending {ACTIVITIES} activities", file=sys.stderr, flush=True)
        cpu_before, client_cpu = cpu_seconds(server_pid), time.process_time()
        latencies, failures, seconds = await send_all(port, timed)
        sent_done = time.perf_counter()
        server_cpu = cpu_seconds(server_pid) - cpu_before
        client_cpu = time.process_time() - client_cpu
        expected = ACTIVITIES + ACTORS
        while True:
            found = counts(database)
            if found.get("applied", 0) >= expected or time.perf_counter() - sent_done > 120:
                break
            await asyncio.sleep(0.05)
        applied_after = seconds + (time.perf_counter() - sent_done)
        # Receive + apply CPU per activity: unlike rates, it barely moves when others share the box.
        total_cpu = cpu_seconds(server_pid) - cpu_before
    finally:
        await actors.stop()
    latencies.sort()
    return {
        "accepted_per_s": (ACTIVITIES - failures) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "send_s": seconds,
        "applied_s": applied_after,
        "non_202": failures,
        "lost": expected - found.get("applied", 0),
        "doubled": found["doubled"],
        "notes": found["notes"],
        "likes": found["likes"],
        "server_cpu_pct": 100 * server_cpu / seconds,
        "server_cpu_us_per_activity": 1e6 * total_cpu / ACTIVITIES,
        "client_cpu_pct": 100 * client_cpu / seconds,
    }


def one_run(keys: list[RSAPrivateKey]) -> dict[str, float]:
    """One fresh server process and database, measured."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = write_config(Path(tmp), port)
        subprocess.run([*CLI, "--config", str(config), "init"], check=True, capture_output=True)
        proc = subprocess.Popen(
            [*CLI, "--config", str(config), "serve"]
            + (["--workers", str(SERVE_WORKERS)] if SERVE_WORKERS > 1 else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_served(port)
            return asyncio.run(measure(keys, port, Path(tmp) / "bench.sqlite3", proc.pid))
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    keys = [generate_rsa_key() for _ in range(ACTORS)]
    runs = [one_run(keys) for _ in range(RUNS)]
    mid = {key: median([r[key] for r in runs]) for key in runs[0]}
    rate, p99 = mid["accepted_per_s"], mid["p99_ms"]
    print(f"inbox: {rate:,.0f} accepted/s (target ≥ 4,000: {verdict(rate >= 4000)})")
    print(
        f"inbox: 202 latency p50 {mid['p50_ms']:.1f} ms, p99 {p99:.1f} ms "
        f"(target p99 < 50 ms: {verdict(p99 < 50)})"
    )
    within = mid["applied_s"] <= 2 * mid["send_s"]
    print(
        f"inbox: all applied after {mid['applied_s']:.2f} s for {mid['send_s']:.2f} s of "
        f"sending (target ≤ 2×: {verdict(within)})"
    )
    clean = all(r["lost"] == 0 and r["doubled"] == 0 and r["non_202"] == 0 for r in runs)
    print(
        f"inbox: lost {max(r['lost'] for r in runs)}, doubly applied "
        f"{max(r['doubled'] for r in runs)}, non-202 {max(r['non_202'] for r in runs)} "
        f"(target 0: {verdict(clean)})"
    )
    print(
        f"inbox: server CPU {mid['server_cpu_pct']:.0f}% while sending; "
        f"{mid['server_cpu_us_per_activity']:.0f} µs of server CPU per activity (receive + apply)"
    )
    print(f"inbox: server processes: {SERVE_WORKERS} (BENCH_SERVE_WORKERS)")
    print(f"inbox: runs {[{k: round(v, 1) for k, v in r.items()} for r in runs]}")


if __name__ == "__main__":
    main()
