"""Composition root: the extra processes of `fedsocial serve --workers N`.

The first process starts N - 1 plain child interpreters (`fedsocial serve --extra-worker
INDEX/COUNT/PARENT_PID`), waits until each says it listens, watches them while it serves, and
stops them when it stops. Each extra process serves HTTP on the same port and delivers to the
hosts of its own shard, so one that dies would leave its hosts without deliveries: the watcher
starts it again (at most once per RESTART_SECONDS, so a process that cannot start does not spin).
"""

from __future__ import annotations

import logging
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Sequence

from fedsocial.storage.shards import Shard

log = logging.getLogger("fedsocial.serve")

READY = b"ready"
"""What an extra serve process prints on its standard output once it listens."""
RESTART_SECONDS = 5.0
WATCH_SECONDS = 1.0


def parse_extra_worker(text: str) -> tuple[Shard, int]:
    """Read `INDEX/COUNT/PARENT_PID`; raise ValueError with the reason when it is not one."""
    parts = text.split("/")
    if len(parts) != 3:
        raise ValueError(f"expected INDEX/COUNT/PARENT_PID, got {text!r}")
    index, count, parent = (int(part) for part in parts)
    return Shard(index, count), parent


def say_ready() -> None:
    """Tell the first process that this extra process listens."""
    sys.stdout.buffer.write(READY + b"\n")
    sys.stdout.flush()


class ExtraProcesses:
    """Processes 1 … count - 1 of `serve --workers count`, started with `command` + their role."""

    def __init__(self, command: Sequence[str], *, count: int) -> None:
        self._command = list(command)
        self._count = count
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._started_at: dict[int, float] = {}

    def start(self, *, timeout: float = 60.0) -> None:
        """Start every extra process and return once all listen; SystemExit if one did not."""
        for index in range(1, self._count):
            self._start(index)
        for process in self._processes.values():
            _wait_ready(process, timeout=timeout)

    def restart_exited(self) -> list[int]:
        """Start again every extra process that has exited; return the shard indexes restarted."""
        restarted = []
        now = time.monotonic()
        for index, process in sorted(self._processes.items()):
            code = process.poll()
            if code is None or now - self._started_at[index] < RESTART_SECONDS:
                continue
            log.warning(
                "serve process %d (shard %d) exited with %s: restarting", process.pid, index, code
            )
            self._start(index)
            restarted.append(index)
        return restarted

    def stop(self) -> None:
        """Stop every extra process (SIGTERM, then SIGKILL after 10 s)."""
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self._processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            if process.stdout is not None:
                process.stdout.close()

    def _start(self, index: int) -> None:
        old = self._processes.get(index)
        if old is not None and old.stdout is not None:
            old.stdout.close()
        role = f"{index}/{self._count}/{os.getpid()}"
        self._processes[index] = subprocess.Popen(
            [*self._command, "--extra-worker", role], stdout=subprocess.PIPE
        )
        self._started_at[index] = time.monotonic()


def _wait_ready(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        line = process.stdout.readline() if selector.select(timeout) else b""
    if line.strip() != READY:
        raise SystemExit(f"serve: the extra process {process.pid} did not start")
