"""Core layer: splitting the delivery queue by host among `serve --workers` processes.

Each process delivers the rows of the hosts its shard owns, so several cores sign and send at
once while every host is still served by one process only: the per-host concurrency limit and
host health stay exact without any locking between processes. The split is a CRC-32 of the
host, which every process computes the same (unlike Python's salted `hash`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

SQL_FUNCTION = "fedsocial_host_shard"
"""The SQL function `fedsocial_host_shard(host, count)` that `Database` registers."""


def host_shard(host: str, count: int) -> int:
    """The shard (0 ≤ n < `count`) that delivers to `host`; the same in every process."""
    return zlib.crc32(host.encode("utf-8")) % count


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count`: the part of the delivery queue one process delivers."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"no shard {self.index} of {self.count}")

    @property
    def whole(self) -> bool:
        """True when this shard is the whole queue (a single delivering process)."""
        return self.count == 1

    def owns(self, host: str) -> bool:
        """True when deliveries to `host` belong to this shard."""
        return self.whole or host_shard(host, self.count) == self.index


WHOLE = Shard()
"""The whole queue: what a single process delivers."""
