"""Named points between workflow steps where a test can kill the process for real.

With `EQUITOKEN_CRASH_AT=<point>` in its environment, the process sends itself SIGKILL when it reaches
that point: no exception handler, `finally` block or atexit hook runs, as in a power cut. The crash
tests restart the workflow afterwards and check that every request ends exactly once.
"""

import os
import signal

CRASH_ENV = "EQUITOKEN_CRASH_AT"

# In the order a mint passes them.
CRASH_POINTS = (
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


def checkpoint(point: str) -> None:
    """Kill this process with SIGKILL if the environment asks to crash at `point`."""
    if os.environ.get(CRASH_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
