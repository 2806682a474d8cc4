"""Gas per transaction for the stock token in each compliance profile, against a plain snekmate ERC-20.

Every figure is the ``gasUsed`` of a real signed transaction's receipt on a
local anvil node, so it includes the intrinsic cost and cold storage and
account access that per-call figures leave out. Run::

    python bench/gas.py            # a table
    python bench/gas.py --json     # one JSON object
    python bench/gas.py --check    # fail if a figure grew more than 1% over bench/gas-snapshot.json
    python bench/gas.py --update   # rewrite the snapshot
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from equitoken.chain.anvil import AnvilNode
from equitoken.chain.compiler import compile_contract
from equitoken.chain.evm import Contract
from equitoken.chain.jsonrpc import JsonRpcChain
from equitoken.chain.permit import permit_message, sign_permit

SNAPSHOT = Path(__file__).with_name("gas-snapshot.json")
TOLERANCE = 0.01
OPERATIONS = ("transfer_new", "transfer_existing", "transfer_from", "permit", "mint", "burn")
PROFILES = {"open": 0, "permissioned": 1, "restricted": 2}
TARGETS = {"open": 1.15, "permissioned": 1.6}
DECIMALS = 8
SHARE = 10**DECIMALS
COUNTRY_DE = 276
# Fixed far-future values keep calldata, and so gas, identical run to run.
DEADLINE = 2**40
KYC_EXPIRY = 2**40

GasTable = dict[str, dict[str, int]]


@dataclass(frozen=True)
class Actors:
    admin: str
    holder: str
    other_holder: str
    spender: str
    burner: str
    operator: str
    registrar: str
    new_holders: tuple[str, str, str, str]

    @classmethod
    def from_accounts(cls, accounts: list[str]) -> "Actors":
        a = accounts
        return cls(a[0], a[1], a[2], a[3], a[4], a[5], a[6], (a[7], a[8], a[9], a[10]))


def sign_token_permit(
    token: Contract, owner: LocalAccount, spender: str, value: int
) -> tuple[int, bytes, bytes]:
    """Sign an EIP-2612 permit for `token` (deadline `DEADLINE`) as the owner's wallet would."""
    message = permit_message(
        token_name=token.function("name")(),
        chain_id=token.chain.chain_id,
        token=token.address,
        owner=owner.address,
        spender=spender,
        value=value,
        nonce=token.nonces(owner.address),
        deadline=DEADLINE,
    )
    return sign_permit(owner, message)


def measure_plain(chain: JsonRpcChain, actors: Actors) -> dict[str, int]:
    """Measure snekmate's ERC-20 with the same movements as the stock token."""
    token = chain.deploy_contract(
        compile_contract("mocks/PlainERC20.vy"), "Plain", "PLN", DECIMALS, sender=actors.admin
    )
    admin, holder, other = actors.admin, actors.holder, actors.other_holder
    for account in (holder, other, actors.burner):
        token.mint(account, 1_000 * SHARE, sender=admin)
    gas = {"mint": token.mint(holder, SHARE, sender=admin).gas_used}
    gas["transfer_new"] = token.transfer(actors.new_holders[0], SHARE, sender=holder).gas_used
    gas["transfer_existing"] = token.transfer(other, SHARE, sender=holder).gas_used
    token.approve(actors.spender, 100 * SHARE, sender=holder)
    gas["transfer_from"] = token.transferFrom(holder, other, SHARE, sender=actors.spender).gas_used
    owner_key = chain.signers.get(other)
    v, r, s = sign_token_permit(token, owner_key, actors.spender, 10 * SHARE)
    gas["permit"] = token.permit(
        other, actors.spender, 10 * SHARE, DEADLINE, v, r, s, sender=actors.spender
    ).gas_used
    gas["burn"] = token.burn(SHARE, sender=actors.burner).gas_used
    return gas


def measure_stock_token(chain: JsonRpcChain, actors: Actors, profile: int) -> dict[str, int]:
    """Measure StockToken in `profile`, with a sanctions list, registry and reserve feed configured."""
    admin = actors.admin
    sanctions = chain.deploy(compile_contract("compliance/SanctionsList.vy"), sender=admin)
    registry = chain.deploy_contract(compile_contract("compliance/IdentityRegistry.vy"), sender=admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), actors.registrar, sender=admin)
    feed = chain.deploy_contract(
        compile_contract("oracle/ReserveFeed.vy"), DECIMALS, "reserves", sender=admin
    )
    feed.grantRole(feed.UPDATER_ROLE(), admin, sender=admin)
    token = chain.deploy_contract(
        compile_contract("token/StockToken.vy"),
        "Apple Inc. tokenized stock",
        "AAPLx",
        DECIMALS,
        "US0378331005",
        "AAPL",
        "",
        profile,
        sanctions,
        registry.address,
        feed.address,
        86_400,
        sender=admin,
    )
    for role in ("MINTER_ROLE", "BURNER_ROLE"):
        token.grantRole(token.function(role)(), admin, sender=admin)
    token.grantRole(token.BURNER_ROLE(), actors.burner, sender=admin)
    token.grantRole(token.OPERATOR_ROLE(), actors.operator, sender=admin)
    if profile != 0:
        registry.bind_token(token.address, sender=actors.registrar)
        registry.set_token_rules(
            token.address, False, False, 0, 10_000, 10**9 * SHARE, sender=actors.registrar
        )
        wallets = [
            actors.holder,
            actors.other_holder,
            actors.spender,
            actors.burner,
            actors.operator,
            *actors.new_holders,
        ]
        for investor_id, wallet in enumerate(wallets, start=1):
            registry.set_investor(investor_id, COUNTRY_DE, KYC_EXPIRY, True, sender=actors.registrar)
            registry.add_wallet(investor_id, wallet, sender=actors.registrar)
    feed.update(10**9 * SHARE, chain.timestamp(), sender=admin)

    # In `restricted` only the operator moves tokens; it stands in as the sender.
    mover = actors.operator if profile == 2 else actors.holder
    spender = actors.operator if profile == 2 else actors.spender
    for account in {mover, actors.holder, actors.other_holder, actors.burner}:
        token.mint(account, 1_000 * SHARE, sender=admin)

    gas = {"mint": token.mint(actors.holder, SHARE, sender=admin).gas_used}
    gas["transfer_new"] = token.transfer(actors.new_holders[0], SHARE, sender=mover).gas_used
    gas["transfer_existing"] = token.transfer(actors.other_holder, SHARE, sender=mover).gas_used
    token.approve(spender, 100 * SHARE, sender=actors.holder)
    gas["transfer_from"] = token.transferFrom(
        actors.holder, actors.other_holder, SHARE, sender=spender
    ).gas_used
    owner_key = chain.signers.get(actors.other_holder)
    v, r, s = sign_token_permit(token, owner_key, spender, 10 * SHARE)
    gas["permit"] = token.permit(
        actors.other_holder, spender, 10 * SHARE, DEADLINE, v, r, s, sender=spender
    ).gas_used
    gas["burn"] = token.burn(SHARE, sender=actors.burner).gas_used
    return gas


def measure() -> GasTable:
    """Start a fresh anvil node and measure every profile and the baseline in one run."""
    with AnvilNode(accounts=12) as node:
        chain = node.chain()
        actors = Actors.from_accounts(node.accounts)
        table: GasTable = {"plain": measure_plain(chain, actors)}
        for name, profile in PROFILES.items():
            table[name] = measure_stock_token(chain, actors, profile)
        return table


def regressions(table: GasTable, snapshot: GasTable, tolerance: float = TOLERANCE) -> list[str]:
    """Return one line per figure that grew by more than `tolerance` over the snapshot, or went missing."""
    problems = []
    for token, figures in snapshot.items():
        for operation, before in figures.items():
            after = table.get(token, {}).get(operation)
            if after is None:
                problems.append(f"{token}.{operation}: missing (snapshot {before})")
            elif after > before * (1 + tolerance):
                problems.append(
                    f"{token}.{operation}: {after} gas, {after / before - 1:+.2%} over snapshot {before}"
                )
    return problems


def render(table: GasTable) -> str:
    """Return a readable table with each profile's ratio to the plain ERC-20."""
    plain = table["plain"]
    columns = list(table)
    lines = [f"{'operation':<18}" + "".join(f"{c:>14}" for c in columns) + "   ratio to plain"]
    for operation in OPERATIONS:
        cells = "".join(f"{table[c].get(operation, '-'):>14}" for c in columns)
        ratios = "  ".join(
            f"{c}={table[c][operation] / plain[operation]:.2f}x" for c in columns[1:] if operation in table[c]
        )
        lines.append(f"{operation:<18}{cells}   {ratios}")
    lines.append("")
    for profile, target in TARGETS.items():
        ratio = table[profile]["transfer_existing"] / plain["transfer_existing"]
        verdict = "meets" if ratio <= target else "misses"
        lines.append(
            f"{profile} transfer to an existing holder: {ratio:.3f}x plain ({verdict} the {target}x target)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    parser.add_argument("--check", action="store_true", help="fail when a figure grew >1%% over the snapshot")
    parser.add_argument("--update", action="store_true", help="write the figures to the snapshot")
    args = parser.parse_args(argv)
    table = measure()
    print(json.dumps(table, sort_keys=True) if args.json else render(table))
    if args.update:
        SNAPSHOT.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    if args.check:
        problems = regressions(table, json.loads(SNAPSHOT.read_text()))
        for problem in problems:
            print(f"gas regression: {problem}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
