# pragma version ~=0.4.3
"""
@title Synthetic stock token
@custom:contract-name Synth
@license GNU Affero General Public License v3.0 or later
@notice A plain ERC-20 (snekmate `erc20`, 18 decimals, EIP-2612
        permits) that tracks a stock's token price without holding the
        stock: it exists only as the debt of positions in its
        `SynthVault`, over-collateralised in USDC. No compliance rules:
        a synthetic is not a security token of the issuer.
        - ERC-20: `transfer`, `approve`, `transferFrom`, `permit`,
          `burn`, and the views;
        - the vault: `mint` and `burn_from` (minters only; a minter
          burns without an allowance, so that the vault burns what a
          holder repays without a prior `approve`);
        - the owner: `set_minter`, `transfer_ownership`,
          `renounce_ownership`.
        Unlike snekmate's default, the owner is never a minter: the
        deployer's minter role is revoked at deployment and an
        ownership transfer grants none, so the vault the owner names
        with `set_minter` is the only minter.
        Invariant: totalSupply == the vault's total debt plus its
        written-off bad debt.
@custom:security A minter burns anyone's tokens without an allowance;
                 only a `SynthVault`, which burns only from the account
                 that calls it, may be a minter.
"""


from snekmate.auth import ownable
initializes: ownable

from snekmate.tokens import erc20
initializes: erc20[ownable := ownable]

exports: (
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.transfer,
    erc20.approve,
    erc20.transferFrom,
    erc20.burn,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    erc20.is_minter,
    erc20.set_minter,
    erc20.mint,
    ownable.owner,
)


_DECIMALS: constant(uint8) = 18
_EIP712_VERSION: constant(String[20]) = "1"


@deploy
def __init__(name_: String[25], symbol_: String[5]):
    """
    @dev Deploys the synthetic owned by the deployer, with no minter.
    @param name_ The token's name, e.g. "Equitoken Synthetic AAPL".
    @param symbol_ The token's symbol, e.g. "sAAPL".
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, _DECIMALS, name_, _EIP712_VERSION)
    erc20.is_minter[msg.sender] = False
    log erc20.RoleMinterChanged(minter=msg.sender, status=False)


@external
def burn_from(owner: address, amount: uint256):
    """
    @dev Destroys `amount` of `owner`'s tokens: a minter without an
         allowance, anyone else from the caller's allowance.
    @param owner Whose tokens are destroyed.
    @param amount The amount, 18 decimals.
    """
    if not erc20.is_minter[msg.sender]:
        erc20._spend_allowance(owner, msg.sender, amount)
    erc20._burn(owner, amount)


@external
def transfer_ownership(new_owner: address):
    """
    @dev Hands the owner role to `new_owner` without making it a
         minter. Owner only.
    @param new_owner The new owner, not the zero address.
    """
    ownable._check_owner()
    assert new_owner != empty(address), "synth: zero address"
    ownable._transfer_ownership(new_owner)


@external
def renounce_ownership():
    """
    @dev Leaves the token without an owner: the minters are then fixed
         for good. Owner only.
    """
    ownable._check_owner()
    ownable._transfer_ownership(empty(address))
