"""OpenZeppelin Contracts 4.9.6's ``ERC20PresetMinterPauser``: the audited ERC-20 with roles and a pause.

Deployed from the compiled artifact in the npm package. It has no EIP-2612 ``permit``, so that
operation is not measured.
"""

from pathlib import Path

from bench.peers.base import SHARE, PeerActors, PeerFigures, expect_allowed, expect_revert
from bench.peers.npm import OPENZEPPELIN, artifact

from equitoken.chain.evm.chain import EvmChain


def measure(chain: EvmChain, actors: PeerActors, modules: Path) -> PeerFigures:
    """Deploy the preset, check its balance and pause rules fire, then measure each operation."""
    preset = artifact(modules, OPENZEPPELIN, "build/contracts/ERC20PresetMinterPauser.json")
    admin, holder, other = actors.admin, actors.holder, actors.other_holder
    # The deployer gets every role (admin, minter, pauser), as the preset's constructor grants them.
    token = chain.deploy_contract(preset, "OpenZeppelin ERC20", "OZ", sender=admin)
    for account in (holder, other, actors.burner):
        token.mint(account, 1_000 * SHARE, sender=admin)

    balance = token.balanceOf(holder)
    outsider = actors.outsiders[0]
    over = expect_revert(
        "a transfer above the sender's balance",
        lambda: token.transfer.call(outsider, balance + 1, sender=holder),
        "ERC20: transfer amount exceeds balance",
    )
    expect_allowed(over.rule, lambda: token.transfer.call(outsider, balance, sender=holder))
    token.pause(sender=admin)
    paused = expect_revert(
        "a transfer while paused",
        lambda: token.transfer.call(other, SHARE, sender=holder),
        "ERC20Pausable: token transfer while paused",
    )
    token.unpause(sender=admin)
    expect_allowed(paused.rule, lambda: token.transfer.call(other, SHARE, sender=holder))

    gas = {"mint": token.mint(holder, SHARE, sender=admin).gas_used}
    gas["transfer_new"] = token.transfer(actors.new_holder, SHARE, sender=holder).gas_used
    gas["transfer_existing"] = token.transfer(other, SHARE, sender=holder).gas_used
    token.approve(actors.spender, 100 * SHARE, sender=holder)
    gas["transfer_from"] = token.transferFrom(holder, other, SHARE, sender=actors.spender).gas_used
    gas["burn"] = token.burn(SHARE, sender=actors.burner).gas_used
    return PeerFigures(gas, (over, paused))
