"""Outbox layer: which queued delivery runs next, under a per-host concurrency limit.

Pure bookkeeping, no I/O. Rows wait in one queue per host; `take` hands out the next row of a
host that is below its limit, visiting hosts round-robin so one big host cannot starve the
others, and never holding a worker slot while waiting for a busy host.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Generic, Protocol, TypeVar


class HasHost(Protocol):
    """Anything that names the host it goes to."""

    @property
    def host(self) -> str:
        """The host[:port] the item goes to."""
        ...


T = TypeVar("T", bound=HasHost)


class HostScheduler(Generic[T]):
    """Per-host queues with at most `per_host` items of one host running at once."""

    def __init__(self, *, per_host: int) -> None:
        if per_host < 1:
            raise ValueError("per_host must be ≥ 1")
        self._per_host = per_host
        self._queues: OrderedDict[str, deque[T]] = OrderedDict()
        self._running: dict[str, int] = {}
        self._queued = 0

    @property
    def queued(self) -> int:
        """How many items wait to be taken."""
        return self._queued

    @property
    def running(self) -> int:
        """How many taken items are not done yet."""
        return sum(self._running.values())

    def add(self, item: T) -> None:
        """Queue an item behind the others of its host."""
        self._queues.setdefault(item.host, deque()).append(item)
        self._queued += 1

    def take(self) -> T | None:
        """The next item whose host has a free slot, or None if every waiting host is busy."""
        chosen = None
        for host in self._queues:
            if self._running.get(host, 0) < self._per_host:
                chosen = host
                break
        if chosen is None:
            return None
        queue = self._queues.pop(chosen)
        item = queue.popleft()
        if queue:
            # Back of the line: the next take starts with another host.
            self._queues[chosen] = queue
        self._running[chosen] = self._running.get(chosen, 0) + 1
        self._queued -= 1
        return item

    def done(self, item: T) -> None:
        """Free the slot a taken item held."""
        count = self._running.get(item.host, 0) - 1
        if count > 0:
            self._running[item.host] = count
        else:
            self._running.pop(item.host, None)
