"""The liabilities of the exchange's ledger stock balances: one Merkle-sum tree per instrument, with a
leaf per exchange account, so each account holder can check its ledger balance is counted.

A ledger balance (`AAPL.L`) has no token and no wallet, so its leaf is keyed in the tree's own terms:
- chain id `LEDGER_CHAIN_ID`, which no chain uses ("EQLEDGER" as a 64-bit number);
- holder `ledger_holder(account)`: the exchange account number as a 20-byte address (the fees
  account, -1, is the all-ones address), which the account holder computes from its own number;
- balance: available plus locked, in 10^-9 share (the ledger's unit), so the leaf is the exact
  balance the exchange shows, with no multiplier or token rounding in between.
The tree is named by the ledger asset (`AAPL.L`); its total is every account's ledger balance, which
the reserves report states next to the token tree's root (`ReservesReport.ledger_root`). Proofs
and their verification are the token trees' own (`InclusionProof`, `verify`).
"""

from collections.abc import Mapping

from eth_utils.address import to_checksum_address

from equitoken.model.holders import HolderBalance
from equitoken.proofs.errors import ProofsError
from equitoken.proofs.inclusion import InclusionProof
from equitoken.proofs.merkle_sum import MerkleSumTree
from equitoken.proofs.reserves_report import LEDGER_TREE_SUFFIX

LEDGER_CHAIN_ID = int.from_bytes(b"EQLEDGER", "big")
_ADDRESS_SPACE = 1 << 160


class InvalidLedgerBalancesError(ProofsError):
    """Ledger balances that cannot be committed: a bad account number or a negative balance."""

    code = "invalid_ledger_balances"


def ledger_holder(account: int) -> str:
    """Return the holder that stands for exchange account `account` in a ledger tree."""
    if type(account) is not int or not -1 <= account < _ADDRESS_SPACE - 1:
        raise InvalidLedgerBalancesError(f"account {account!r} is not an exchange account number")
    return to_checksum_address((account % _ADDRESS_SPACE).to_bytes(20, "big"))


def ledger_tree(ticker: str, balances: Mapping[int, int], secret: bytes) -> MerkleSumTree:
    """Build the ledger tree of `ticker` from each account's ledger balance (zero balances left out)."""
    negative = {account: units for account, units in balances.items() if type(units) is not int or units < 0}
    if negative:
        raise InvalidLedgerBalancesError(f"ledger balances must be non-negative integers: {negative}")
    leaves = [
        HolderBalance(LEDGER_CHAIN_ID, ledger_holder(account), units)
        for account, units in sorted(balances.items())
        if units
    ]
    return MerkleSumTree.build(ticker + LEDGER_TREE_SUFFIX, leaves, secret)


def ledger_proof(tree: MerkleSumTree, account: int) -> InclusionProof:
    """Return `account`'s proof in a ledger tree; raise `UnknownHolderError` if it holds none."""
    return InclusionProof.of(tree, LEDGER_CHAIN_ID, ledger_holder(account))
