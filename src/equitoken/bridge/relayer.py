"""The relayer: carry each bridge message from its burn to its mint, exactly once, across crashes.

A transfer is a durable row (`BridgeTransferRow`) advanced by the step machine:

    burned --(a quorum of attesters signs)--> attested --(the destination mints)--> minted
                                                       \\--(the receiver is refused)--> held
    held --(the compliance agent releases it)--> released
         \\--(the compliance agent returns it)--> returned, and a new transfer back to the sender

`discover` records the burns buried under each source chain's confirmation depth and moves the
chain's cursor in the same database transaction. Each step does one thing whose effect is recorded
with the row's new state; what happens on a chain goes through the destination's outbox under a
purpose named by the message id (`bridge-receive:<id>`, ...), so a relayer killed at any point
finishes on restart what it started and never mints twice; on EVM the pool refuses a second
`receive` of the same id besides. Before an EVM mint the issuer raises the destination's reserve
feed to its allotment of custody, which already counts this transfer as in flight there (see
`issuer.chains`), so the secure-mint gate lets exactly the burned amount through.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from equitoken.bridge.attester import BurnClaim
from equitoken.bridge.attester_client import AttesterClient, AttesterUnavailableError
from equitoken.bridge.delivery import HELD, MINTED, NOT_SEEN, Delivery
from equitoken.bridge.ends import Network, SourceBurn
from equitoken.bridge.message import BridgeMessage, quorum
from equitoken.durable.crashpoints import checkpoint
from equitoken.durable.outbox import Outbox
from equitoken.durable.steps import CallOutbox, Step, StepMachine
from equitoken.model.time import Clock
from equitoken.store.database import Database
from equitoken.store.schema import BridgeCursorRow, BridgeEventRow, BridgeTransferRow


class TransferState(StrEnum):
    BURNED = "burned"
    ATTESTED = "attested"
    MINTED = "minted"
    HELD = "held"
    RELEASED = "released"
    RETURNED = "returned"

    @property
    def is_final(self) -> bool:
        return self in (TransferState.MINTED, TransferState.RELEASED, TransferState.RETURNED)


class Allotments(Protocol):
    """The issuer's part: custody allotted to a destination chain (`issuer.service.Issuer`)."""

    def bridge_shortfall(self, chain_id: int, ticker: str) -> str | None: ...

    def attest_allotment(self, chain_id: int, ticker: str, purpose: str) -> bool: ...


@dataclass(frozen=True)
class AttesterSet:
    """Who may attest, and how many must: the pools' `attesters` and `threshold`."""

    members: Sequence[str]
    threshold: int

    def __post_init__(self) -> None:
        if not 1 <= self.threshold <= len(self.members):
            raise ValueError(f"a quorum of {self.threshold} of {len(self.members)} attesters cannot be met")


class Relayer(StepMachine[BridgeTransferRow]):
    """Discover burns, gather attestations, mint at the destination; once each."""

    row_type = BridgeTransferRow
    owner_kind = "bridge"

    def __init__(
        self,
        database: Database,
        clock: Clock,
        network: Network,
        deliveries: Mapping[int, Delivery],
        attesters: Sequence[AttesterClient],
        attester_set: AttesterSet,
        allotments: Allotments,
    ) -> None:
        outboxes = [d.outbox for d in deliveries.values()]
        evm = next((o for o in outboxes if isinstance(o, Outbox)), None)
        assert evm is not None, "the bridge joins at least one EVM chain"
        super().__init__(database, evm, clock)
        self.network = network
        self.deliveries = dict(deliveries)
        self.attesters = list(attesters)
        self.attester_set = attester_set
        self.allotments = allotments

    # -- the machine

    def outboxes(self) -> Sequence[CallOutbox]:
        seen: list[CallOutbox] = []
        for delivery in self.deliveries.values():
            if all(delivery.outbox is not o for o in seen):
                seen.append(delivery.outbox)
        return seen

    def process(self) -> int:
        """Record new burns, then advance every open transfer; return how many steps were taken."""
        return self.discover() + super().process()

    def open_ids(self, session: Session) -> list[str]:
        rows = session.scalars(
            select(BridgeTransferRow.id)
            .where(
                BridgeTransferRow.state.in_(
                    [TransferState.BURNED, TransferState.ATTESTED, TransferState.HELD]
                )
            )
            # Burns found in one pass share a creation time: deliver them in the order they burned.
            .order_by(
                BridgeTransferRow.created_at,
                BridgeTransferRow.source_chain,
                BridgeTransferRow.source_block,
                BridgeTransferRow.source_log_index,
                BridgeTransferRow.id,
            )
        )
        return list(rows)

    def step_for(self, row: BridgeTransferRow) -> Step | None:
        state = TransferState(row.state)
        if state is TransferState.BURNED:
            return self._attest
        if state is TransferState.ATTESTED:
            return self._deliver
        if state is TransferState.HELD and row.resolution is not None:
            return self._resolve
        return None

    def event(self, row: BridgeTransferRow, at: datetime, to_state: str, reason: str) -> BridgeEventRow:
        return BridgeEventRow(
            transfer_id=row.id, at=at, from_state=row.state, to_state=to_state, reason=reason
        )

    # -- discovery

    def discover(self) -> int:
        """Record the burns final on each source chain since its cursor; return how many were new."""
        new = 0
        for chain_id, end in self.network.ends.items():
            until = end.head() - end.confirmations
            with self.db.transaction() as session:
                cursor = session.get(BridgeCursorRow, chain_id)
                after = -1 if cursor is None else cursor.block
            if until <= after:
                continue
            burns = end.burns(after, until, self.network)
            with self.db.transaction() as session:
                cursor = session.get(BridgeCursorRow, chain_id, with_for_update=True)
                if cursor is None:
                    session.add(BridgeCursorRow(chain_id=chain_id, block=until))
                elif cursor.block >= until:  # another relayer got here first
                    continue
                else:
                    cursor.block = until
                new += sum(self._record_burn(session, burn, None) for burn in burns)
            if burns:
                checkpoint("bridge_discovered")
        return new

    def _record_burn(self, session: Session, burn: SourceBurn, returns: str | None) -> bool:
        message = burn.message
        if session.get(BridgeTransferRow, message.id_hex) is not None:
            return False
        now = self.now()
        row = BridgeTransferRow(
            id=message.id_hex,
            ticker=burn.ticker,
            source_chain=message.source_chain,
            dest_chain=message.dest_chain,
            source_tx=burn.tx,
            source_log_index=burn.log_index,
            source_block=burn.block,
            message=json.dumps(message.to_json()),
            sender="0x" + message.sender.hex(),
            receiver="0x" + message.receiver.hex(),
            amount=message.amount,
            state=TransferState.BURNED,
            returns=returns,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        what = f"returning held transfer {returns}" if returns else "burned"
        session.add(
            BridgeEventRow(
                transfer_id=row.id,
                at=now,
                from_state=None,
                to_state=TransferState.BURNED,
                reason=f"{what}: {message.amount} units of {burn.ticker} from chain {message.source_chain} "
                f"to chain {message.dest_chain} at {burn.tx}",
            )
        )
        return True

    # -- steps

    def _attest(self, row_id: str) -> bool:
        with self.db.transaction() as session:
            row = self.load(session, row_id, lock=False)
            message, claim = _message(row), BurnClaim(row.source_chain, row.source_tx, row.source_log_index)
        signatures, refusals = [], []
        for client in self.attesters:
            try:
                signatures.append(client.attest(claim).signature)
            except AttesterUnavailableError as error:
                refusals.append(str(error))
        valid = quorum(message, signatures, self.attester_set.members)
        if len(valid) < self.attester_set.threshold:
            with self.db.transaction() as session:
                row = self.load(session, row_id)
                row.reason = (
                    f"waiting for attestations: {len(valid)} of {self.attester_set.threshold} needed"
                    + (f" ({'; '.join(refusals)})" if refusals else "")
                )
            return False
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            if row.state != TransferState.BURNED:
                return False
            row.attestations = json.dumps(["0x" + s.hex() for s in valid])
            row.reason = None
            self.move(
                session, row, TransferState.ATTESTED, f"attested by {len(valid)} of {len(self.attesters)}"
            )
        checkpoint("bridge_attested")
        return True

    def _deliver(self, row_id: str) -> bool:
        with self.db.transaction() as session:
            row = self.load(session, row_id, lock=False)
            message, ticker = _message(row), row.ticker
            signatures = [bytes.fromhex(s[2:]) for s in json.loads(row.attestations or "[]")]
        delivery = self.deliveries[message.dest_chain]
        status = delivery.status(ticker, message)
        if status != NOT_SEEN:  # delivered by someone else, or by us before the database heard
            return self._settle(row_id, status)
        refusal = delivery.refusal(ticker, message.receiver, message.sender)
        if refusal is not None:
            with self.db.transaction() as session:
                self.move(session, self.load(session, row_id), TransferState.HELD, f"held: {refusal}")
            return True
        purpose = f"bridge-receive:{row_id}"
        with self.db.transaction() as session:
            sent = delivery.outbox.find(session, purpose) is not None
        if not sent:
            if delivery.gated_by_feed:
                self.allotments.attest_allotment(delivery.chain_id, ticker, f"bridge-reserve:{row_id}")
            shortfall = self.allotments.bridge_shortfall(delivery.chain_id, ticker)
            if shortfall is not None:
                return self._wait(row_id, f"waiting for custody: {shortfall}")

        def confirmed(session: Session, row: BridgeTransferRow) -> None:
            stored = delivery.outbox.find(session, purpose)
            row.dest_tx = stored.tx_hash if stored is not None else None
            outcome = delivery.status(ticker, message) if delivery.gated_by_feed else MINTED
            if outcome == HELD:
                self.move(session, row, TransferState.HELD, "held by the destination pool: receiver refused")
            else:
                self.move(
                    session, row, TransferState.MINTED, f"minted {message.amount} units at {row.dest_tx}"
                )

        def failed(session: Session, row: BridgeTransferRow, reason: str) -> None:
            row.reason = f"waiting: {reason}"
            delivery.outbox.release_failed(session, self.owner(row_id))

        took = self.transact_call(
            delivery.outbox,
            row_id,
            purpose,
            delivery.receive_call(ticker, message, signatures),
            confirmed,
            failed,
            crash_sent="bridge_receive_sent",
            crash_mined="bridge_receive_mined",
        )
        with self.db.transaction() as session:
            return took and self.load(session, row_id, lock=False).state != TransferState.ATTESTED

    def _settle(self, row_id: str, status: int) -> bool:
        # Held, or released or returned already: the held step's record was lost with a crash.
        with self.db.transaction() as session:
            row = self.load(session, row_id)
            if status == MINTED:
                self.move(session, row, TransferState.MINTED, "minted (found done at the destination)")
            else:
                self.move(session, row, TransferState.HELD, "held by the destination pool: receiver refused")
        return True

    def _resolve(self, row_id: str) -> bool:
        with self.db.transaction() as session:
            row = self.load(session, row_id, lock=False)
            message, ticker, resolution = _message(row), row.ticker, row.resolution or ""
        delivery = self.deliveries[message.dest_chain]
        if resolution.startswith("release:"):
            to = resolution.removeprefix("release:")
            purpose = f"bridge-release:{row_id}"

            def released(session: Session, row: BridgeTransferRow) -> None:
                self.move(session, row, TransferState.RELEASED, f"released to {to} by the compliance agent")

            call = delivery.release_call(ticker, message, to)
            return self._run(delivery, row_id, purpose, call, released)
        purpose = f"bridge-return:{row_id}"

        def returned(session: Session, row: BridgeTransferRow) -> None:
            stored = delivery.outbox.find(session, purpose)
            assert stored is not None
            burn = delivery.returned_burn(stored.tx_hash, self.network)
            if burn is None:
                raise RuntimeError(f"the return of {row_id} at {stored.tx_hash} made no bridge message")
            self._record_burn(session, burn, returns=row_id)
            self.move(
                session, row, TransferState.RETURNED, f"returned to its sender as {burn.message.id_hex}"
            )

        return self._run(delivery, row_id, purpose, delivery.return_call(ticker, message), returned)

    def _run(
        self,
        delivery: Delivery,
        row_id: str,
        purpose: str,
        call: object,
        confirmed: Callable[[Session, BridgeTransferRow], None],
    ) -> bool:
        def failed(session: Session, row: BridgeTransferRow, reason: str) -> None:
            row.resolution = None
            self.note(session, row, f"the compliance agent's decision failed, decide again: {reason}")
            delivery.outbox.release_failed(session, self.owner(row_id))

        return self.transact_call(delivery.outbox, row_id, purpose, call, confirmed, failed)

    def _wait(self, row_id: str, reason: str) -> bool:
        with self.db.transaction() as session:
            self.load(session, row_id).reason = reason
        return False

    # -- the compliance agent's decisions

    def decide(self, transfer_id: str, *, release_to: str | None = None) -> None:
        """Record the compliance agent's decision for a held transfer: release it to `release_to`, or
        return it to its sender (None); the next `process` carries it out. Raise ValueError or
        LookupError naming the problem; nothing changes then."""
        with self.db.transaction() as session:
            row = session.get(BridgeTransferRow, transfer_id, with_for_update=True)
            if row is None:
                raise LookupError(f"no bridge transfer {transfer_id}")
            if row.state != TransferState.HELD:
                raise ValueError(f"bridge transfer {transfer_id} is {row.state}, not held")
            if row.resolution is not None:
                raise ValueError(f"bridge transfer {transfer_id} is already being settled ({row.resolution})")
            delivery = self.deliveries[row.dest_chain]
            if release_to is None:
                row.resolution = "return"
                self.note(session, row, "the compliance agent returns it to its sender")
                return
            wallet = delivery.parse_wallet(release_to)
            refusal = delivery.release_refusal(row.ticker, wallet)
            if refusal is not None:
                raise ValueError(f"cannot release to {wallet}: {refusal}")
            row.resolution = f"release:{wallet}"
            self.note(session, row, f"the compliance agent releases it to {wallet}")


def _message(row: BridgeTransferRow) -> BridgeMessage:
    return BridgeMessage.from_json(json.loads(row.message))
