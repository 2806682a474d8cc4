"""Gas of a private company's share token and valuation feed: issuance, a transfer request and its
approval or rejection, a buyback, a valuation.

Run::

    python bench/private.py          # a table
    python bench/private.py --json   # one JSON object of the figures

Real signed transactions on an anvil node of their own (so the stock tokens' and the peers' addresses
in ``bench/gas.py`` stay as they were), each figure the ``gasUsed`` of its receipt. A ``PrivateShareToken``
with a sanctions list, an identity registry (every wallet a verified accredited investor) and its
``ValuationFeed``. The sender of each request holds unlocked shares and one live lock-up lot, so each
approval reads a lot as it would in practice. Arguments that reach calldata are fixed (lock-up ends
and KYC expiries far ahead), so the figures repeat run to run: ``bench/gas.py`` snapshots them
(``private_figures``) under ``"private"`` in ``bench/gas-snapshot.json``.

- ``issue_locked``: shares to a new holder with a lock-up (a lot written);
- ``issue_unlocked``: shares to a holder without a lock-up (no lot);
- ``request``: a holder files a transfer request (the shares reserved);
- ``approve_new`` / ``approve_existing``: the agent approves a request to a holder without and with
  a balance (the registry's holder count moves for the first);
- ``reject``: the agent rejects a request with a 40-character reason;
- ``buy_back``: the issuer burns unlocked shares of a holder;
- ``valuation``: the issuer records a 409A valuation with a 40-character source.
"""

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `equitoken` importable
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract

DECIMALS = 0
COUNTRY_US = 840
FAR = 2**40  # a lock-up end and KYC expiry far ahead, fixed so calldata (and gas) repeat
GENESIS = 1_767_225_600  # 2026-01-01: where the node's clock starts
OPERATIONS = (
    "issue_locked",
    "issue_unlocked",
    "request",
    "approve_new",
    "approve_existing",
    "reject",
    "buy_back",
    "valuation",
)
REASON = "right of first refusal exercised by issuer"[:40]
SOURCE = "409A report by an independent appraiser."[:40]


def private_figures() -> dict[str, int]:
    """Return the gas of each operation of `OPERATIONS` on a fresh anvil node."""
    with AnvilNode(accounts=10, timestamp=GENESIS) as node:
        chain = node.chain()
        admin, issuer, agent, registrar, holder, other, new_1, new_2, existing, _ = node.accounts
        sanctions = chain.deploy(compile_contract("compliance/SanctionsList.vy"), sender=admin)
        registry = chain.deploy_contract(compile_contract("compliance/IdentityRegistry.vy"), sender=admin)
        registry.grantRole(registry.REGISTRAR_ROLE(), registrar, sender=admin)
        feed = chain.deploy_contract(
            compile_contract("oracle/ValuationFeed.vy"), 8, "ACME / USD (issuer valuation)", sender=admin
        )
        feed.grantRole(feed.UPDATER_ROLE(), issuer, sender=admin)
        token = chain.deploy_contract(
            compile_contract("token/PrivateShareToken.vy"),
            "Acme Robotics Inc.",
            "ACME",
            DECIMALS,
            "",
            "",
            sanctions,
            registry.address,
            feed.address,
            sender=admin,
        )
        token.grantRole(token.ISSUER_ROLE(), issuer, sender=admin)
        token.grantRole(token.TRANSFER_AGENT_ROLE(), agent, sender=admin)
        registry.bind_token(token.address, sender=registrar)
        for investor_id, wallet in enumerate((holder, other, new_1, new_2, existing), start=1):
            registry.set_investor(investor_id, COUNTRY_US, FAR, True, sender=registrar)
            registry.add_wallet(investor_id, wallet, sender=registrar)

        token.issue(holder, 1_000, 0, 1, sender=issuer)
        token.issue(existing, 1_000, 0, 1, sender=issuer)
        gas = {"issue_locked": token.issue(holder, 500, FAR, 1, sender=issuer).gas_used}
        gas["issue_unlocked"] = token.issue(other, 1_000, 0, 1, sender=issuer).gas_used
        token.request_transfer(new_2, 10, sender=holder)  # the reservation word is non-zero after this
        gas["request"] = token.request_transfer(new_1, 10, sender=holder).gas_used
        token.request_transfer(existing, 10, sender=holder)
        token.request_transfer(other, 10, sender=holder)
        gas["approve_new"] = token.approve_transfer(2, sender=agent).gas_used
        gas["approve_existing"] = token.approve_transfer(3, sender=agent).gas_used
        gas["reject"] = token.reject_transfer(4, REASON, sender=agent).gas_used
        gas["buy_back"] = token.buy_back(other, 100, sender=issuer).gas_used
        gas["valuation"] = feed.record_valuation(12 * 10**8, GENESIS, 1, SOURCE, sender=issuer).gas_used
        return {operation: gas[operation] for operation in OPERATIONS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    args = parser.parse_args(argv)
    figures = private_figures()
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        print("\n".join(f"{operation:<18}{gas:>10,}" for operation, gas in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
