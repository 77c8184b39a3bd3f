"""Shared helpers for the benchmarks: free ports, temp configs, process memory and CPU, medians."""

from __future__ import annotations

import os
import socket
import statistics
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "fedsocial.cli"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, port: int, *, first_actor: str = "bench", extra: str = "") -> Path:
    """A loopback http config for a benchmark instance."""
    path = folder / "fedsocial.toml"
    path.write_text(
        f'[instance]\ndomain = "127.0.0.1:{port}"\nscheme = "http"\n'
        f'[server]\nport = {port}\n[storage]\ndatabase = "bench.sqlite3"\n'
        f'[first_actor]\nname = "{first_actor}"\n'
        "[federation]\nallow_private_addresses = true\nallow_http = true\n" + extra,
        encoding="utf-8",
    )
    return path


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process in MB (Linux VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def children(pid: int) -> list[int]:
    """The pids of a process's child processes (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its child processes have used so far (Linux /proc).

    Children count while they run (`serve --workers N` starts N - 1 of them).
    """
    total = 0.0
    for candidate in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{candidate}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def tree_peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process plus that of each of its children, in MB."""
    total = 0.0
    for candidate in [pid, *children(pid)]:
        try:
            total += peak_rss_mb(candidate)
        except FileNotFoundError:
            continue
    return total


def busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy (not idle or waiting for I/O) so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    """The median of the measured values."""
    return statistics.median(values)


def verdict(ok: bool) -> str:
    """A short pass/miss label for a figure against its target."""
    return "meets target" if ok else "MISSES target"
