"""Gas of the oracle network on chain: one k-of-n round, and a guarded price read against a plain one.

Every figure is the ``gasUsed`` of a real signed transaction's receipt on a local anvil node, so it
includes the 21,000 of a transaction and the cold account and storage access a fresh transaction
pays. Run::

    python bench/oracle.py          # a table
    python bench/oracle.py --json   # one JSON object

- ``update_gas``: one ``PriceFeed.transmit`` with all n reporters' signed observations, for each n
  (quorum n // 2 + 1), in the steady state: a second round after a first, the market status
  unchanged, the price moved by more than the feed's deviation so the heartbeat is waived.
- ``guarded_read_gas``: ``GuardedReader.read()``, a venue reading through ``price_guard``.
- ``plain_read_gas``: ``PlainReader.read()``, a Chainlink consumer reading ``latestRoundData``.
"""

import argparse
import json
import sys
from collections.abc import Sequence

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from equitoken.chain.anvil import AnvilNode
from equitoken.chain.compiler import compile_contract
from equitoken.chain.evm import Contract, Receipt
from equitoken.chain.jsonrpc import JsonRpcChain
from equitoken.model.quantities import Price
from equitoken.oracle.observation import FeedId, MarketStatus, Observation

REPORTER_COUNTS = (1, 4, 7, 10)
GUARDED_READ_TARGET = 30_000
DECIMALS = 8
NO_TOKEN = "0x0000000000000000000000000000000000000000"
FIRST_PRICE = Price(150 * 10**DECIMALS)
# 1%: above the feed's default 0.5% deviation, so the second round needs no heartbeat wait.
STEADY_MOVE_BPS = 100
# Seconds between two rounds' observations: newer than the last, well inside the report age.
OBSERVATION_STEP = 60
GUARD_MAX_AGE = 3_600
GUARD_BAND = (1, 2**100)

Figures = dict[str, int | float | dict[str, int]]


def reporter_keys(count: int) -> list[LocalAccount]:
    """Return `count` deterministic reporter keys, in the order `transmit` demands (by address)."""
    keys: list[LocalAccount] = [Account.from_key(keccak(text=f"bench reporter {i}")) for i in range(count)]
    return sorted(keys, key=lambda key: int(key.address, 16))


def quorum_for(reporter_count: int) -> int:
    """Return the smallest majority of `reporter_count` reporters."""
    return reporter_count // 2 + 1


def deploy_feed(chain: JsonRpcChain, admin: str, reporters: Sequence[LocalAccount]) -> Contract:
    """Deploy a share price feed (no token) with `reporters` and a majority quorum."""
    return chain.deploy_contract(
        compile_contract("oracle/PriceFeed.vy"),
        DECIMALS,
        "AAPL / USD",
        NO_TOKEN,
        [key.address for key in reporters],
        quorum_for(len(reporters)),
        sender=admin,
    )


def transmit_round(
    chain: JsonRpcChain,
    feed: Contract,
    reporters: Sequence[LocalAccount],
    round_id: int,
    price: Price,
    sender: str,
) -> Receipt:
    """Have every reporter observe `price` (market open) and send the signed round in its own block.

    The observations are made in the second the next block is mined, so the round's age is zero
    whatever the wall clock did between runs, and the gas does not depend on it.
    """
    observed_at = chain.timestamp() + OBSERVATION_STEP
    chain.set_next_block_timestamp(observed_at)
    where = FeedId(chain.chain_id, feed.address)
    signed = [
        Observation(where, round_id, price, MarketStatus.OPEN, observed_at).sign(key) for key in reporters
    ]
    receipt: Receipt = feed.transmit(round_id, [s.as_call_argument() for s in signed], sender=sender)
    return receipt


def steady_update_gas(chain: JsonRpcChain, admin: str, reporter_count: int) -> int:
    """Return the gas of the second round of a fresh feed with `reporter_count` reporters."""
    reporters = reporter_keys(reporter_count)
    feed = deploy_feed(chain, admin, reporters)
    transmit_round(chain, feed, reporters, 1, FIRST_PRICE, admin)
    moved = FIRST_PRICE.scaled_bps(STEADY_MOVE_BPS)
    return transmit_round(chain, feed, reporters, 2, moved, admin).gas_used


def read_gas(chain: JsonRpcChain, admin: str) -> tuple[int, int]:
    """Return the gas of a guarded read and of a plain Chainlink read of the same fresh round."""
    reporters = reporter_keys(1)
    feed = deploy_feed(chain, admin, reporters)
    transmit_round(chain, feed, reporters, 1, FIRST_PRICE, admin)
    guarded = chain.deploy_contract(
        compile_contract("mocks/GuardedReader.vy"), feed.address, GUARD_MAX_AGE, *GUARD_BAND, sender=admin
    )
    plain = chain.deploy_contract(compile_contract("mocks/PlainReader.vy"), feed.address, sender=admin)
    guarded_receipt: Receipt = guarded.read(sender=admin)
    plain_receipt: Receipt = plain.read(sender=admin)
    return guarded_receipt.gas_used, plain_receipt.gas_used


def measure(reporter_counts: Sequence[int] = REPORTER_COUNTS) -> Figures:
    """Start a fresh anvil node and measure every figure on it."""
    with AnvilNode(accounts=1) as node:
        chain = node.chain()
        admin = node.accounts[0]
        update_gas = {str(n): steady_update_gas(chain, admin, n) for n in reporter_counts}
        guarded, plain = read_gas(chain, admin)
    return {"update_gas": update_gas, "guarded_read_gas": guarded, "plain_read_gas": plain}


def render(figures: Figures) -> str:
    """Return a readable table: one row per figure, nested figures one row per key."""
    lines = [f"{'figure':<26}{'value':>12}"]
    for name, value in figures.items():
        if isinstance(value, dict):
            for key, item in value.items():
                lines.append(f"{f'{name}[n={key}]':<26}{item:>12,}")
        else:
            lines.append(f"{name:<26}{value:>12,}")
    guarded, plain = figures.get("guarded_read_gas"), figures.get("plain_read_gas")
    if isinstance(guarded, int) and isinstance(plain, int):
        verdict = "meets" if guarded < GUARDED_READ_TARGET else "misses"
        lines.append("")
        lines.append(
            f"guarded read: {guarded - plain:+,} gas over a plain read "
            f"({verdict} the {GUARDED_READ_TARGET:,} target)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    parser.add_argument(
        "--reporters",
        type=int,
        nargs="+",
        default=list(REPORTER_COUNTS),
        help="reporter counts n to measure a round for (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if any(n < 1 or n > 16 for n in args.reporters):
        parser.error(f"reporter counts must be between 1 and 16, got {args.reporters}")
    figures = measure(args.reporters)
    print(json.dumps(figures) if args.json else render(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
