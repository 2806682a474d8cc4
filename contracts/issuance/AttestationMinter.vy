# pragma version ~=0.4.3
"""
@title Attestation mints and redemptions of one stock token
@custom:contract-name AttestationMinter
@license GNU Affero General Public License v3.0 or later
@notice Instant issuance in the style of Ondo Global Markets: the
        issuer's signer quotes a verified user a price for a quantity
        (`attestation_quotes`), and the user mints against USDC or
        redeems for USDC at once; the issuer hedges through its broker
        afterwards. One minter serves one stock token, whose `PriceFeed`
        it reads through `price_guard`. Built on snekmate's access
        control, pausable and EIP-712 domain modules. External functions:
        - `mint_with_attestation`: on a BUY quote, takes the USD notional
          in USDC from the user to the treasury and mints `quantity`
          tokens to the user (MINTER_ROLE on the token; the token's
          reserve gate applies);
        - `redeem_with_attestation`: on a SELL quote, burns `quantity`
          of the user's tokens on their allowance (BURNER_ROLE on the
          token) and pays the USD notional in USDC from the treasury
          (which approved this contract) to the user;
        - `oracle_price_usdc`: the guarded feed price in USDC's decimals;
        - `set_treasury`, `set_max_deviation_bps`, `set_guard_limits`
          (admin), `pause`, `unpause` (PAUSER_ROLE);
        - the exports of `attestation_quotes`, `usd_rate_limits`,
          `price_guard`, `access_control`, `pausable` and
          `eip712Domain`.
        Both flows run the same checks, each refusal reverting and
        changing nothing: the quote (side, caller, chain, expiry, quote
        lifetime, unused id, signer), not paused, the user is one the
        token accepts (`token.can_transfer(self, user, 0)` is 0: KYC,
        sanctions, freezes), the sanity price, then the rate limits.

        Glossary:
        - p          the quote's price, USDC (6 decimals) per whole token;
        - q          the quote's quantity, raw token units;
        - D          the token's decimals (8);
        - a, F       the feed's answer and decimals;
        - o          the oracle price in USDC decimals, a * 10**6 / 10**F
                     (rounded down);
        - B          `max_deviation_bps`;
        - N          the USD notional in USDC raw units:
                     ceil(p * q / 10**D) on a mint (the user pays),
                     floor(p * q / 10**D) on a redemption (the user is
                     paid): rounding always favours the treasury.
        Invariants: a flow happens only if |p - o| * 10_000 <= B * o
        and N > 0; after a mint the treasury holds exactly N more USDC
        and the user exactly q more tokens; after a redemption the
        user holds exactly q fewer tokens and exactly N more USDC.
        Mints and redemptions count in the same rate limits (gross USD
        flow: both leave the issuer a position to hedge).
@custom:security Issuance hours come from the signer, which signs only in
                 the exchange calendar's hours (holidays and half days
                 included) off-chain; the contract bounds a quote's
                 remaining lifetime by `max_ttl`. The token's reserve gate
                 still bounds supply by attested reserves: the issuer keeps
                 reserves ahead of attestation mints and hedges after.
"""


from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

from snekmate.auth import access_control
from snekmate.utils import pausable
from snekmate.utils import eip712_domain_separator

from . import attestation_quotes
from . import usd_rate_limits
from ..oracle import price_guard
from ..interfaces import IBridgeToken
from ..interfaces import IPriceFeed

initializes: access_control
initializes: pausable
initializes: eip712_domain_separator
initializes: attestation_quotes[access_control := access_control, eip712_domain_separator := eip712_domain_separator]
initializes: usd_rate_limits[access_control := access_control]
initializes: price_guard


exports: (
    access_control.supportsInterface,
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    pausable.paused,
    eip712_domain_separator.eip712Domain,
    attestation_quotes.__interface__,
    usd_rate_limits.__interface__,
    price_guard.price_feed,
    price_guard.guard_limits,
)


PAUSER_ROLE: public(constant(bytes32)) = keccak256("PAUSER_ROLE")

_DOMAIN_NAME: constant(String[50]) = "Equitoken AttestationMinter"
_DOMAIN_VERSION: constant(String[20]) = "1"
_USDC_DECIMALS: constant(uint256) = 6
_BPS: constant(uint256) = 10_000


# @dev Returns the stock token issued and redeemed.
token: public(immutable(address))


# @dev Returns the settlement stablecoin (6 decimals).
usdc: public(immutable(address))


# @dev 10**D, one whole token in raw units.
_token_unit: immutable(uint256)


# @dev 10**F, one unit of the feed's answer.
_feed_unit: immutable(uint256)


# @dev Returns the address that receives mint proceeds and pays
# redemptions.
treasury: public(address)


# @dev Returns the largest accepted distance of the quote's price from
# the oracle's, in basis points of the oracle's.
max_deviation_bps: public(uint256)


event AttestationMinted:
    attestation_id: indexed(bytes32)
    user: indexed(address)
    token: indexed(address)
    chain_id: uint256
    price: uint256
    quantity: uint256
    side: uint8
    expiry: uint256
    usd_amount: uint256
    oracle_price: uint256
    treasury: address


event AttestationRedeemed:
    attestation_id: indexed(bytes32)
    user: indexed(address)
    token: indexed(address)
    chain_id: uint256
    price: uint256
    quantity: uint256
    side: uint8
    expiry: uint256
    usd_amount: uint256
    oracle_price: uint256
    treasury: address


event TreasurySet:
    treasury: indexed(address)
    admin: indexed(address)


event MaxDeviationSet:
    max_deviation_bps: uint256
    admin: indexed(address)


@deploy
def __init__(
    token_: address,
    usdc_: address,
    treasury_: address,
    price_feed_: IPriceFeed,
    signer_: address,
    max_ttl_: uint256,
    max_deviation_bps_: uint256,
    max_age_: uint256,
    min_answer_: uint256,
    max_answer_: uint256,
):
    """
    @dev The deployer becomes the admin and holds no other role; both
         rate limits start at 0 (nothing flows until they are set).
    @param token_ The stock token; this contract needs its MINTER_ROLE
           and BURNER_ROLE.
    @param usdc_ The settlement stablecoin, 6 decimals.
    @param treasury_ Receives mint proceeds, pays redemptions.
    @param price_feed_ The token's `PriceFeed` (its `token()` is `token_`).
    @param signer_ The quote signer.
    @param max_ttl_ The longest a quote may still live when used, seconds.
    @param max_deviation_bps_ The sanity band around the oracle price,
           basis points, from 1 to 10_000.
    @param max_age_ The guard's oldest accepted observation, seconds.
    @param min_answer_ The guard's lowest accepted answer.
    @param max_answer_ The guard's highest accepted answer.
    """
    assert staticcall price_feed_.token() == token_, "minter: feed prices another token"
    assert staticcall IERC20Detailed(usdc_).decimals() == convert(_USDC_DECIMALS, uint8), "minter: usdc needs 6 decimals"
    access_control.__init__()
    pausable.__init__()
    eip712_domain_separator.__init__(_DOMAIN_NAME, _DOMAIN_VERSION)
    attestation_quotes.__init__(signer_, max_ttl_)
    usd_rate_limits.__init__()
    price_guard.__init__(price_feed_, max_age_, min_answer_, max_answer_)
    token = token_
    usdc = usdc_
    _token_unit = 10 ** convert(staticcall IBridgeToken(token_).decimals(), uint256)
    _feed_unit = 10 ** convert(staticcall price_feed_.decimals(), uint256)
    self._set_treasury(treasury_)
    self._set_max_deviation_bps(max_deviation_bps_)


@external
@nonreentrant
def mint_with_attestation(quote: attestation_quotes.Quote, signature: Bytes[65]):
    """
    @dev Mints `quote.quantity` tokens to the caller for ceil(price *
         quantity / 10**D) USDC, paid from the caller (who approved this
         contract) to the treasury. Reverts, changing nothing, on any
         failed check (see the notice) or if the token refuses the mint
         (reserves, compliance).
    @param quote A BUY quote whose user is the caller.
    @param signature The signer's 65-byte signature of the quote.
    """
    oracle: uint256 = 0
    notional: uint256 = 0
    oracle, notional = self._checked(quote, signature, attestation_quotes.SIDE_BUY)
    receiver: address = self.treasury
    assert extcall IERC20(usdc).transferFrom(quote.user, receiver, notional, default_return_value=True), "minter: usdc transfer failed"
    extcall IBridgeToken(token).mint(quote.user, quote.quantity)
    log AttestationMinted(
        attestation_id=quote.attestation_id,
        user=quote.user,
        token=quote.token,
        chain_id=quote.chain_id,
        price=quote.price,
        quantity=quote.quantity,
        side=quote.side,
        expiry=quote.expiry,
        usd_amount=notional,
        oracle_price=oracle,
        treasury=receiver,
    )


@external
@nonreentrant
def redeem_with_attestation(quote: attestation_quotes.Quote, signature: Bytes[65]):
    """
    @dev Burns `quote.quantity` of the caller's tokens (the caller approved
         this contract on the token) and pays floor(price * quantity /
         10**D) USDC from the treasury to the caller. Reverts, changing
         nothing, on any failed check (see the notice) or if the token
         refuses the burn (balance, freezes, sanctions).
    @param quote A SELL quote whose user is the caller.
    @param signature The signer's 65-byte signature of the quote.
    """
    oracle: uint256 = 0
    notional: uint256 = 0
    oracle, notional = self._checked(quote, signature, attestation_quotes.SIDE_SELL)
    payer: address = self.treasury
    extcall IBridgeToken(token).burn_from(quote.user, quote.quantity)
    assert extcall IERC20(usdc).transferFrom(payer, quote.user, notional, default_return_value=True), "minter: usdc transfer failed"
    log AttestationRedeemed(
        attestation_id=quote.attestation_id,
        user=quote.user,
        token=quote.token,
        chain_id=quote.chain_id,
        price=quote.price,
        quantity=quote.quantity,
        side=quote.side,
        expiry=quote.expiry,
        usd_amount=notional,
        oracle_price=oracle,
        treasury=payer,
    )


@external
@view
def oracle_price_usdc() -> uint256:
    """
    @dev Returns the guarded feed price in USDC's 6 decimals, or reverts
         with the guard's reason (no price, halted, stale, out of band).
    @return uint256 o, USDC per whole token.
    """
    return self._oracle_price()


@external
@view
def usd_notional(price: uint256, quantity: uint256, side: uint8) -> uint256:
    """
    @dev Returns the USDC a quote moves: rounded up for a BUY, down for a
         SELL.
    @param price USDC (6 decimals) per whole token.
    @param quantity Raw token units.
    @param side 0 buy, 1 sell.
    @return uint256 N, USDC raw units.
    """
    return self._notional(price, quantity, side)


@external
def set_treasury(treasury_: address):
    """
    @dev Replaces the treasury. Only `DEFAULT_ADMIN_ROLE`.
    @param treasury_ The new treasury; not the zero address.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_treasury(treasury_)


@external
def set_max_deviation_bps(max_deviation_bps_: uint256):
    """
    @dev Replaces the sanity band around the oracle price. Only
         `DEFAULT_ADMIN_ROLE`.
    @param max_deviation_bps_ Basis points, from 1 to 10_000.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_max_deviation_bps(max_deviation_bps_)


@external
def set_guard_limits(max_age_: uint256, min_answer_: uint256, max_answer_: uint256):
    """
    @dev Replaces the price guard's limits (see `price_guard`). Only
         `DEFAULT_ADMIN_ROLE`.
    @param max_age_ The oldest accepted observation, seconds.
    @param min_answer_ The lowest accepted answer.
    @param max_answer_ The highest accepted answer.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    price_guard._set_limits(max_age_, min_answer_, max_answer_)


@external
def pause():
    """
    @dev Stops attestation mints and redemptions. Only a pauser.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._pause()


@external
def unpause():
    """
    @dev Lets attestation mints and redemptions run again. Only a pauser.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    pausable._unpause()


@internal
def _checked(quote: attestation_quotes.Quote, signature: Bytes[65], side: uint8) -> (uint256, uint256):
    pausable._require_not_paused()
    assert quote.token == token, "minter: quote for another token"
    attestation_quotes._use(quote, signature, side)
    assert quote.quantity > 0, "minter: zero quantity"
    self._require_accepted(quote.user)
    oracle: uint256 = self._oracle_price()
    distance: uint256 = 0
    if quote.price > oracle:
        distance = quote.price - oracle
    else:
        distance = oracle - quote.price
    assert distance * _BPS <= self.max_deviation_bps * oracle, "minter: price too far from oracle"
    notional: uint256 = self._notional(quote.price, quote.quantity, side)
    assert notional > 0, "minter: zero notional"
    usd_rate_limits._consume(quote.user, notional)
    return (oracle, notional)


@internal
@view
def _require_accepted(user: address):
    # The token's own pre-check of a transfer to `user`: KYC, sanctions,
    # freezes, pause; its reason is relayed.
    code: uint8 = 0
    reason: String[48] = ""
    code, reason = staticcall IBridgeToken(token).can_transfer(self, user, 0)
    if code != 0:
        raw_revert(abi_encode(concat("minter: user refused: ", reason), method_id=method_id("Error(string)")))


@internal
@view
def _oracle_price() -> uint256:
    answer: uint256 = 0
    status: uint8 = 0
    answer, status = price_guard._price()
    return answer * 10**_USDC_DECIMALS // _feed_unit


@internal
@view
def _notional(price: uint256, quantity: uint256, side: uint8) -> uint256:
    if side == attestation_quotes.SIDE_BUY:
        return (price * quantity + _token_unit - 1) // _token_unit
    return price * quantity // _token_unit


@internal
def _set_treasury(treasury_: address):
    assert treasury_ != empty(address), "minter: treasury is the zero address"
    self.treasury = treasury_
    log TreasurySet(treasury=treasury_, admin=msg.sender)


@internal
def _set_max_deviation_bps(max_deviation_bps_: uint256):
    assert max_deviation_bps_ != 0 and max_deviation_bps_ <= _BPS, "minter: deviation out of range"
    self.max_deviation_bps = max_deviation_bps_
    log MaxDeviationSet(max_deviation_bps=max_deviation_bps_, admin=msg.sender)
