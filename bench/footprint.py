"""Footprint: idle RSS of `fedsocial serve` with one actor, and its start-up time.

Targets (issue 2): idle RSS under 70 MB, start-up under 1.5 s. Medians of several runs.
Start-up is measured from process spawn to the first answered HTTP request.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import CLI, free_port, median, rss_mb, verdict, write_config

RUNS = 5


def one_run() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = write_config(Path(tmp), port)
        subprocess.run([*CLI, "--config", str(config), "init"], check=True, capture_output=True)
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*CLI, "--config", str(config), "serve"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/.well-known/nodeinfo"
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=1) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    time.sleep(0.01)
                if time.perf_counter() - started > 30:
                    raise RuntimeError("server did not start")
            startup = time.perf_counter() - started
            time.sleep(1.0)  # let start-up work settle before reading idle memory
            return startup, rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    startup = median([r[0] for r in runs])
    rss = median([r[1] for r in runs])
    print(f"footprint: start-up {startup:.2f} s (target < 1.5 s: {verdict(startup < 1.5)})")
    print(f"footprint: idle RSS {rss:.1f} MB (target < 70 MB: {verdict(rss < 70)})")
    print(f"footprint: runs {[(round(s, 2), round(m, 1)) for s, m in runs]}")


if __name__ == "__main__":
    main()
