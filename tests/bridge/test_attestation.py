"""Attestations: only a quorum of honest signatures over the burn the relayer read itself mints, once;
attesters refuse what is not a final bridge burn, and their server says why with its status code."""

import dataclasses
import json
from collections.abc import Iterator

import httpx
import pytest
from eth_account import Account
from tests.support.bridge import (
    BASE,
    ETHEREUM,
    ONE,
    BridgeWorld,
    bridge_world,
    evm_word,
    fresh_wallet,
    mint_through_workflow,
)

from equitoken.bridge.attester import Attestation, AttestationRefusedError, Attester, BurnClaim
from equitoken.bridge.attester_client import AttesterClient
from equitoken.bridge.attester_server import ATTESTATIONS_PATH
from equitoken.bridge.ends import EvmEnd, Network
from equitoken.bridge.message import BridgeMessage
from equitoken.chain.errors import RevertError
from equitoken.market.calendar import MarketCalendar
from equitoken.market.replay import ReplayPriceSource

pytestmark = pytest.mark.anvil


class LyingAttester(AttesterClient):
    """A member key that signs a forged message (its receiver and amount changed) for any claim."""

    def __init__(self, key: str, world: BridgeWorld, receiver: str) -> None:
        super().__init__("http://127.0.0.1:9")  # never asked over HTTP
        self.key = Account.from_key(key)
        self.world = world
        self.receiver = receiver
        self.signed: list[BridgeMessage] = []

    def attest(self, claim: BurnClaim) -> Attestation:
        burn = self.world.relayer.network.end(claim.source_chain).burn(
            claim.tx, claim.log_index, self.world.relayer.network
        )
        assert burn is not None
        forged = dataclasses.replace(
            burn.message, receiver=evm_word(self.receiver), amount=burn.message.amount * 10
        )
        self.signed.append(forged)
        return Attestation(forged, forged.sign(self.key), self.key.address)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, prices: ReplayPriceSource, calendar: MarketCalendar
) -> Iterator[BridgeWorld]:
    with bridge_world(tmp_path_factory.mktemp("attestation"), prices, calendar) as built:
        p = built.platform
        mint_through_workflow(p, built.issuer, "AAPL", ETHEREUM, p.wallet, "10")
        yield built


def _balance(world: BridgeWorld, chain_id: int, wallet: str) -> int:
    return int(world.token(chain_id, "AAPL").balanceOf(wallet))


def test_a_lying_minority_never_mints(world: BridgeWorld) -> None:
    thief = fresh_wallet("attestation-7")
    liar = LyingAttester(world.attester_keys[2], world, thief)
    supply = world.supply("AAPL")[BASE]
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(world.wallet), ONE // 2)
    # The liar and one honest attester: the forged signature is not one over the message read here.
    below = world.new_relayer([world.attesters[0]], extra=[liar])
    world.relay(relayer=below)
    row = world.transfer(message_id)
    assert row.state == "burned"
    assert "1 of 2" in (row.reason or ""), row.reason
    assert liar.signed
    assert liar.signed[0].amount == 10 * row.amount
    # Nor can the forged message be pushed to the pool with the liar's signature.
    forged = liar.signed[0]
    with pytest.raises(RevertError, match="below quorum"):
        world.pool(BASE, "AAPL").receive.transact(
            forged.as_tuple(), [forged.sign(liar.key)], sender=world.base.roles.minter
        )
    assert world.supply("AAPL")[BASE] == supply
    assert _balance(world, BASE, thief) == 0
    # With a second honest attester the true message mints, and only it.
    honest = world.new_relayer(world.attesters[:2], extra=[liar])
    world.relay(relayer=honest)
    assert world.transfer(message_id).state == "minted", world.transfer(message_id).reason
    assert world.supply("AAPL")[BASE] == supply + ONE // 2
    assert _balance(world, BASE, thief) == 0


def test_a_replayed_message_is_refused_and_changes_nothing(world: BridgeWorld) -> None:
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(world.wallet), ONE // 4)
    world.relay()
    row = world.transfer(message_id)
    assert row.state == "minted", row.reason
    message = BridgeMessage.from_json(json.loads(row.message))
    signatures = [bytes.fromhex(s[2:]) for s in json.loads(row.attestations or "[]")]
    assert len(signatures) >= 2
    supply, balance = world.supply("AAPL")[BASE], _balance(world, BASE, world.wallet)
    with pytest.raises(RevertError, match="message already processed"):
        world.pool(BASE, "AAPL").receive.transact(
            message.as_tuple(), signatures, sender=world.base.roles.minter
        )
    assert world.supply("AAPL")[BASE] == supply
    assert _balance(world, BASE, world.wallet) == balance
    assert int(world.pool(BASE, "AAPL").message_status(message.id)) == 1


def test_below_quorum_waits_then_mints_once(world: BridgeWorld) -> None:
    supply = world.supply("AAPL")[BASE]
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(world.wallet), 3 * ONE // 4)
    lonely = world.new_relayer(attesters=[world.attesters[1]])
    world.relay(relayer=lonely)
    row = world.transfer(message_id)
    assert row.state == "burned"
    assert "1 of 2" in (row.reason or ""), row.reason
    assert world.supply("AAPL")[BASE] == supply
    pair = world.new_relayer(attesters=world.attesters[1:])
    world.relay(relayer=pair)
    world.relay(relayer=pair)
    assert world.transfer(message_id).state == "minted"
    assert world.supply("AAPL")[BASE] == supply + 3 * ONE // 4


def test_an_attester_refuses_a_burn_not_yet_final(world: BridgeWorld) -> None:
    message_id = world.send(ETHEREUM, "AAPL", BASE, evm_word(world.wallet), ONE // 8)
    world.relay()
    row = world.transfer(message_id)
    ends = dict(world.relayer.network.ends)
    ethereum = ends[ETHEREUM]
    assert isinstance(ethereum, EvmEnd)
    deep = EvmEnd(ethereum.chain, ethereum.pools, confirmations=1_000)
    attester = Attester(Account.from_key(world.attester_keys[0]), Network({**ends, ETHEREUM: deep}))
    with pytest.raises(
        AttestationRefusedError, match="confirmations on chain 31337, the bridge waits for 1000"
    ):
        attester.attest(BurnClaim(ETHEREUM, row.source_tx, row.source_log_index))
    shallow = Attester(Account.from_key(world.attester_keys[0]), Network(ends))
    signed = shallow.attest(BurnClaim(ETHEREUM, row.source_tx, row.source_log_index))
    assert signed.message.id_hex == message_id


def test_an_attester_refuses_what_is_not_a_bridge_burn(world: BridgeWorld) -> None:
    token = world.token(ETHEREUM, "AAPL")
    receipt = token.approve.transact(world.wallet, 1, sender=world.wallet)
    attester = Attester(Account.from_key(world.attester_keys[0]), world.relayer.network)
    with pytest.raises(AttestationRefusedError, match="no bridge burn"):
        attester.attest(BurnClaim(ETHEREUM, receipt.tx_hash, 0))
    with pytest.raises(AttestationRefusedError, match="not 424242"):
        attester.attest(BurnClaim(424242, receipt.tx_hash, 0))
    # Over HTTP: the refusal is a 422, a body that is not a claim a 400.
    url = world.attesters[0].url
    assert url is not None
    with httpx.Client(base_url=url, timeout=5) as http:
        refused = http.post(ATTESTATIONS_PATH, json=BurnClaim(ETHEREUM, receipt.tx_hash, 0).to_json())
        assert refused.status_code == 422
        assert refused.json()["code"] == "attestation_refused"
        assert "no bridge burn" in refused.json()["message"]
        malformed = http.post(
            ATTESTATIONS_PATH, content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert malformed.status_code == 400
        assert malformed.json()["code"] == "malformed"
        wrong = http.post(ATTESTATIONS_PATH, json={"source_chain": "x", "tx": 5})
        assert wrong.status_code == 400
        assert wrong.json()["code"] == "malformed"
