"""Linked data between three live instances: a reply forwarded to the followers of the person
replied to, with its LD signature and integrity proof intact (issue 6, "Done means").

alpha has alice; beta has bob; gamma has carol, who follows alice. bob replies to alice's note
addressing alice's followers collection. beta cannot reach those followers, so alpha forwards
the reply — the bytes it received — to gamma, signed over HTTP by alice; gamma accepts it
because bob's own signatures in the document hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from actors.local import LocalActor
from actors.state import local_actors
from fedsocial.crypto.integrity import verify_proof
from fedsocial.crypto.ld_signature import verify_ld
from fedsocial.jsonld.normalise import is_canonical_shape
from fedsocial.storage import deliveries, inbox_queue, objects
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import Instance, drain


@dataclass
class Trio:
    alpha: Instance
    beta: Instance
    gamma: Instance
    alice: str
    bob: str
    carol: str


async def _actor(instance: Instance, name: str) -> LocalActor:
    assert instance.app is not None
    return await local_actors(instance.app).require(name)


async def _text(instance: Instance, sql: str, key: str) -> str:
    value = await instance.db.fetchval(sql, (key,))
    assert value is not None, f"{key} not stored on {instance.name}"
    return str(value)


@pytest.fixture
async def trio(start_instance: StartInstance) -> Trio:
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    gamma = await start_instance("gamma")
    alice = await alpha.add_actor("alice")
    bob = await beta.add_actor("bob")
    carol = await gamma.add_actor("carol")
    assert gamma.app is not None
    await outbox_of(gamma.app).follow(await _actor(gamma, "carol"), alice)
    await drain(alpha, beta, gamma)
    return Trio(alpha, beta, gamma, alice, bob, carol)


async def _reply(trio: Trio, parent: str, *, to_followers: bool) -> str:
    """bob replies to `parent` (publicly), addressing alice's followers when asked."""
    assert trio.beta.app is not None
    audience = [f"{trio.alice}/followers"] if to_followers else []
    return await outbox_of(trio.beta.app).post(
        await _actor(trio.beta, "bob"),
        NoteDraft(text="A reply", visibility=Visibility.PUBLIC, in_reply_to=parent),
        audience=audience,
    )


async def _create_of(instance: Instance, object_id: str) -> str:
    return await _text(instance, "SELECT id FROM activities WHERE object_id = ?", object_id)


async def test_reply_is_forwarded_byte_identical_and_accepted_on_its_signatures(
    trio: Trio,
) -> None:
    # Given alice's public note, which carol (gamma) follows
    assert trio.alpha.app is not None and trio.gamma.app is not None
    note = await outbox_of(trio.alpha.app).post(
        await _actor(trio.alpha, "alice"), NoteDraft(text="Hello", visibility=Visibility.PUBLIC)
    )
    await drain(trio.alpha, trio.beta, trio.gamma)
    # When bob (beta) replies to it, addressing alice's followers collection
    reply = await _reply(trio, note, to_followers=True)
    await drain(trio.alpha, trio.beta, trio.gamma)
    create_id = await _create_of(trio.beta, reply)
    # Then gamma got the reply from alpha: HTTP-signed by alice, accepted on bob's proofs
    received = await inbox_queue.get(trio.gamma.db, create_id)
    assert received is not None
    assert received.actor == trio.bob and received.signer == trio.alice
    assert received.state == "applied"
    stored = await objects.get(trio.gamma.db, reply)
    assert stored is not None and stored.in_reply_to == note
    # And the body is byte-identical to what beta sent and alpha received
    sent = await _text(trio.beta, "SELECT document FROM activities WHERE id = ?", create_id)
    raw_sql = "SELECT document FROM inbox_activities WHERE activity_id = ?"
    at_alpha = await _text(trio.alpha, raw_sql, create_id)
    at_gamma = await _text(trio.gamma, raw_sql, create_id)
    assert sent.encode() == at_alpha.encode() == at_gamma.encode()
    # And bob's LD signature and integrity proof still verify at gamma
    bob = await _actor(trio.beta, "bob")
    verify_ld(received.document, bob.rsa_key.public_key())
    verify_proof(received.document, bob.ed25519_key.public_key())
    assert received.document["signature"]["creator"] == f"{trio.bob}#main-key"
    assert received.document["proof"]["verificationMethod"] == f"{trio.bob}#ed25519-key"
    # And the signed activity still takes gamma's no-pyld fast path
    assert is_canonical_shape(received.document)
    # And alpha forwarded it once, to gamma only (beta, the author's server, already has it)
    rows = await trio.alpha.db.fetchall(
        "SELECT inbox, state FROM deliveries WHERE activity_id = ?", (create_id,)
    )
    assert [(r[0], r[1]) for r in rows] == [(f"{trio.gamma.base}/inbox", deliveries.DELIVERED)]


async def test_reply_not_addressing_the_followers_is_not_forwarded(trio: Trio) -> None:
    # Given alice's public note
    assert trio.alpha.app is not None
    note = await outbox_of(trio.alpha.app).post(
        await _actor(trio.alpha, "alice"), NoteDraft(text="Hello", visibility=Visibility.PUBLIC)
    )
    await drain(trio.alpha, trio.beta, trio.gamma)
    # When bob replies without addressing alice's followers
    reply = await _reply(trio, note, to_followers=False)
    await drain(trio.alpha, trio.beta, trio.gamma)
    create_id = await _create_of(trio.beta, reply)
    # Then alpha has it, and nothing was forwarded to gamma
    assert await objects.get(trio.alpha.db, reply) is not None
    assert await inbox_queue.get(trio.gamma.db, create_id) is None
    assert not await trio.alpha.db.fetchall(
        "SELECT 1 FROM deliveries WHERE activity_id = ?", (create_id,)
    )


async def test_delete_of_a_forwarded_reply_is_forwarded_too(trio: Trio) -> None:
    # Given bob's reply to alice's note, already forwarded to gamma
    assert trio.alpha.app is not None and trio.beta.app is not None
    note = await outbox_of(trio.alpha.app).post(
        await _actor(trio.alpha, "alice"), NoteDraft(text="Hello", visibility=Visibility.PUBLIC)
    )
    await drain(trio.alpha, trio.beta, trio.gamma)
    reply = await _reply(trio, note, to_followers=True)
    await drain(trio.alpha, trio.beta, trio.gamma)
    # When bob deletes it (the Delete copies the reply's addressing)
    await outbox_of(trio.beta.app).delete(await _actor(trio.beta, "bob"), reply)
    await drain(trio.alpha, trio.beta, trio.gamma)
    # Then gamma got the Delete through alpha and tombstoned the reply
    stored = await objects.get(trio.gamma.db, reply)
    assert stored is not None and stored.deleted
