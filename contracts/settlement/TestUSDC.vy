# pragma version ~=0.4.3
"""
@title Test USD Coin: the settlement stablecoin on local and test chains
@custom:contract-name TestUSDC
@license GNU Affero General Public License v3.0 or later
@notice snekmate's ERC-20 with EIP-2612 permit, 6 decimals like Circle's
        USDC, so the issuer's workflow pays and refunds in the same raw
        units as on a real network. The deployer is the owner and first
        minter (`erc20.mint`, `erc20.set_minter`); on a real network the
        platform is pointed at the real USDC instead.
"""


from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]
exports: erc20.__interface__


@deploy
def __init__():
    """
    @dev The deployer becomes the owner and the only minter.
    """
    ownable.__init__()
    erc20.__init__("Test USD Coin", "USDC", 6, "Test USD Coin", "2")
