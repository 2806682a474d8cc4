# pragma version ~=0.4.3
"""
@title Plain snekmate ERC-20, the gas baseline
@custom:contract-name PlainERC20
@license GNU Affero General Public License v3.0 or later
@notice snekmate's ERC-20 (with EIP-2612 permit) and nothing else, exported
        whole. The gas benchmark deploys it beside the stock token so
        every compliance check's cost shows against the same baseline.
"""


from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]
exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @dev The deployer becomes the owner and the only minter.
    @param name_ The token's name, also its EIP-712 domain name.
    @param symbol_ The token's symbol.
    @param decimals_ The token's decimals.
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "1")
