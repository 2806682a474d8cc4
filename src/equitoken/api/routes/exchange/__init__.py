"""The order-book exchange: markets, books and trades for everyone; orders and balances for members.

Prices travel as dollars and quantities as shares, in decimal strings; they are converted exactly to
the book's ticks and the token's units, and a price off the tick or a quantity off the lot is
refused with the step named. Every refusal of the engine or the book is a problem with a stable
code, and changes nothing.

An order is placed at most once: its client order id (the caller's, or one derived from the API key
and the `Idempotency-Key` when the caller gives none) is unique per member and instrument within
the engine's window, so a retry after a crash between journaling the order and storing the answer
finds the order already placed. With a derived id that retry answers 200 with the order's current
state; with the caller's own id it is the problem `duplicate_order`, naming the order.

With funding configured, members read the hot wallet's address, their deposits and withdrawals,
and ask for withdrawals to their own registered wallets (the `Idempotency-Key` names the
withdrawal, so a retry never withdraws twice).

The WebSocket stream at `/exchange/stream` sends a snapshot of each channel a client subscribes
to, then every change, numbered without gaps per connection.
"""

from fastapi import APIRouter

from equitoken.api.routes.exchange import funding, ledger, markets, orders, stream

router = APIRouter(prefix="/exchange", tags=["exchange"])
router.include_router(markets.router)
router.include_router(orders.router)
router.include_router(stream.router)
# Deposits and withdrawals: served only when the platform runs the exchange's funding.
funding_router = APIRouter(prefix="/exchange", tags=["exchange"])
funding_router.include_router(funding.router)
# Ledger stock bought and sold through the issuer: served only when the platform runs the ledger desk.
ledger_router = APIRouter(prefix="/exchange", tags=["exchange"])
ledger_router.include_router(ledger.router)
