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

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

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
from _delivery_peers import FOLLOWERS_PER_HOST, floor_run, inbox_urls

PEERS = str(Path(__file__).parent / "_delivery_peers.py")

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
# `fedsocial serve --workers N`: N processes, each delivering to its share of the hosts.
SERVE_WORKERS = int(os.environ.get("BENCH_SERVE_WORKERS", "1"))
TARGET_RATE = 2000.0
TARGET_RSS_MB = 150.0
CORES = 2
# Lines added to the server's [federation] section; empty: delivery_workers = 16 and
# delivery_per_host = 4, the defaults (16, 32 and 64 workers measured within the noise here).
SERVER_CONFIG = ""


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
            [sys.executable, PEERS, "--sink", str(pem)],
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
    main()
