"""Synth: an 18-decimal snekmate ERC-20 whose only minter is the vault the owner names; the owner is
never a minter, and a minter burns without an allowance while anyone else burns from one."""

from typing import Any

import boa
from tests.support.contracts import events
from tests.support.contracts.synths import SYNTH


def test_metadata_and_no_minter_at_deployment(synth: Any, admin: str) -> None:
    assert (synth.name(), synth.symbol(), synth.decimals()) == ("Equitoken Synthetic AAPL", "sAAPL", 18)
    assert synth.owner() == admin
    assert not synth.is_minter(admin)
    with boa.reverts("erc20: access is denied"):
        synth.mint(admin, SYNTH, sender=admin)


def test_the_vault_is_the_only_minter(
    synth: Any, vault: Any, admin: str, writer: str, non_owner: str
) -> None:
    assert synth.is_minter(vault.address)
    assert not synth.is_minter(admin)
    with boa.reverts("ownable: caller is not the owner"):
        synth.set_minter(non_owner, True, sender=non_owner)
    with boa.reverts("erc20: access is denied"):
        synth.mint(writer, SYNTH, sender=writer)


def test_an_ownership_transfer_grants_no_minter_role(synth: Any, admin: str, non_owner: str) -> None:
    synth.transfer_ownership(non_owner, sender=admin)

    assert synth.owner() == non_owner
    assert not synth.is_minter(non_owner)
    with boa.reverts("synth: zero address"):
        synth.transfer_ownership("0x" + "00" * 20, sender=non_owner)
    synth.renounce_ownership(sender=non_owner)
    assert synth.owner() == "0x" + "00" * 20


def test_a_minter_burns_without_allowance_others_need_one(
    synth: Any, admin: str, writer: str, spender: str, minter: str
) -> None:
    synth.set_minter(minter, True, sender=admin)
    synth.mint(writer, 3 * SYNTH, sender=minter)

    synth.burn_from(writer, SYNTH, sender=minter)
    assert events(synth) == [("Transfer", {"sender": writer, "receiver": "0x" + "00" * 20, "value": SYNTH})]
    with boa.reverts("erc20: insufficient allowance"):
        synth.burn_from(writer, SYNTH, sender=spender)
    synth.approve(spender, SYNTH, sender=writer)
    synth.burn_from(writer, SYNTH, sender=spender)

    assert (synth.balanceOf(writer), synth.totalSupply(), synth.allowance(writer, spender)) == (
        SYNTH,
        SYNTH,
        0,
    )
