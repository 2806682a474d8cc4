# pragma version ~=0.4.3
"""
@title Order processor for primary orders in stock tokens
@custom:contract-name OrderProcessor
@license GNU Affero General Public License v3.0 or later
@notice The deployable of the `order_processor` module (see it for the
        order life cycle, the units, the fee and escrow maths): buyers
        and sellers place orders paid in USDC and escrowed here, the
        operator fills them from broker fills and cancels them.
        It adds snekmate's access control (`DEFAULT_ADMIN_ROLE` held by
        the deployer, `OPERATOR_ROLE`, `PAUSER_ROLE`), pausable and the
        EIP-712 domain ("Equitoken OrderProcessor", "1") its fee quotes
        are signed under (`eip712Domain`, ERC-5267).
@custom:security Grant this contract MINTER_ROLE and BURNER_ROLE on every
                 stock token it serves; on a permissioned token register
                 it as a verified wallet, on a restricted one grant it
                 the token's OPERATOR_ROLE too.
"""


from snekmate.auth import access_control
initializes: access_control

from snekmate.utils import pausable
initializes: pausable

from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator

from . import order_processor
initializes: order_processor[
    access_control := access_control,
    pausable := pausable,
    eip712_domain_separator := eip712_domain_separator,
]


exports: (
    access_control.__interface__,
    pausable.paused,
    eip712_domain_separator.eip712Domain,
    order_processor.__interface__,
)


# @dev The EIP-712 domain of fee quotes (`tests/support/contracts/issuance.py`).
_DOMAIN_NAME: constant(String[50]) = "Equitoken OrderProcessor"
_DOMAIN_VERSION: constant(String[20]) = "1"


@deploy
def __init__(payment_token_: address, treasury_: address, fee_signer_: address):
    """
    @dev The deployer gets `DEFAULT_ADMIN_ROLE` and no other role.
    @param payment_token_ The payment token (USDC).
    @param treasury_ Where payments and fees go.
    @param fee_signer_ Who signs fee quotes.
    """
    access_control.__init__()
    pausable.__init__()
    eip712_domain_separator.__init__(_DOMAIN_NAME, _DOMAIN_VERSION)
    order_processor.__init__(payment_token_, treasury_, fee_signer_)
