"""Hostile linked data at a live inbox: forwarded activities whose proofs must not be accepted,
and documents built to make proof checking expensive."""

from __future__ import annotations

import time
from typing import Any

import pytest

from fedsocial.crypto.ld_signature import sign_ld
from fedsocial.storage import inbox_queue
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, load_payload
from tests.harness import Instance


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    return instance


def create_by(actor: PeerActor, peer: Peer, alpha: Instance, n: str) -> dict[str, Any]:
    return load_payload(
        "mastodon_create_note", actor=actor.id, base=peer.base, n=n, local=alpha.actor_id("alice")
    )


async def test_a_forwarded_activity_with_a_poison_graph_is_refused_quickly(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's Create whose note carries nine blank nodes all linked to each other (URDNA2015
    # would go through their permutations for many minutes), with an LD signature naming bob's
    # key, forwarded by carol
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    create = create_by(bob, peer, alpha, "poison")
    signature = sign_ld(
        create, private_key=bob.key, creator=bob.key_id, created="2024-05-01T10:00:00Z"
    )["signature"]
    create["object"]["attachment"] = [
        {"id": f"_:b{i}", "attachment": [{"id": f"_:b{j}"} for j in range(9) if j != i]}
        for i in range(9)
    ]
    # When carol posts it
    started = time.monotonic()
    status, answer = await peer.post(
        bob, f"{alpha.base}/inbox", {**create, "signature": signature}, signer=carol
    )
    # Then it is refused at once as not proven by bob, and nothing is stored
    assert time.monotonic() - started < 5
    assert status == 401 and answer["reason"] == "not_owner"
    assert await inbox_queue.get(alpha.db, create["id"]) is None
