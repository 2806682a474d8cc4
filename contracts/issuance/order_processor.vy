# pragma version ~=0.4.3
"""
@title Order processor: escrowed primary orders for stock tokens
@custom:contract-name order_processor
@license GNU Affero General Public License v3.0 or later
@notice Primary issuance and redemption in the style of Dinari's
        dShares order processor: a buyer pays USDC (the payment token)
        into escrow and the operator fills the order from its broker
        fills, minting the stock token; a seller escrows stock tokens
        and the operator burns them and pays USDC. One processor serves
        many stock tokens and one payment token. A deployable
        `initializes:` this module next to snekmate's `access_control`,
        `pausable` and `eip712_domain_separator` and `exports:`:
        - `create_order` (`external` function, anyone not paused, with
          a fee quote signed by the fee signer),
        - `request_cancel` (`external` function, the requester),
        - `fill_order`, `cancel_order` (`external` functions,
          `OPERATOR_ROLE`),
        - `set_fee_signer`, `set_treasury` (`external` functions,
          `DEFAULT_ADMIN_ROLE`),
        - `order`, `order_status`, `order_requester`, `unfilled`,
          `escrowed`, `fee_paid`, `cancel_requested`, `nonces`,
          `next_order_id`, `fee_signer`, `treasury`, `payment_token`
          (`external` `view` functions).

        Units: stock quantities in the token's raw units (10**d per
        whole token, d = the token's decimals); USDC amounts in its raw
        units (6 decimals); `limit_price` in USDC raw units per WHOLE
        token, e.g. 200 USDC per share is 200_000_000.

        Glossary, per order:
        - Q     the order's quantity: `payment_quantity` for a market
                buy (a notional order), `asset_quantity` otherwise;
        - q     the quantity filled so far, in the same unit;
        - F     the quoted fee (USDC), f the part of it paid so far;
        - P     the limit price, d the token's decimals;
        - E_u   the USDC escrowed for the order: the unspent payment
                (buys) plus F - f;
        - E_a   the stock escrowed for the order (sells).
        A limit buy escrows ceil(asset_quantity * P / 10**d) + F: the
        most its fills can cost, rounded up so the escrow always covers
        them. Every fill is checked exactly, by cross-multiplication:
            buy:  fill_payment * 10**d <= P * fill_asset   (no dearer)
            sell: fill_payment * 10**d >= P * fill_asset   (no cheaper)
        so rounding never moves a fill past the limit; the buyer's
        escrow rounds up and the excess comes back at the end.
        The fee is taken pro rata, rounded down on the cumulative
        quantity: after a fill that brings q_old to q_new,
            fee_i = F * q_new // Q - F * q_old // Q,
        so the fees of all fills sum to F * q // Q, exactly F when
        q = Q; a cancel refunds F - f.
        Invariants, after every call:
            q <= Q;   f = F * q // Q <= F (also after a cancel);
            USDC held by the processor = sum of E_u over open orders;
            a token held by the processor = sum of E_a over its open
            sell orders (plus anything sent to it by mistake).
        An order is FILLED when q = Q, then its remaining escrow (a
        limit buy that filled below its limit) goes back to the
        requester; CANCELLED refunds everything left.
@custom:security Time in force is the operator's to honour (DAY orders
                 cancelled at the close, IOC remainders cancelled after
                 the first fill); the contract records it and enforces
                 only FOK: the first fill must be the whole order.
                 Pausing stops new orders only, so the operator can
                 always fill or cancel, and release, what is escrowed.
                 A fee quote is one use (the requester's nonce) and
                 binds the order's every field, so a quote for a small
                 order cannot pay for a large one; as it names the
                 token, the fee signer is also the list of tokens the
                 processor serves. Every state change precedes the
                 external calls, and the order functions are
                 `@nonreentrant` besides. Sale proceeds are
                 pulled from the filling operator, which must approve
                 the processor for USDC. The processor mints and burns:
                 it needs MINTER_ROLE and BURNER_ROLE on every token,
                 and on a permissioned token it must be a verified
                 wallet (to receive sells), on a restricted one an
                 operator of the token too.
"""


from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

from snekmate.auth import access_control
uses: access_control

from snekmate.utils import pausable
uses: pausable

from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator
uses: eip712_domain_separator

# @dev `IOrderProcessor.Order` is what a requester asks for:
# `asset_quantity` counts for sells and limit buys, `payment_quantity`
# for market buys (the other one is zero); `IOrderProcessor.FeeQuote`
# the fee the fee signer quotes for one order of one requester.
from ..interfaces import IOrderProcessor
implements: IOrderProcessor


interface IStockToken:
    def mint(to: address, amount: uint256): nonpayable
    def burn(amount: uint256): nonpayable
    def can_transfer(sender: address, receiver: address, amount: uint256) -> (uint8, String[48]): view


OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")
PAUSER_ROLE: public(constant(bytes32)) = keccak256("PAUSER_ROLE")

MARKET: public(constant(uint8)) = 0
LIMIT: public(constant(uint8)) = 1

DAY: public(constant(uint8)) = 0
GTC: public(constant(uint8)) = 1
IOC: public(constant(uint8)) = 2
FOK: public(constant(uint8)) = 3

STATUS_NONE: public(constant(uint8)) = 0
STATUS_ACTIVE: public(constant(uint8)) = 1
STATUS_FILLED: public(constant(uint8)) = 2
STATUS_CANCELLED: public(constant(uint8)) = 3


# @dev The EIP-712 type hashes; a quote carries the whole order.
_ORDER_TYPEHASH: constant(bytes32) = keccak256(
    "Order(address recipient,address token,bool sell,uint8 orderType,uint256 assetQuantity,uint256 paymentQuantity,uint256 limitPrice,uint8 timeInForce)"
)
_FEE_QUOTE_TYPEHASH: constant(bytes32) = keccak256(
    "FeeQuote(uint256 nonce,address requester,Order order,uint256 fee,uint256 deadline)Order(address recipient,address token,bool sell,uint8 orderType,uint256 assetQuantity,uint256 paymentQuantity,uint256 limitPrice,uint8 timeInForce)"
)


# @dev What the processor tracks of an order while it lives.
struct _State:
    requester: address
    status: uint8
    cancel_requested: bool
    unit: uint256
    fee: uint256
    fee_paid: uint256
    filled: uint256
    escrow_payment: uint256
    escrow_asset: uint256


# @dev The payment token (USDC).
payment_token: public(immutable(address))

# @dev Who signs fee quotes.
fee_signer: public(address)

# @dev Where buy payments and fees go.
treasury: public(address)

# @dev The id the next order gets; ids start at 1.
next_order_id: public(uint256)

# @dev The next quote nonce of each requester.
nonces: public(HashMap[address, uint256])

_orders: HashMap[uint256, IOrderProcessor.Order]
_states: HashMap[uint256, _State]


event OrderCreated:
    order_id: indexed(uint256)
    requester: indexed(address)
    recipient: indexed(address)
    token: address
    sell: bool
    order_type: uint8
    asset_quantity: uint256
    payment_quantity: uint256
    limit_price: uint256
    time_in_force: uint8
    fee: uint256
    escrow_payment: uint256
    escrow_asset: uint256


event OrderFill:
    order_id: indexed(uint256)
    requester: indexed(address)
    token: indexed(address)
    fill_asset_quantity: uint256
    fill_payment_amount: uint256
    fee: uint256
    filled: uint256
    refund: uint256


event CancelRequested:
    order_id: indexed(uint256)
    requester: indexed(address)


event OrderCancelled:
    order_id: indexed(uint256)
    requester: indexed(address)
    reason: String[128]
    refund_payment: uint256
    refund_asset: uint256


event FeeSignerSet:
    fee_signer: indexed(address)


event TreasurySet:
    treasury: indexed(address)


@deploy
def __init__(payment_token_: address, treasury_: address, fee_signer_: address):
    """
    @dev Binds the processor to its payment token.
    @param payment_token_ The payment token (USDC).
    @param treasury_ Where payments and fees go; not the zero address.
    @param fee_signer_ Who signs fee quotes; not the zero address.
    """
    assert payment_token_ != empty(address), "orders: payment token is the zero address"
    payment_token = payment_token_
    self._set_treasury(treasury_)
    self._set_fee_signer(fee_signer_)
    self.next_order_id = 1


@external
@nonreentrant
def create_order(order: IOrderProcessor.Order, quote: IOrderProcessor.FeeQuote, signature: Bytes[65]) -> uint256:
    """
    @dev Opens `order` for the caller and escrows what it needs: for a
         buy the payment (the notional of a market buy, the cost at the
         limit, rounded up, of a limit buy) plus the fee in USDC; for a
         sell the stock and the fee in USDC. Approve the processor for
         both first. Not while paused.
    @param order The order.
    @param quote The fee quote: this caller, its current nonce, a
           deadline not past.
    @param signature The fee signer's EIP-712 signature of the quote
           and the order.
    @return uint256 The order id.
    """
    pausable._require_not_paused()
    self._check_order(order)
    assert quote.requester == msg.sender, "orders: quote is for another requester"
    assert block.timestamp <= quote.deadline, "orders: quote expired"
    assert quote.nonce == self.nonces[msg.sender], "orders: quote nonce used or out of order"
    assert ecdsa._recover_sig(self._quote_digest(order, quote), signature) == self.fee_signer, "orders: bad quote signature"
    self.nonces[msg.sender] = quote.nonce + 1

    unit: uint256 = 10 ** convert(staticcall IERC20Detailed(order.token).decimals(), uint256)
    escrow_payment: uint256 = 0
    escrow_asset: uint256 = 0
    if order.sell:
        escrow_asset = order.asset_quantity
    else:
        code: uint8 = 0
        reason: String[48] = ""
        code, reason = staticcall IStockToken(order.token).can_transfer(self, order.recipient, 0)
        if code != 0:
            raw_revert(abi_encode(reason, method_id=method_id("Error(string)")))
        if order.order_type == MARKET:
            escrow_payment = order.payment_quantity
        else:
            escrow_payment = (order.asset_quantity * order.limit_price + unit - 1) // unit

    order_id: uint256 = self.next_order_id
    self.next_order_id = order_id + 1
    self._orders[order_id] = order
    self._states[order_id] = _State(
        requester=msg.sender,
        status=STATUS_ACTIVE,
        cancel_requested=False,
        unit=unit,
        fee=quote.fee,
        fee_paid=0,
        filled=0,
        escrow_payment=escrow_payment,
        escrow_asset=escrow_asset,
    )
    if escrow_payment + quote.fee > 0:
        self._pull(payment_token, msg.sender, self, escrow_payment + quote.fee)
    if escrow_asset > 0:
        self._pull(order.token, msg.sender, self, escrow_asset)
    log OrderCreated(
        order_id=order_id,
        requester=msg.sender,
        recipient=order.recipient,
        token=order.token,
        sell=order.sell,
        order_type=order.order_type,
        asset_quantity=order.asset_quantity,
        payment_quantity=order.payment_quantity,
        limit_price=order.limit_price,
        time_in_force=order.time_in_force,
        fee=quote.fee,
        escrow_payment=escrow_payment,
        escrow_asset=escrow_asset,
    )
    return order_id


@external
@nonreentrant
def request_cancel(order_id: uint256):
    """
    @dev Asks the operator to cancel an open order. Only its requester.
    @param order_id The order.
    """
    state: _State = self._states[order_id]
    assert state.requester == msg.sender, "orders: not the requester"
    assert state.status == STATUS_ACTIVE, "orders: order is not open"
    self._states[order_id].cancel_requested = True
    log CancelRequested(order_id=order_id, requester=msg.sender)


@external
@nonreentrant
def fill_order(order_id: uint256, fill_asset_quantity: uint256, fill_payment_amount: uint256):
    """
    @dev Records one broker fill of an open order. Only an operator.
         A buy mints `fill_asset_quantity` to the recipient (the token's
         reserve gate and compliance apply) and moves
         `fill_payment_amount` of the escrow to the treasury; a sell
         burns `fill_asset_quantity` of the escrowed stock and pays
         `fill_payment_amount` USDC from the operator to the recipient.
         The fee's pro rata part goes to the treasury. The fill that
         completes the order refunds the escrow left (a limit buy filled
         below its limit).
    @param order_id The order.
    @param fill_asset_quantity The stock filled, raw units; not zero.
    @param fill_payment_amount The USDC the fill cost or raised; not
           zero.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert fill_asset_quantity > 0 and fill_payment_amount > 0, "orders: fill is zero"
    state: _State = self._states[order_id]
    assert state.status == STATUS_ACTIVE, "orders: order is not open"
    order: IOrderProcessor.Order = self._orders[order_id]

    quantity: uint256 = order.asset_quantity
    fill: uint256 = fill_asset_quantity
    if not order.sell and order.order_type == MARKET:
        quantity = order.payment_quantity
        fill = fill_payment_amount
    filled: uint256 = state.filled + fill
    assert filled <= quantity, "orders: fill exceeds the order"
    if order.time_in_force == FOK:
        assert fill == quantity, "orders: fill-or-kill needs one whole fill"
    if order.order_type == LIMIT:
        if order.sell:
            assert fill_payment_amount * state.unit >= order.limit_price * fill_asset_quantity, "orders: fill below the limit"
        else:
            assert fill_payment_amount * state.unit <= order.limit_price * fill_asset_quantity, "orders: fill above the limit"

    fee: uint256 = state.fee * filled // quantity - state.fee_paid
    self._states[order_id].filled = filled
    self._states[order_id].fee_paid = state.fee_paid + fee
    refund: uint256 = 0
    if order.sell:
        self._states[order_id].escrow_asset = state.escrow_asset - fill_asset_quantity
    else:
        assert fill_payment_amount <= state.escrow_payment, "orders: fill exceeds the escrow"
        self._states[order_id].escrow_payment = state.escrow_payment - fill_payment_amount
        if filled == quantity:
            refund = state.escrow_payment - fill_payment_amount
            self._states[order_id].escrow_payment = 0
    if filled == quantity:
        self._states[order_id].status = STATUS_FILLED

    treasury_: address = self.treasury
    if order.sell:
        extcall IStockToken(order.token).burn(fill_asset_quantity)
        self._pull(payment_token, msg.sender, order.recipient, fill_payment_amount)
    else:
        extcall IStockToken(order.token).mint(order.recipient, fill_asset_quantity)
        self._push(payment_token, treasury_, fill_payment_amount)
    if fee > 0:
        self._push(payment_token, treasury_, fee)
    if refund > 0:
        self._push(payment_token, state.requester, refund)
    log OrderFill(
        order_id=order_id,
        requester=state.requester,
        token=order.token,
        fill_asset_quantity=fill_asset_quantity,
        fill_payment_amount=fill_payment_amount,
        fee=fee,
        filled=filled,
        refund=refund,
    )


@external
@nonreentrant
def cancel_order(order_id: uint256, reason: String[128]):
    """
    @dev Cancels an open order, whether or not its requester asked,
         and refunds the requester the unspent payment, the unfilled
         stock and the unused fee. Only an operator.
    @param order_id The order.
    @param reason Why, for the requester (e.g. "requested", "expired
           at the close", "IOC remainder").
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    state: _State = self._states[order_id]
    assert state.status == STATUS_ACTIVE, "orders: order is not open"
    refund_payment: uint256 = state.escrow_payment + state.fee - state.fee_paid
    refund_asset: uint256 = state.escrow_asset
    self._states[order_id].status = STATUS_CANCELLED
    self._states[order_id].escrow_payment = 0
    self._states[order_id].escrow_asset = 0
    if refund_payment > 0:
        self._push(payment_token, state.requester, refund_payment)
    if refund_asset > 0:
        self._push(self._orders[order_id].token, state.requester, refund_asset)
    log OrderCancelled(
        order_id=order_id,
        requester=state.requester,
        reason=reason,
        refund_payment=refund_payment,
        refund_asset=refund_asset,
    )


@external
def set_fee_signer(fee_signer_: address):
    """
    @dev Replaces the fee signer; quotes it signed stop working. Only
         the admin.
    @param fee_signer_ The new signer; not the zero address.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_fee_signer(fee_signer_)


@external
def set_treasury(treasury_: address):
    """
    @dev Replaces the treasury. Only the admin.
    @param treasury_ The new treasury; not the zero address.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_treasury(treasury_)


@external
def pause():
    """
    @dev Stops new orders; fills and cancels go on. Only a pauser or
         the admin.
    """
    self._check_pauser()
    pausable._pause()


@external
def unpause():
    """
    @dev Accepts new orders again. Only a pauser or the admin.
    """
    self._check_pauser()
    pausable._unpause()


@external
@view
def order(order_id: uint256) -> IOrderProcessor.Order:
    """
    @dev Returns an order as its requester placed it.
    @param order_id The order.
    @return Order The order; all zero if unknown.
    """
    return self._orders[order_id]


@external
@view
def order_status(order_id: uint256) -> uint8:
    """
    @dev Returns an order's status.
    @param order_id The order.
    @return uint8 0 none, 1 active, 2 filled, 3 cancelled.
    """
    return self._states[order_id].status


@external
@view
def order_requester(order_id: uint256) -> address:
    """
    @dev Returns who placed an order (and gets its refunds).
    @param order_id The order.
    @return address The requester.
    """
    return self._states[order_id].requester


@external
@view
def cancel_requested(order_id: uint256) -> bool:
    """
    @dev Returns whether the requester asked to cancel an order.
    @param order_id The order.
    @return bool True once asked.
    """
    return self._states[order_id].cancel_requested


@external
@view
def unfilled(order_id: uint256) -> uint256:
    """
    @dev Returns what is left to fill of an open order, in the order's
         unit (USDC for a market buy, stock otherwise); zero once
         filled or cancelled.
    @param order_id The order.
    @return uint256 Q - q, raw units.
    """
    state: _State = self._states[order_id]
    if state.status != STATUS_ACTIVE:
        return 0
    return self._quantity(self._orders[order_id]) - state.filled


@external
@view
def escrowed(order_id: uint256) -> (uint256, uint256):
    """
    @dev Returns what the processor holds for an order; nothing once
         it is filled or cancelled.
    @param order_id The order.
    @return uint256 E_u: USDC, the unspent payment plus the unused fee.
    @return uint256 E_a: stock, raw units.
    """
    state: _State = self._states[order_id]
    if state.status != STATUS_ACTIVE:
        return (0, 0)
    return (state.escrow_payment + state.fee - state.fee_paid, state.escrow_asset)


@external
@view
def fee_paid(order_id: uint256) -> (uint256, uint256):
    """
    @dev Returns an order's quoted fee and the part of it paid to the
         treasury (a cancel refunds the rest).
    @param order_id The order.
    @return uint256 F, USDC.
    @return uint256 f, USDC.
    """
    state: _State = self._states[order_id]
    return (state.fee, state.fee_paid)


@internal
@view
def _check_order(order: IOrderProcessor.Order):
    assert order.recipient != empty(address), "orders: recipient is the zero address"
    assert order.token != empty(address) and order.token != payment_token, "orders: not a stock token"
    assert order.order_type <= LIMIT, "orders: unknown order type"
    assert order.time_in_force <= FOK, "orders: unknown time in force"
    if order.order_type == LIMIT:
        assert order.limit_price > 0, "orders: limit price is zero"
    else:
        assert order.limit_price == 0, "orders: market order with a limit price"
    if not order.sell and order.order_type == MARKET:
        assert order.payment_quantity > 0, "orders: quantity is zero"
        assert order.asset_quantity == 0, "orders: market buy takes a payment quantity"
    else:
        assert order.asset_quantity > 0, "orders: quantity is zero"
        assert order.payment_quantity == 0, "orders: order takes an asset quantity"


@internal
@pure
def _quantity(order: IOrderProcessor.Order) -> uint256:
    if not order.sell and order.order_type == MARKET:
        return order.payment_quantity
    return order.asset_quantity


@internal
@view
def _quote_digest(order: IOrderProcessor.Order, quote: IOrderProcessor.FeeQuote) -> bytes32:
    order_hash: bytes32 = keccak256(
        abi_encode(
            _ORDER_TYPEHASH,
            order.recipient,
            order.token,
            order.sell,
            order.order_type,
            order.asset_quantity,
            order.payment_quantity,
            order.limit_price,
            order.time_in_force,
        )
    )
    struct_hash: bytes32 = keccak256(
        abi_encode(_FEE_QUOTE_TYPEHASH, quote.nonce, quote.requester, order_hash, quote.fee, quote.deadline)
    )
    return eip712_domain_separator._hash_typed_data_v4(struct_hash)


@internal
@view
def _check_pauser():
    assert access_control.hasRole[PAUSER_ROLE][msg.sender] or access_control.hasRole[
        access_control.DEFAULT_ADMIN_ROLE
    ][msg.sender], "orders: not a pauser"


@internal
def _pull(token: address, owner: address, to: address, amount: uint256):
    assert extcall IERC20(token).transferFrom(owner, to, amount, default_return_value=True), "orders: transfer failed"


@internal
def _push(token: address, to: address, amount: uint256):
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "orders: transfer failed"


@internal
def _set_fee_signer(fee_signer_: address):
    assert fee_signer_ != empty(address), "orders: fee signer is the zero address"
    self.fee_signer = fee_signer_
    log FeeSignerSet(fee_signer=fee_signer_)


@internal
def _set_treasury(treasury_: address):
    assert treasury_ != empty(address), "orders: treasury is the zero address"
    self.treasury = treasury_
    log TreasurySet(treasury=treasury_)
