"""Bring a node that lost its last blocks back in line with the outbox after a crash.

Anvil writes its state every few seconds and when it stops; a crash of the node itself loses the
blocks since the last write, while the database already records their transactions as confirmed.
Every transaction of the outbox is kept signed, so the lost ones are sent again, in the order they
were first mined (a payment before the mint it paid for), then those that were never mined.
"""

from sqlalchemy import or_, select

from equitoken.chain.errors import ChainError
from equitoken.chain.evm.chain import EvmChain
from equitoken.durable.outbox import TxStatus
from equitoken.store.database import Database
from equitoken.store.schema import ChainTransactionRow


def replay_lost_transactions(database: Database, chain: EvmChain) -> int:
    """Send again every stored transaction the node does not have; return how many were sent."""
    head = chain.block_number()
    with database.transaction() as session:
        rows = list(
            session.scalars(
                select(ChainTransactionRow)
                .where(ChainTransactionRow.chain_id == chain.chain_id)
                .where(
                    or_(
                        ChainTransactionRow.status == TxStatus.SIGNED,
                        ChainTransactionRow.block_number > head,
                    )
                )
            )
        )
    mined_first = sorted(
        rows,
        key=lambda r: (r.block_number is None, r.block_number or 0, r.sender, r.nonce),
    )
    sent = 0
    for row in mined_first:
        if chain.receipt(row.tx_hash) is not None:
            continue
        try:
            chain.send_raw(row.raw)
            chain.wait_for_receipt(row.tx_hash, 60.0)
        except ChainError:
            continue  # e.g. its nonce was taken meanwhile: the workflow's own checks report it
        sent += 1
    return sent
