"""Every named point between durable steps where a test can kill the process for real, in one registry.

With `EQUITOKEN_CRASH_AT=<point>` in its environment, a process sends itself SIGKILL when it reaches
that point: no exception handler, `finally` block or atexit hook runs, as in a power cut. The crash
tests restart the work afterwards and check that everything ends exactly once. Where the chain lives
in the test's own process (and so cannot outlive a kill), `simulated_crash(point)` raises
`SimulatedCrash` at the point instead.
"""

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from equitoken.model.errors import EquitokenError

CRASH_ENV = "EQUITOKEN_CRASH_AT"

# In the order a mint (then a redemption) passes them.
MINT_AND_REDEEM = (
    "payment_seen",  # the payment is confirmed and recorded
    "broker_order",  # the broker accepted the order; the request does not know it yet
    "fill",  # a fill is recorded
    "custody_entry",  # the fill's custody entry is posted
    "reserve_push",  # the reserve attestation is broadcast, its receipt not read
    "mint_sent",  # the mint is broadcast, its receipt not read
    "before_confirmation",  # the mint is mined; the request does not know it yet
    "refund_sent",  # the refund is broadcast
    "tokens_burned",  # (redeem) the burn is confirmed and recorded
    "payout_sent",  # (redeem) the payout is broadcast
)
CORPORATE_ACTIONS = (
    "ca_custody_adjusted",  # a split's or fee's custody entry is posted
    "ca_multiplier_sent",  # the multiplier transaction is broadcast, its receipt not read
    "ca_recorded",  # a dividend's holders of record and payments are stored
    "ca_fill",  # a reinvestment fill is in custody
    "ca_payment_sent",  # a dividend payment is broadcast, its receipt not read
    "ca_payment_mined",  # a dividend payment is mined; the database does not know it yet
)
EXCHANGE_FUNDING = (
    "deposit_credited",  # a deposit is credited in the ledger; its row and cursor are not stored
    "withdrawal_recorded",  # a withdrawal's row is stored; it is not debited yet
    "withdrawal_debited",  # a withdrawal is debited; its transfer is not signed yet
    "withdrawal_sent",  # the withdrawal's transfer is broadcast, its receipt not read
    "withdrawal_mined",  # the withdrawal's transfer is mined; the database does not know it yet
)
SOLANA = (
    "solana_signed",  # a transaction is signed and stored; not sent yet
    "solana_resigned",  # a transaction whose blockhash expired unlanded is signed again; not sent yet
)
KEEPERS = (
    "liquidation_sent",  # a liquidation is broadcast, its receipt not read
    "collateral_swap_sent",  # the swap of seized collateral is broadcast, its receipt not read
    "perp_order_sent",  # a pending perpetual order's execution is broadcast, its receipt not read
    "perp_trigger_sent",  # a take-profit or stop-loss execution is broadcast, its receipt not read
    "perp_liquidation_sent",  # a perpetual position's liquidation is broadcast, its receipt not read
    "synth_liquidation_sent",  # a synthetic-stock position's liquidation is broadcast, its receipt not read
)
CFD_TRANSFERS = (
    "cfd_transfer_recorded",  # a transfer's row is stored; nothing is debited yet
    "cfd_transfer_debited",  # the source account is debited; the destination is not credited yet
)
BRIDGE = (
    "bridge_discovered",  # burns are recorded and the source chain's cursor moved; nothing attested yet
    "bridge_attested",  # a transfer's quorum of attestations is stored; nothing sent to its destination
    "bridge_reserve_sent",  # the destination's reserve attestation is broadcast, its receipt not read
    "bridge_receive_sent",  # the destination's mint (receive) is broadcast, its receipt not read
    "bridge_receive_mined",  # the destination's mint is mined; the database does not know it yet
)
ORDER_PROCESSOR = (
    "processor_discovered",  # orders placed on-chain are recorded and the cursor moved; nothing ordered
    "processor_broker_order",  # the broker accepted an order's order; the order does not know it yet
    "processor_fill",  # an order's broker fills are recorded; none settled
    "processor_custody",  # a buy fill's custody entry is posted; the reserve and the mint are not sent
    "processor_fill_sent",  # an on-chain fill (mint or burn and payment) is broadcast, its receipt not read
    "processor_fill_mined",  # an on-chain fill is mined; the database does not know it yet
    "processor_cancel_sent",  # an order's on-chain cancel (the refund) is broadcast, its receipt not read
)
ATTESTATION = (
    "attestation_executed",  # a quote's on-chain flow is seen and its inventory entry posted
    "attestation_hedge_order",  # the broker accepted the hedge order; the quote does not know it yet
    "attestation_fill",  # a hedge fill is recorded
    "attestation_custody_entry",  # a hedge fill's custody entry is posted
    "attestation_reserve_sent",  # the reserve attestation after the hedge is broadcast, its receipt not read
)
PRIVATE_COMPANIES = (
    "private_action_sent",  # a private company's valuation, issue, buyback or decision is broadcast, not read
    "private_action_mined",  # that transaction is mined; the database does not know it yet
)
EXCHANGE_LEDGER = (
    "ledger_recorded",  # a ledger order's row is stored; the account is not debited yet
    "ledger_debited",  # the account paid (USDC or ledger shares); no broker order yet
    "ledger_broker_order",  # the broker accepted the order; the row does not know it yet
    "ledger_custody",  # the fills' custody entry is posted; nothing credited to the account yet
    "ledger_credited",  # the account is credited (shares or USDC, and any refund); the row is not done
)
CRASH_POINTS = (
    MINT_AND_REDEEM
    + CORPORATE_ACTIONS
    + EXCHANGE_FUNDING
    + SOLANA
    + KEEPERS
    + CFD_TRANSFERS
    + BRIDGE
    + ORDER_PROCESSOR
    + ATTESTATION
    + PRIVATE_COMPANIES
    + EXCHANGE_LEDGER
)


class UnknownCrashPointError(EquitokenError, ValueError):
    """A crash point not in the registry: a test asking for it would never crash."""

    code = "unknown_crash_point"


class SimulatedCrash(Exception):  # noqa: N818 - it is not an error: it stands in for a kill
    """Raised at a crash point inside `simulated_crash`, in place of SIGKILL."""

    def __init__(self, point: str) -> None:
        super().__init__(f"simulated crash at {point}")
        self.point = point


_simulated: ContextVar[str | None] = ContextVar("simulated_crash", default=None)


def _known(point: str) -> str:
    if point not in CRASH_POINTS:
        raise UnknownCrashPointError(f"no crash point {point!r}; the registry has {', '.join(CRASH_POINTS)}")
    return point


def checkpoint(point: str) -> None:
    """Kill this process with SIGKILL if the environment asks to crash at `point` (raise `SimulatedCrash`
    inside `simulated_crash(point)`)."""
    _known(point)
    if _simulated.get() == point:
        raise SimulatedCrash(point)
    if os.environ.get(CRASH_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def simulated_crash(point: str) -> Iterator[None]:
    """Raise `SimulatedCrash` when the work inside reaches `point`."""
    token = _simulated.set(_known(point))
    try:
        yield
    finally:
        _simulated.reset(token)
