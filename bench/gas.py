"""Gas per transaction for the stock token in each compliance profile, against a plain ERC-20 and peers.

Every figure is the ``gasUsed`` of a real signed transaction's receipt on a
local anvil node, so it includes the intrinsic cost and cold storage and
account access that per-call figures leave out. The peers (``bench/peers/``:
ERC-3643 T-REX and OpenZeppelin's ERC-20, from their pinned npm packages) are
measured on the same node after our tokens, each once its rule was seen to fire. The bridge's
``TokenPool`` (``send``, and ``receive`` with 1, 4 and 7 attesters) is measured on a node of its own by
``bench/bridge.py`` and snapshotted under ``"bridge"``; a private company's ``PrivateShareToken`` and
``ValuationFeed`` (issuance, a transfer request, its approval or rejection, a buyback, a valuation), on a
node of their own by ``bench/private.py``, under ``"private"``.
Run::

    python bench/gas.py             # a table
    python bench/gas.py --json      # one JSON object; the peers under "peers"
    python bench/gas.py --check     # fail if one of our figures grew >1% over bench/gas-snapshot.json
    python bench/gas.py --update    # rewrite the snapshot (the peers' figures kept for information)
    python bench/gas.py --no-peers  # our tokens only (no npm fetch)
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from equitoken.chain.evm.anvil import AnvilNode
from equitoken.chain.evm.compiler import compile_contract
from equitoken.chain.evm.contract import Contract
from equitoken.chain.evm.jsonrpc import JsonRpcChain
from equitoken.chain.evm.permit import permit_message, sign_permit

if __package__ in (None, ""):  # run as a script: make `bench` importable (the repository root, not
    # bench/, heads the path: bench/solana.py would shadow the `solana` package `bench.bridge` imports)
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.bridge import pool_figures
from bench.peers import UNAVAILABLE, PeerActors, PeerFigures, measure_peers
from bench.private import private_figures

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

BRIDGE_KEY = "bridge"
"""Where the bridge pool's figures sit: ``send`` and ``receive_<n>`` for n attesters."""

PRIVATE_KEY = "private"
"""Where the private company's token and valuation feed figures sit (``bench/private.py``)."""

PEERS_KEY = "peers"
"""Where the peers' figures sit in the JSON output and the snapshot: information, never a regression."""

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

    def for_peers(self) -> PeerActors:
        """Return the same wallets in the roles a peer token is deployed and measured with."""
        return PeerActors(
            admin=self.admin,
            registrar=self.registrar,
            holder=self.holder,
            other_holder=self.other_holder,
            spender=self.spender,
            burner=self.burner,
            new_holder=self.new_holders[0],
            outsiders=(self.new_holders[1], self.new_holders[2]),
        )


@dataclass(frozen=True)
class Report:
    """One run's figures: our tokens and the plain baseline, and each peer with the rules it enforced."""

    tokens: GasTable
    peers: dict[str, PeerFigures] = field(default_factory=dict)
    bridge: dict[str, int] = field(default_factory=dict)
    private: dict[str, int] = field(default_factory=dict)

    def ours(self) -> GasTable:
        """Return every figure of our contracts: the tokens', the bridge pool's under ``"bridge"`` and the
        private company's under ``"private"``."""
        table = dict(self.tokens)
        if self.bridge:
            table[BRIDGE_KEY] = self.bridge
        if self.private:
            table[PRIVATE_KEY] = self.private
        return table

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object: our figures, and the peers' under ``"peers"``."""
        return {**self.ours(), PEERS_KEY: {name: peer.gas for name, peer in self.peers.items()}}


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


def measure(*, peers: bool = True) -> Report:
    """Start a fresh anvil node and measure the baseline, every profile and (if ``peers``) the peers;
    then the bridge pool, and the private company's token and feed, each on a node of its own.

    The peers come last, so our contracts' addresses (and so the permit signatures' calldata, and
    our figures) are the same with or without them.
    """
    with AnvilNode(accounts=12) as node:
        chain = node.chain()
        actors = Actors.from_accounts(node.accounts)
        table: GasTable = {"plain": measure_plain(chain, actors)}
        for name, profile in PROFILES.items():
            table[name] = measure_stock_token(chain, actors, profile)
        measured_peers = measure_peers(chain, actors.for_peers()) if peers else {}
    return Report(table, measured_peers, pool_figures(), private_figures())


def regressions(table: GasTable, snapshot: dict[str, Any], tolerance: float = TOLERANCE) -> list[str]:
    """Return one line per figure that grew by more than `tolerance` over the snapshot, or went missing."""
    problems = []
    for token, figures in snapshot.items():
        if token == PEERS_KEY:
            continue  # pinned third-party code: kept for information, not ours to regress
        for operation, before in figures.items():
            after = table.get(token, {}).get(operation)
            if after is None:
                problems.append(f"{token}.{operation}: missing (snapshot {before})")
            elif after > before * (1 + tolerance):
                problems.append(
                    f"{token}.{operation}: {after} gas, {after / before - 1:+.2%} over snapshot {before}"
                )
    return problems


def render(
    table: GasTable,
    peers: dict[str, PeerFigures] | None = None,
    bridge: dict[str, int] | None = None,
    private: dict[str, int] | None = None,
) -> str:
    """Return a readable table with each profile's ratio to the plain ERC-20, the bridge pool's figures,
    then the peers' against ours."""
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
    if bridge:
        lines += ["", f"{'bridge pool':<18}{'gas':>14}"]
        lines += [f"{operation:<18}{gas:>14}" for operation, gas in bridge.items()]
    if private:
        lines += ["", f"{'private company':<18}{'gas':>14}"]
        lines += [f"{operation:<18}{gas:>14}" for operation, gas in private.items()]
    if peers is not None:
        lines += ["", *render_peers(table, peers)]
    return "\n".join(lines)


def render_peers(table: GasTable, peers: dict[str, PeerFigures]) -> list[str]:
    """Return the peers' rows (each operation's gas and its ratio to our `open` and `permissioned`),
    then the rules each peer was seen to enforce before it was measured."""
    ours = ("open", "permissioned")
    lines = [
        "peers (same node, same movements; pinned npm packages; each rule seen to fire first)",
        f"{'peer':<16}{'operation':<18}{'gas':>10}" + "".join(f"{'/ ' + name:>16}" for name in ours),
    ]
    for peer, figures in peers.items():
        for operation in OPERATIONS:
            if operation not in figures.gas:
                continue
            gas = figures.gas[operation]
            ratios = "".join(f"{gas / table[name][operation]:>15.2f}x" for name in ours)
            lines.append(f"{peer:<16}{operation:<18}{gas:>10,}{ratios}")
    lines.append("")
    for peer, figures in peers.items():
        lines += [f"{peer} refused {check.rule} ({check.reason!r})" for check in figures.rules]
    missing = [name for name in UNAVAILABLE if name not in peers]
    lines += [f"not measured: {name}: {UNAVAILABLE[name]}" for name in missing]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    parser.add_argument("--check", action="store_true", help="fail when a figure grew >1%% over the snapshot")
    parser.add_argument("--update", action="store_true", help="write the figures to the snapshot")
    parser.add_argument("--no-peers", action="store_true", help="measure our tokens only (no npm fetch)")
    args = parser.parse_args(argv)
    report = measure(peers=not args.no_peers)
    figures = report.to_json() if report.peers else report.ours()
    table = render(report.tokens, report.peers or None, report.bridge, report.private)
    print(json.dumps(figures, sort_keys=True) if args.json else table)
    if args.update:
        if not report.peers:  # keep the peers' recorded figures when they were not measured
            figures = {**figures, PEERS_KEY: json.loads(SNAPSHOT.read_text()).get(PEERS_KEY, {})}
        SNAPSHOT.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    if args.check:
        problems = regressions(report.ours(), json.loads(SNAPSHOT.read_text()))
        for problem in problems:
            print(f"gas regression: {problem}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
