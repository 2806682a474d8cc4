"""What the issuer's agents do to a stock mint's accounts, for every compliance profile.

Under `restricted` a holder's token account stays frozen for good: holders cannot move tokens
between themselves. The agents still mint to it, burn from it for a redemption and move tokens out
of it (a forced transfer, or a lost wallet's recovery) by thawing, acting and freezing again in one
transaction, so no other transaction ever sees the account thawed. A frozen account refuses even
the permanent delegate (Token-2022's AccountFrozen), which is why the thaw is needed.
"""

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from equitoken.chain.solana.stock_mint import STOCK_DECIMALS, MintAuthorities
from equitoken.chain.solana.token2022 import (
    burn_checked,
    freeze_account,
    mint_to_checked,
    thaw_account,
    transfer_checked,
)


def _held_frozen(
    mint: Pubkey, authorities: MintAuthorities, accounts: list[Pubkey], action: list[Instruction]
) -> list[Instruction]:
    freezer = authorities.freezer.pubkey()
    thaw = [thaw_account(account, mint, freezer) for account in accounts]
    refreeze = [freeze_account(account, mint, freezer) for account in accounts]
    return thaw + action + refreeze


def mint_to_holder(
    mint: Pubkey, authorities: MintAuthorities, account: Pubkey, amount: int, *, restricted: bool
) -> list[Instruction]:
    """Return the instructions that mint `amount` raw units to a verified holder's account."""
    action = [mint_to_checked(mint, account, authorities.minter.pubkey(), amount, STOCK_DECIMALS)]
    return _held_frozen(mint, authorities, [account], action) if restricted else action


def burn_from_holder(
    mint: Pubkey, authorities: MintAuthorities, account: Pubkey, amount: int, *, restricted: bool
) -> list[Instruction]:
    """Return the instructions that burn `amount` raw units from a holder's account (a redemption)."""
    action = [burn_checked(account, mint, authorities.delegate.pubkey(), amount, STOCK_DECIMALS)]
    return _held_frozen(mint, authorities, [account], action) if restricted else action


def forced_transfer(
    mint: Pubkey,
    authorities: MintAuthorities,
    source: Pubkey,
    destination: Pubkey,
    amount: int,
    *,
    refreeze: list[Pubkey],
) -> list[Instruction]:
    """Return the instructions that move `amount` raw units by the permanent delegate.

    `refreeze` names the accounts that are frozen now and must be frozen again afterwards (a
    restricted holder's, or one frozen for sanctions); the others are left as they are.
    """
    delegate = authorities.delegate.pubkey()
    action = [transfer_checked(source, mint, destination, delegate, amount, STOCK_DECIMALS)]
    return _held_frozen(mint, authorities, refreeze, action)
