"""Settlement transfers with the issuer beside deposits and withdrawals, at random: every asset conserved,
no ledger asset ever deposited or withdrawn, no balance negative, every refusal changing nothing, and
the journal replaying to the same balances."""

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from equitoken.model.errors import InsufficientFundsError
from equitoken.venues.exchange.accounts import USDC, Accounts, AccountsError

AAPL_L = "AAPL.L"
SHARE = 10**9


_TRANSFER = st.tuples(
    st.sampled_from(["deposit", "withdrawal", "credit", "debit"]),
    st.integers(1, 3),
    st.sampled_from([USDC, AAPL_L]),
    st.integers(-2, 5 * SHARE),
    st.integers(0, 6),
)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(_TRANSFER, max_size=25))
def test_settlement_transfers_conserve_every_asset_and_replay(
    transfers: list[tuple[str, int, str, int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.journal"
        accounts = Accounts.open(path, [USDC, "AAPL", AAPL_L], fsync=False)
        moves = {
            "deposit": accounts.credit_deposit,
            "withdrawal": accounts.request_withdrawal,
            "credit": accounts.credit,
            "debit": accounts.debit,
        }
        for kind, account, asset, amount, number in transfers:
            before = accounts.snapshot()
            try:
                moves[kind](account, asset, amount, f"{kind}-{number}")
            except (AccountsError, InsufficientFundsError):
                # A refusal changes nothing: a ledger asset deposited or withdrawn, a bad amount, a
                # balance short, an id used for another transfer.
                assert accounts.snapshot() == before
        for asset in (USDC, AAPL_L):
            assert accounts.total(asset) == (
                accounts.deposited(asset)
                - accounts.withdrawn(asset)
                + accounts.credited(asset)
                - accounts.debited(asset)
            )
            assert accounts.deposited(AAPL_L) == accounts.withdrawn(AAPL_L) == 0
        assert all(b.available >= 0 for b in accounts.balances().values())
        snapshot = accounts.snapshot()
        accounts.close()
        reopened = Accounts.open(path, [USDC, "AAPL", AAPL_L], fsync=False)
        assert reopened.snapshot() == snapshot
        reopened.close()
