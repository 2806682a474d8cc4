"""Keep the store's view of a chain in step with its events: apply a batch, or undo every block after one.

Each batch is applied inside the caller's transaction, together with the cursor that says it was
applied, so a crash leaves either all of it or none of it. Balances and supplies are running totals
changed by each stock-token Transfer; undoing blocks reverses the stock-token Transfers the journal
holds for them. A settlement token's Transfers are journaled and nothing more. Everything
else (supply points, multiplier events, feed rounds, block hashes, the journal) carries its block
number and is deleted past the common ancestor; the registry's current state is folded again from
the journal.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from equitoken.indexer.sources import ChainEvent, Source
from equitoken.store.schema import (
    IndexBalanceRow,
    IndexBlockRow,
    IndexEventRow,
    IndexFeedRoundRow,
    IndexInvestorRow,
    IndexMultiplierEventRow,
    IndexSupplyPointRow,
    IndexSupplyRow,
    IndexWalletRow,
)

ZERO_ADDRESS = "0x" + "00" * 20
_REGISTRY_EVENTS = ("InvestorSet", "InvestorFrozen", "WalletAdded", "WalletRemoved")


def apply_events(session: Session, events: Sequence[ChainEvent], timestamps: Mapping[int, int]) -> None:
    """Journal ``events`` (in chain order) and apply them; ``timestamps`` maps their blocks to times."""
    balances: dict[tuple[str, str], int] = defaultdict(int)
    supplies: dict[str, int] = defaultdict(int)
    changed_supply: dict[tuple[str, int], None] = {}
    tickers: dict[str, str] = {}
    for event in events:
        session.add(
            IndexEventRow(
                chain_id=event.chain_id,
                block_number=event.block_number,
                block_hash=event.block_hash,
                tx_hash=event.tx_hash,
                log_index=event.log_index,
                contract=event.contract.address,
                source=event.contract.source.value,
                ticker=event.contract.ticker,
                name=event.name,
                receiver=str(event.args["receiver"]) if event.name == "Transfer" else None,
                args=event.args_json(),
            )
        )
        source, args = event.contract.source, event.args
        if source is Source.TOKEN and event.name == "Transfer":
            token = event.contract.address
            tickers[token] = str(event.contract.ticker)
            _add_transfer(balances, supplies, token, args["sender"], args["receiver"], int(args["value"]))
            if ZERO_ADDRESS in (args["sender"], args["receiver"]):
                changed_supply[(token, event.block_number)] = None
        elif source is Source.TOKEN and event.name in ("UIMultiplierUpdated", "PendingUIMultiplierCancelled"):
            _add_multiplier_event(session, event, timestamps[event.block_number])
        elif source is Source.REGISTRY:
            _apply_registry_event(session, event.chain_id, event.block_number, event.name, args)
        elif source in (Source.PRICE_FEED, Source.RESERVE_FEED):
            _apply_feed_event(session, event)
    if not events:
        return
    chain_id = events[0].chain_id
    _change_balances(session, chain_id, balances, tickers)
    running = _change_supplies(session, chain_id, supplies, tickers)
    # A supply point per block that minted or burned: replay this batch's mints and burns per block.
    after_block = {token: raw - supplies[token] for token, raw in running.items()}
    for event in events:
        if event.name != "Transfer" or event.contract.source is not Source.TOKEN:
            continue
        token, args = event.contract.address, event.args
        if args["sender"] == ZERO_ADDRESS:
            after_block[token] += int(args["value"])
        if args["receiver"] == ZERO_ADDRESS:
            after_block[token] -= int(args["value"])
        if (token, event.block_number) in changed_supply:
            session.merge(
                IndexSupplyPointRow(
                    chain_id=chain_id,
                    token=token,
                    block_number=event.block_number,
                    ticker=tickers[token],
                    timestamp=timestamps[event.block_number],
                    raw=after_block[token],
                )
            )


def undo_after(session: Session, chain_id: int, ancestor: int) -> int:
    """Undo everything derived from blocks after ``ancestor`` (-1: all of them); return events undone."""
    journal = session.scalars(
        select(IndexEventRow)
        .where(IndexEventRow.chain_id == chain_id, IndexEventRow.block_number > ancestor)
        .order_by(IndexEventRow.block_number, IndexEventRow.log_index)
    ).all()
    balances: dict[tuple[str, str], int] = defaultdict(int)
    supplies: dict[str, int] = defaultdict(int)
    tickers: dict[str, str] = {}
    for row in journal:
        if row.name == "Transfer" and row.source == Source.TOKEN and row.ticker is not None:
            args = json.loads(row.args)
            tickers[row.contract] = row.ticker
            # The reverse movement: from the receiver back to the sender.
            _add_transfer(
                balances, supplies, row.contract, args["receiver"], args["sender"], int(args["value"])
            )
    _change_balances(session, chain_id, balances, tickers)
    _change_supplies(session, chain_id, supplies, tickers)
    for table in (IndexEventRow, IndexSupplyPointRow, IndexMultiplierEventRow, IndexFeedRoundRow):
        session.execute(delete(table).where(table.chain_id == chain_id, table.block_number > ancestor))
    session.execute(
        delete(IndexBlockRow).where(IndexBlockRow.chain_id == chain_id, IndexBlockRow.number > ancestor)
    )
    if any(row.name in _REGISTRY_EVENTS for row in journal):
        _refold_registry(session, chain_id)
    return len(journal)


def forget_chain(session: Session, chain_id: int) -> None:
    """Delete everything indexed of ``chain_id`` except its cursor."""
    tables: Iterable[Any] = (
        IndexEventRow,
        IndexBalanceRow,
        IndexSupplyRow,
        IndexSupplyPointRow,
        IndexMultiplierEventRow,
        IndexWalletRow,
        IndexInvestorRow,
        IndexFeedRoundRow,
        IndexBlockRow,
    )
    for table in tables:
        session.execute(delete(table).where(table.chain_id == chain_id))


# ------------------------------------------------------------------------------------------- balances


def _add_transfer(
    balances: dict[tuple[str, str], int],
    supplies: dict[str, int],
    token: str,
    sender: str,
    receiver: str,
    value: int,
) -> None:
    if sender == ZERO_ADDRESS:
        supplies[token] += value
    else:
        balances[(token, sender)] -= value
    if receiver == ZERO_ADDRESS:
        supplies[token] -= value
    else:
        balances[(token, receiver)] += value


def _change_balances(
    session: Session, chain_id: int, deltas: Mapping[tuple[str, str], int], tickers: Mapping[str, str]
) -> None:
    for (token, holder), delta in deltas.items():
        if delta == 0:
            continue
        row = session.get(IndexBalanceRow, (chain_id, token, holder))
        raw = (row.raw if row is not None else 0) + delta
        if raw < 0:
            raise AssertionError(
                f"chain {chain_id}: {holder} would hold {raw} of {token}; the journal is broken"
            )
        if row is None:
            session.add(
                IndexBalanceRow(chain_id=chain_id, token=token, holder=holder, ticker=tickers[token], raw=raw)
            )
        elif raw == 0:
            session.delete(row)
        else:
            row.raw = raw
    session.flush()


def _change_supplies(
    session: Session, chain_id: int, deltas: Mapping[str, int], tickers: Mapping[str, str]
) -> dict[str, int]:
    totals = {}
    for token, delta in deltas.items():
        row = session.get(IndexSupplyRow, (chain_id, token))
        if row is None:
            row = IndexSupplyRow(chain_id=chain_id, token=token, ticker=tickers[token], raw=0)
            session.add(row)
        row.raw += delta
        totals[token] = row.raw
    return totals


# ---------------------------------------------------------------------------------------- multipliers


def _add_multiplier_event(session: Session, event: ChainEvent, block_timestamp: int) -> None:
    args = event.args
    if event.name == "UIMultiplierUpdated":
        kind, old = "set", int(args["oldMultiplier"])
        new, set_at = int(args["newMultiplier"]), int(args["setAtTimestamp"])
    else:
        kind, old, new, set_at = "cancel", None, int(args["multiplier"]), block_timestamp
    session.add(
        IndexMultiplierEventRow(
            chain_id=event.chain_id,
            block_number=event.block_number,
            log_index=event.log_index,
            token=event.contract.address,
            ticker=str(event.contract.ticker),
            kind=kind,
            old_multiplier=old,
            new_multiplier=new,
            set_at=set_at,
            effective_at=int(args["effectiveAtTimestamp"]),
        )
    )


# ------------------------------------------------------------------------------------------- registry


def _apply_registry_event(
    session: Session, chain_id: int, block_number: int, name: str, args: Mapping[str, Any]
) -> None:
    investor_id = int(args["investor_id"])
    if name in ("InvestorSet", "InvestorFrozen"):
        investor = session.get(IndexInvestorRow, (chain_id, investor_id))
        if investor is None:
            investor = IndexInvestorRow(
                chain_id=chain_id,
                investor_id=investor_id,
                accredited=False,
                frozen=False,
                block_number=block_number,
            )
            session.add(investor)
            session.flush()  # later events of the batch find it by primary key
        investor.block_number = block_number
        if name == "InvestorSet":
            investor.country = int(args["country"])
            investor.kyc_expiry = int(args["kyc_expiry"])
            investor.accredited = bool(args["accredited"])
        else:
            investor.frozen = bool(args["frozen"])
        return
    wallet = session.get(IndexWalletRow, (chain_id, args["wallet"]))
    if name == "WalletAdded":
        if wallet is None:
            wallet = IndexWalletRow(
                chain_id=chain_id, wallet=args["wallet"], investor_id=investor_id, block_number=block_number
            )
            session.add(wallet)
            session.flush()
        wallet.investor_id = investor_id
        wallet.block_number = block_number
    elif wallet is not None:
        session.delete(wallet)
        session.flush()


def _refold_registry(session: Session, chain_id: int) -> None:
    for table in (IndexWalletRow, IndexInvestorRow):
        session.execute(delete(table).where(table.chain_id == chain_id))
    session.flush()
    rows = session.scalars(
        select(IndexEventRow)
        .where(IndexEventRow.chain_id == chain_id, IndexEventRow.name.in_(_REGISTRY_EVENTS))
        .where(IndexEventRow.source == Source.REGISTRY)
        .order_by(IndexEventRow.block_number, IndexEventRow.log_index)
    ).all()
    for row in rows:
        _apply_registry_event(session, chain_id, row.block_number, row.name, json.loads(row.args))
        session.flush()


# ---------------------------------------------------------------------------------------------- feeds


def _apply_feed_event(session: Session, event: ChainEvent) -> None:
    args, feed = event.args, event.contract.address
    round_id = int(args["roundId"])
    row = session.get(IndexFeedRoundRow, (event.chain_id, feed, round_id))
    if row is None:
        # A round keeps the feed's market status unless the same update changes it.
        previous = session.scalars(
            select(IndexFeedRoundRow.status)
            .where(IndexFeedRoundRow.chain_id == event.chain_id, IndexFeedRoundRow.feed == feed)
            .order_by(IndexFeedRoundRow.round_id.desc())
            .limit(1)
        ).first()
        row = IndexFeedRoundRow(
            chain_id=event.chain_id,
            feed=feed,
            round_id=round_id,
            ticker=str(event.contract.ticker),
            kind=event.contract.source.value,
            answer=0,
            started_at=0,
            updated_at=0,
            status=previous or 0,
            block_number=event.block_number,
        )
        session.add(row)
        session.flush()
    if event.name == "NewRound":
        row.started_at = int(args["startedAt"])
    elif event.name == "AnswerUpdated":
        row.answer = int(args["current"])
        row.updated_at = int(args["updatedAt"])
    elif event.name == "MarketStatusChanged":
        row.status = int(args["current"])
