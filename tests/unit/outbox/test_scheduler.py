"""Tests of the per-host delivery scheduler."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from outbox.scheduler import HostScheduler


@dataclass(frozen=True)
class Item:
    host: str
    n: int


def test_per_host_limit_and_round_robin() -> None:
    # Given six items for host a and two for host b, at most two per host
    scheduler: HostScheduler[Item] = HostScheduler(per_host=2)
    for n in range(6):
        scheduler.add(Item("a", n))
    scheduler.add(Item("b", 0))
    scheduler.add(Item("b", 1))
    # When taking until nothing is free
    taken = []
    while (item := scheduler.take()) is not None:
        taken.append(item)
    # Then hosts alternate and neither exceeds its limit
    assert [(i.host, i.n) for i in taken] == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]
    assert scheduler.running == 4
    assert scheduler.queued == 4
    # When one of a's items is done, the next of a's is free, in order
    scheduler.done(taken[0])
    assert scheduler.take() == Item("a", 2)
    assert scheduler.take() is None


def test_empty_scheduler_gives_nothing() -> None:
    scheduler: HostScheduler[Item] = HostScheduler(per_host=4)
    assert scheduler.take() is None
    assert scheduler.queued == 0
    assert scheduler.running == 0


def test_per_host_must_be_positive() -> None:
    with pytest.raises(ValueError):
        HostScheduler[Item](per_host=0)
