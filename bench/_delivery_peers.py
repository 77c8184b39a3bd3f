"""Delivery benchmark, the other side: the loopback "remote servers" and a bare signing client.

Run as a script by `bench/delivery.py`:
- `--sink PEM`: listen on HOSTS loopback ports, verify every POST against the public key in PEM
  (read at the first POST), count hits per inbox, report on GET /__report; the ports are printed
  first, as one JSON line.
- `--floor PRIVATE_PEM PORTS_JSON`: POST a signed activity to every inbox with a bare aiohttp
  client and print its rate and CPU per POST, as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

from fedsocial.crypto.http_request import HttpRequestParts, parse_raw_request

HOSTS = 500
FOLLOWERS_PER_HOST = 20


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


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--sink":
        asyncio.run(sink_main(Path(sys.argv[2])))
    elif len(sys.argv) == 4 and sys.argv[1] == "--floor":
        asyncio.run(floor_main(Path(sys.argv[2]).read_text(), json.loads(sys.argv[3])))
    else:
        raise SystemExit("usage: _delivery_peers.py --sink PEM | --floor PRIVATE_PEM PORTS_JSON")
