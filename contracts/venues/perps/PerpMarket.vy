# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Perpetual futures market of one stock token
@custom:contract-name PerpMarket
@license GNU Affero General Public License v3.0 or later
@notice Leveraged long and short positions on one stock token's price,
        settled in USDC against the shared `PerpVault` (gTrade's and
        Ostium's vault model), with Synthetix v3 funding and the stock
        market's clock. The price is the token's `PriceFeed` answer read
        through `price_guard`: the token price (share price times the UI
        multiplier), so a split moves nothing and positions sized in
        token units need no adjustment.
        - trading: `open_position`, `close_position` (whole or part),
          `add_margin`, `set_triggers`, `execute_trigger` (take profit,
          stop loss; anyone), `liquidate` (anyone, for a reward);
        - while the stock market is closed under the CLOSED policy:
          `request_open`, `request_close`, then `execute_order` (anyone)
          after the reopening, `cancel_order` (the order's owner);
        - views: `mark_price`, `fill_price`, `position`,
          `position_reservation`, `order`, `open_interest`,
          `open_interest_usd`, `funding_rate`, `accrued_funding`,
          `position_funding`, `equity`, `is_liquidatable`,
          `parameters`, `escrowed_margin`, `next_position_id`,
          `next_order_id`;
        - governance (the owner, snekmate `ownable`): `set_parameters`,
          `set_price_limits`, `transfer_ownership`.
        Market states (`mark_price`): 1 OPEN (the guarded price);
        2 CLOSED (policy CLOSED, stock market closed: nothing trades,
        orders wait for the reopening; the frozen close values positions);
        3 DISCOVERY (policy DISCOVERY, stock market closed: trading and
        liquidations at the feed's answer clamped to the close +- 1 /
        max leverage); 4 HALTED and 5 NO PRICE (stale, out of band, no
        round): nothing executes.

        Glossary (units as in `perp_math`):
        - s, e, m     a position's size (token units), entry price
                      (8 decimals) and margin (USDC);
        - res         its vault reservation: margin x
                      `max_profit_multiple` / WAD when posted;
        - L           `max_leverage`, WAD;
        - P           the mark price; fill the price with the spread;
        - C           the close in token terms: `last_close` x
                      `uiMultiplierAt(status_since)` / WAD;
        - F, F_e      accrued funding now and at the position's entry;
        - pnl         s * (P - e) / 1e20 (sign by side), floored;
        - funding     s * (F - F_e) / 1e18 (sign by side), ceiled;
        - fee_c       the close fee: n(s, P) * `close_fee_bps` / 1e4,
                      ceiled;
        - equity      m + pnl - funding - fee_c;
        - MM          the maintenance margin, n(s, P) / (2 L).
        Invariants:
        - the market's USDC balance == sum of open margins + escrowed
          order margins (`escrowed_margin`);
        - a close pays clamp(m_part + pnl - funding - fee_c, 0,
          m_part + res_part): a loss never exceeds the margin, a profit
          never exceeds the reservation, which the vault holds;
        - the vault's reservations from this market == sum of open
          positions' res;
        - liquidatable iff equity < MM, i.e. equity * 2 * L < n(s, P) *
          WAD; the liquidator gets min(max(equity, 0), n(s, P) *
          `liquidation_fee_bps` / 1e4, m), the vault the rest of m;
        - funding updates before every size change, with the price the
          action uses.
        Storage: a position takes three words,
          (owner | s << 160),
          (m | res << 64 | e << 136 | opened_at << 200 | is_long << 240),
          (take_profit | stop_loss << 64 | (F_e + 2**127) << 128);
        the parameters three, the open interest two, funding two.
        Compiled for code size (`optimize codesize`): the runtime stays
        below EIP-170's 24,576 bytes.
@custom:security Every function that moves USDC is `nonreentrant`, and
                 writes its state before it moves tokens. The vault pays
                 a profit only after this market released the position's
                 reservation, so a payout never touches other positions'
                 backing.
"""


from ethereum.ercs import IERC20

from ...interfaces import IPerpVault
from ...interfaces import IPriceFeed

from snekmate.auth import ownable
initializes: ownable

from ...oracle import price_guard
initializes: price_guard

from snekmate.utils import math

from . import perp_math

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
    price_guard.price_feed,
    price_guard.guard_limits,
)


interface IMultiplierHistory:
    def uiMultiplierAt(timestamp: uint256) -> uint256: view


struct Parameters:
    max_leverage: uint256
    open_fee_bps: uint256
    close_fee_bps: uint256
    base_spread_bps: uint256
    skew_scale: uint256
    max_funding_velocity: uint256
    max_oi_long: uint256
    max_oi_short: uint256
    max_profit_multiple: uint256
    liquidation_fee_bps: uint256
    min_margin: uint256
    closed_policy: uint8


struct Position:
    owner: address
    is_long: bool
    size: uint256
    entry_price: uint256
    margin: uint256
    funding_entry: int256
    take_profit: uint256
    stop_loss: uint256
    opened_at: uint256


struct Order:
    owner: address
    kind: uint8
    position_id: uint256
    is_long: bool
    margin: uint256
    leverage: uint256
    size: uint256
    take_profit: uint256
    stop_loss: uint256
    acceptable_price: uint256
    created_at: uint256


STATE_OPEN: constant(uint8) = 1
STATE_CLOSED: constant(uint8) = 2
STATE_DISCOVERY: constant(uint8) = 3
STATE_HALTED: constant(uint8) = 4
STATE_NO_PRICE: constant(uint8) = 5

POLICY_CLOSED: constant(uint8) = 1
POLICY_DISCOVERY: constant(uint8) = 2

ORDER_OPEN: constant(uint8) = 1
ORDER_CLOSE: constant(uint8) = 2

MAX_LEVERAGE_CAP: public(constant(uint256)) = 50 * 10**18
MAX_FEE_BPS: constant(uint256) = 100
MAX_SPREAD_BPS: constant(uint256) = 500
MAX_LIQUIDATION_FEE_BPS: constant(uint256) = 1_000
MAX_PROFIT_MULTIPLE_CAP: constant(uint256) = 100 * 10**18

_WAD: constant(uint256) = 10**18
_BPS: constant(uint256) = 10_000
# @dev size = margin * leverage * 100 / price: 6 + 18 + 2 - 8 = 18.
_SIZE_SCALE: constant(uint256) = 100
# @dev fee = s * p * bps / 1e24: n(s, p) in bps.
_FEE_SCALE: constant(uint256) = 10**24
_OFFSET: constant(int256) = 2**127

_MASK_40: constant(uint256) = (1 << 40) - 1
_MASK_64: constant(uint256) = (1 << 64) - 1
_MASK_72: constant(uint256) = (1 << 72) - 1
_MASK_96: constant(uint256) = (1 << 96) - 1
_MASK_128: constant(uint256) = (1 << 128) - 1
_MASK_160: constant(uint256) = (1 << 160) - 1
_MASK_16: constant(uint256) = (1 << 16) - 1
_MASK_8: constant(uint256) = (1 << 8) - 1


# @dev The settlement token, USDC (6 decimals).
usdc: public(immutable(IERC20))

# @dev The LP vault, every position's counterparty.
vault: public(immutable(IPerpVault))

# @dev The stock token, read only for its UI multiplier history.
token: public(immutable(address))

# @dev Returns the id the next position gets (ids start at 1).
next_position_id: public(uint256)

# @dev Returns the id the next order gets (ids start at 1).
next_order_id: public(uint256)

# @dev Returns the USDC held for pending open orders.
escrowed_margin: public(uint256)

# @dev The packed parameters:
#   A: L (72) | open fee (16) << 72 | close fee (16) << 88 |
#      base spread (16) << 104 | liquidation fee (16) << 120 |
#      closed policy (8) << 136 | max profit multiple (72) << 144 |
#      min margin (40) << 216;
#   B: skew scale (128) | max funding velocity (64) << 128;
#   C: max OI long (128) | max OI short (128) << 128.
_params_a: uint256
_params_b: uint256
_params_c: uint256

# @dev (long size | short size << 128) and the same at entry in USDC.
_oi_size: uint256
_oi_usd: uint256

# @dev ((rate + 2**127) | last update << 128) and
# ((F + 2**127) | (carry + 2**127) << 128).
_funding_word: uint256
_accrued_word: uint256

# @dev The three words of a position, see the notice.
_pos_a: HashMap[uint256, uint256]
_pos_b: HashMap[uint256, uint256]
_pos_c: HashMap[uint256, uint256]

_orders: HashMap[uint256, Order]


event ParametersSet:
    max_leverage: uint256
    open_fee_bps: uint256
    close_fee_bps: uint256
    base_spread_bps: uint256
    skew_scale: uint256
    max_funding_velocity: uint256
    max_oi_long: uint256
    max_oi_short: uint256
    max_profit_multiple: uint256
    liquidation_fee_bps: uint256
    min_margin: uint256
    closed_policy: uint8


event FundingUpdated:
    rate: int256
    accrued: int256
    skew: int256


event PositionOpened:
    id: indexed(uint256)
    owner: indexed(address)
    is_long: bool
    size: uint256
    price: uint256
    margin: uint256
    fee: uint256


event PositionClosed:
    id: indexed(uint256)
    size: uint256
    price: uint256
    pnl: int256
    funding: int256
    fee: uint256
    payout: uint256


event PositionLiquidated:
    id: indexed(uint256)
    liquidator: indexed(address)
    size: uint256
    price: uint256
    equity: int256
    reward: uint256
    to_vault: uint256


event MarginAdded:
    id: indexed(uint256)
    amount: uint256
    reserved: uint256


event TriggersSet:
    id: indexed(uint256)
    take_profit: uint256
    stop_loss: uint256


event TriggerExecuted:
    id: indexed(uint256)
    caller: indexed(address)
    price: uint256


event OrderRequested:
    order_id: indexed(uint256)
    owner: indexed(address)
    kind: uint8
    position_id: uint256


event OrderExecuted:
    order_id: indexed(uint256)
    position_id: indexed(uint256)


event OrderCancelled:
    order_id: indexed(uint256)
    owner: indexed(address)
    reason: String[64]


@deploy
def __init__(
    usdc_: IERC20,
    vault_: IPerpVault,
    price_feed: IPriceFeed,
    token_: address,
    max_age: uint256,
    min_answer: uint256,
    max_answer: uint256,
):
    """
    @dev Deploys the market of `token_`, owned by the deployer, with the
         default parameters (10x, 0.08% per side, 5 bps spread, skew
         scale 1,000,000 tokens, 1%/day/day velocity, 10M USDC OI caps
         per side, 900% profit cap, 0.5% liquidation fee, 10 USDC
         minimum margin, the CLOSED policy).
    @param usdc_ The settlement token.
    @param vault_ The `PerpVault`.
    @param price_feed The token's `PriceFeed`; it must price `token_`.
    @param token_ The stock token.
    @param max_age The oldest accepted observation, seconds.
    @param min_answer The lowest accepted answer, 8 decimals.
    @param max_answer The highest accepted answer.
    """
    assert staticcall price_feed.token() == token_, "perp: feed prices another asset"
    assert staticcall vault_.asset() == usdc_.address, "perp: vault settles another asset"
    ownable.__init__()
    price_guard.__init__(price_feed, max_age, min_answer, max_answer)
    usdc = usdc_
    vault = vault_
    token = token_
    self.next_position_id = 1
    self.next_order_id = 1
    self._funding_word = convert(_OFFSET, uint256) | (block.timestamp << 128)
    self._accrued_word = convert(_OFFSET, uint256) | (convert(_OFFSET, uint256) << 128)
    self._set_parameters(
        Parameters(
            max_leverage=10 * _WAD,
            open_fee_bps=8,
            close_fee_bps=8,
            base_spread_bps=5,
            skew_scale=1_000_000 * _WAD,
            max_funding_velocity=_WAD // 100,
            max_oi_long=10_000_000 * 10**6,
            max_oi_short=10_000_000 * 10**6,
            max_profit_multiple=9 * _WAD,
            liquidation_fee_bps=50,
            min_margin=10 * 10**6,
            closed_policy=POLICY_CLOSED,
        )
    )


# ------------------------------------------------------------------ trading


@external
@nonreentrant
def open_position(
    is_long: bool,
    margin: uint256,
    leverage: uint256,
    take_profit: uint256,
    stop_loss: uint256,
    acceptable_price: uint256,
) -> uint256:
    """
    @dev Opens a position: pulls `margin` USDC from the caller, sends the
         open fee (on the notional margin x leverage) to the vault, sizes
         the position at the fill price and reserves its maximum profit
         in the vault. Reverts "perp: market closed" in the CLOSED state,
         with the guard's reason when halted or without a usable price,
         "vault: insufficient liquidity" when the vault cannot back the
         profit, and "perp: ..." on bad input.
    @param is_long Long (True) or short.
    @param margin USDC (6 decimals), at least `min_margin`.
    @param leverage WAD, from 1e18 to `max_leverage`.
    @param take_profit 8 decimals, 0 for none; above the entry for a
           long, below for a short.
    @param stop_loss 8 decimals, 0 for none; below the entry for a long,
           above for a short.
    @param acceptable_price The worst fill accepted (a long's highest, a
           short's lowest), 0 for any.
    @return uint256 The position id.
    """
    p: Parameters = self._params()
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._trade_price(p)
    assert state != STATE_CLOSED, "perp: market closed"
    accrued: int256 = self._update_funding(mark, p)
    position_id: uint256 = 0
    fee: uint256 = 0
    reservation: uint256 = 0
    reason: String[64] = ""
    position_id, fee, reservation, reason = self._open(
        msg.sender, is_long, margin, leverage, take_profit, stop_loss, acceptable_price, mark, accrued, p, False
    )
    assert len(reason) == 0, reason
    self._pull(msg.sender, margin)
    self._to_vault(fee)
    if reservation != 0:
        extcall vault.reserve(reservation)
    return position_id


@external
@nonreentrant
def close_position(id: uint256, size: uint256, acceptable_price: uint256):
    """
    @dev Closes `size` of the caller's position at the fill price (all of
         it when `size` is the position's size): settles PnL, the funding
         and the close fee on that part, pays the owner clamp(margin part
         + PnL - funding - fee, 0, margin part + reservation part), sends
         a loss to the vault and has the vault pay a profit. Reverts
         "perp: market closed" in the CLOSED state.
    @param id The position.
    @param size Token units, more than 0, at most the position's size.
    @param acceptable_price The worst fill accepted (a long's lowest, a
           short's highest), 0 for any.
    """
    pos: Position = self._load(id)
    assert pos.owner == msg.sender, "perp: not the owner"
    p: Parameters = self._params()
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._trade_price(p)
    assert state != STATE_CLOSED, "perp: market closed"
    accrued: int256 = self._update_funding(mark, p)
    reason: String[64] = self._close(id, pos, size, acceptable_price, mark, accrued, p)
    assert len(reason) == 0, reason


@external
@nonreentrant
def add_margin(id: uint256, amount: uint256):
    """
    @dev Adds `amount` USDC to the caller's position, and reserves its
         maximum profit in the vault as far as the vault's free assets
         go. Allowed in every state but HALTED.
    @param id The position.
    @param amount USDC (6 decimals), more than 0.
    """
    answer: uint256 = 0
    status: uint8 = 0
    problem: uint8 = 0
    answer, status, problem = price_guard._read()
    assert problem != price_guard.PROBLEM_HALTED, "guard: market halted"
    pos: Position = self._load(id)
    assert pos.owner == msg.sender, "perp: not the owner"
    assert amount != 0, "perp: zero amount"
    margin: uint256 = pos.margin + amount
    assert margin <= _MASK_64, "perp: margin too large"
    p: Parameters = self._params()
    extra: uint256 = min(
        math._mul_div(amount, p.max_profit_multiple, _WAD, False), staticcall vault.free_assets()
    )
    word: uint256 = self._pos_b[id]
    reservation: uint256 = ((word >> 64) & _MASK_72) + extra
    assert reservation <= _MASK_72, "perp: margin too large"
    self._pos_b[id] = (word & ~(_MASK_64 | (_MASK_72 << 64))) | margin | (reservation << 64)
    self._pull(msg.sender, amount)
    if extra != 0:
        extcall vault.reserve(extra)
    log MarginAdded(id=id, amount=amount, reserved=extra)


@external
def set_triggers(id: uint256, take_profit: uint256, stop_loss: uint256):
    """
    @dev Sets the caller's position's take profit and stop loss (0 for
         none), on the right side of its entry price.
    @param id The position.
    @param take_profit 8 decimals: above the entry for a long, below for
           a short.
    @param stop_loss 8 decimals: below the entry for a long, above for a
           short.
    """
    pos: Position = self._load(id)
    assert pos.owner == msg.sender, "perp: not the owner"
    reason: String[64] = self._trigger_problem(pos.is_long, pos.entry_price, take_profit, stop_loss)
    assert len(reason) == 0, reason
    self._pos_c[id] = (self._pos_c[id] & ~(_MASK_128)) | take_profit | (stop_loss << 64)
    log TriggersSet(id=id, take_profit=take_profit, stop_loss=stop_loss)


@external
@nonreentrant
def execute_trigger(id: uint256):
    """
    @dev Closes a whole position at the fill price once the mark reached
         its take profit (a long: mark >= TP; a short: mark <= TP) or
         stop loss (a long: mark <= SL; a short: mark >= SL). Anyone, in
         the OPEN and DISCOVERY states.
    @param id The position.
    """
    pos: Position = self._load(id)
    assert pos.owner != empty(address), "perp: no position"
    p: Parameters = self._params()
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._trade_price(p)
    assert state != STATE_CLOSED, "perp: market closed"
    hit: bool = False
    if pos.is_long:
        hit = (pos.take_profit != 0 and mark >= pos.take_profit) or (pos.stop_loss != 0 and mark <= pos.stop_loss)
    else:
        hit = (pos.take_profit != 0 and mark <= pos.take_profit) or (pos.stop_loss != 0 and mark >= pos.stop_loss)
    assert hit, "perp: trigger not reached"
    accrued: int256 = self._update_funding(mark, p)
    reason: String[64] = self._close(id, pos, pos.size, 0, mark, accrued, p)
    assert len(reason) == 0, reason
    log TriggerExecuted(id=id, caller=msg.sender, price=mark)


@external
@nonreentrant
def liquidate(id: uint256) -> uint256:
    """
    @dev Liquidates a position whose equity at the mark is below the
         maintenance margin n(s, P) / (2 L): the caller receives
         min(max(equity, 0), n(s, P) * liquidation_fee_bps / 1e4, margin),
         the vault the rest of the margin and the whole reservation; the
         owner gets nothing. OPEN and DISCOVERY states only (DISCOVERY:
         at the clamped mark).
    @param id The position.
    @return uint256 The reward, USDC (6 decimals).
    """
    pos: Position = self._load(id)
    assert pos.owner != empty(address), "perp: no position"
    p: Parameters = self._params()
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._trade_price(p)
    assert state != STATE_CLOSED, "perp: market closed"
    accrued: int256 = self._update_funding(mark, p)
    equity: int256 = 0
    notional: uint256 = 0
    equity, notional = self._equity(pos, mark, accrued, p)
    assert not self._healthy(equity, notional, p), "perp: not liquidatable"
    reward: uint256 = 0
    if equity > 0:
        reward = min(
            min(convert(equity, uint256), notional * p.liquidation_fee_bps // _BPS), pos.margin
        )
    reservation: uint256 = (self._pos_b[id] >> 64) & _MASK_72
    self._reduce_oi(pos, pos.size)
    self._delete(id)
    to_vault: uint256 = pos.margin - reward
    if reward != 0:
        self._send(msg.sender, reward)
    self._to_vault(to_vault)
    if reservation != 0:
        extcall vault.release(reservation)
    log PositionLiquidated(
        id=id, liquidator=msg.sender, size=pos.size, price=mark, equity=equity, reward=reward, to_vault=to_vault
    )
    return reward


# ------------------------------------------------------------------- orders


@external
@nonreentrant
def request_open(
    is_long: bool,
    margin: uint256,
    leverage: uint256,
    take_profit: uint256,
    stop_loss: uint256,
    acceptable_price: uint256,
) -> uint256:
    """
    @dev Queues an open for the reopening, escrowing `margin` here. Only
         in the CLOSED state ("perp: market not closed"); the guard's
         reason when halted or without a usable price.
    @param is_long Long or short.
    @param margin USDC, at least `min_margin`.
    @param leverage WAD, from 1e18 to `max_leverage`.
    @param take_profit 8 decimals, 0 for none.
    @param stop_loss 8 decimals, 0 for none.
    @param acceptable_price The worst fill accepted, 0 for any.
    @return uint256 The order id.
    """
    p: Parameters = self._params()
    self._check_closed(p)
    reason: String[64] = self._input_problem(margin, leverage, p)
    assert len(reason) == 0, reason
    assert take_profit <= _MASK_64 and stop_loss <= _MASK_64, "perp: price too large"
    order_id: uint256 = self.next_order_id
    self.next_order_id = order_id + 1
    self._orders[order_id] = Order(
        owner=msg.sender,
        kind=ORDER_OPEN,
        position_id=0,
        is_long=is_long,
        margin=margin,
        leverage=leverage,
        size=0,
        take_profit=take_profit,
        stop_loss=stop_loss,
        acceptable_price=acceptable_price,
        created_at=block.timestamp,
    )
    self.escrowed_margin += margin
    self._pull(msg.sender, margin)
    log OrderRequested(order_id=order_id, owner=msg.sender, kind=ORDER_OPEN, position_id=0)
    return order_id


@external
def request_close(id: uint256, size: uint256, acceptable_price: uint256) -> uint256:
    """
    @dev Queues a close of `size` of the caller's position for the
         reopening. Only in the CLOSED state.
    @param id The position.
    @param size Token units, more than 0, at most the position's size.
    @param acceptable_price The worst fill accepted, 0 for any.
    @return uint256 The order id.
    """
    pos: Position = self._load(id)
    assert pos.owner == msg.sender, "perp: not the owner"
    self._check_closed(self._params())
    assert size != 0, "perp: zero size"
    assert size <= pos.size, "perp: size above position"
    order_id: uint256 = self.next_order_id
    self.next_order_id = order_id + 1
    self._orders[order_id] = Order(
        owner=msg.sender,
        kind=ORDER_CLOSE,
        position_id=id,
        is_long=pos.is_long,
        margin=0,
        leverage=0,
        size=size,
        take_profit=0,
        stop_loss=0,
        acceptable_price=acceptable_price,
        created_at=block.timestamp,
    )
    log OrderRequested(order_id=order_id, owner=msg.sender, kind=ORDER_CLOSE, position_id=id)
    return order_id


@external
@nonreentrant
def execute_order(order_id: uint256):
    """
    @dev Executes a pending order at the current price; anyone, only in
         the OPEN state ("perp: market not open"). An order the price or
         a cap now refuses (acceptable price, OI cap, leverage, minimum
         margin, triggers, vault liquidity, a position closed since) is
         cancelled instead, its margin refunded, with `OrderCancelled`.
    @param order_id The order.
    """
    o: Order = self._orders[order_id]
    assert o.owner != empty(address), "perp: no order"
    p: Parameters = self._params()
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._trade_price(p)
    assert state == STATE_OPEN, "perp: market not open"
    self._orders[order_id] = empty(Order)
    accrued: int256 = self._update_funding(mark, p)
    reason: String[64] = ""
    position_id: uint256 = o.position_id
    if o.kind == ORDER_OPEN:
        fee: uint256 = 0
        reservation: uint256 = 0
        position_id, fee, reservation, reason = self._open(
            o.owner, o.is_long, o.margin, o.leverage, o.take_profit, o.stop_loss, o.acceptable_price, mark, accrued, p, True
        )
        self.escrowed_margin -= o.margin
        if len(reason) == 0:
            self._to_vault(fee)
            if reservation != 0:
                extcall vault.reserve(reservation)
        else:
            self._send(o.owner, o.margin)
    else:
        pos: Position = self._load(o.position_id)
        if pos.owner != o.owner:
            reason = "perp: position closed"
        elif o.size > pos.size:
            reason = "perp: size above position"
        else:
            reason = self._close(o.position_id, pos, o.size, o.acceptable_price, mark, accrued, p)
    if len(reason) == 0:
        log OrderExecuted(order_id=order_id, position_id=position_id)
    else:
        log OrderCancelled(order_id=order_id, owner=o.owner, reason=reason)


@external
@nonreentrant
def cancel_order(order_id: uint256):
    """
    @dev Cancels the caller's pending order and refunds an open order's
         margin. Any state.
    @param order_id The order.
    """
    o: Order = self._orders[order_id]
    assert o.owner != empty(address), "perp: no order"
    assert o.owner == msg.sender, "perp: not the owner"
    self._orders[order_id] = empty(Order)
    if o.margin != 0:
        self.escrowed_margin -= o.margin
        self._send(o.owner, o.margin)
    log OrderCancelled(order_id=order_id, owner=o.owner, reason="perp: cancelled by owner")


# --------------------------------------------------------------- governance


@external
def set_parameters(p: Parameters):
    """
    @dev Replaces the parameters. Owner only; validated (see the
         `MAX_*` constants), reverting "perp: ..." on a bad value.
    @param p The new parameters.
    """
    ownable._check_owner()
    self._set_parameters(p)


@external
def set_price_limits(max_age: uint256, min_answer: uint256, max_answer: uint256):
    """
    @dev Sets the guard's limits. Owner only.
    @param max_age The oldest accepted observation, seconds.
    @param min_answer The lowest accepted answer, 8 decimals.
    @param max_answer The highest accepted answer.
    """
    ownable._check_owner()
    price_guard._set_limits(max_age, min_answer, max_answer)


# -------------------------------------------------------------------- views


@external
@view
def parameters() -> Parameters:
    """
    @dev Returns the current parameters.
    @return Parameters The parameters.
    """
    return self._params()


@external
@view
def position(id: uint256) -> Position:
    """
    @dev Returns a position (all zero once closed or never opened).
    @param id The position.
    @return Position The position.
    """
    return self._load(id)


@external
@view
def position_reservation(id: uint256) -> uint256:
    """
    @dev Returns what the vault reserves for a position: the most its
         profit can be.
    @param id The position.
    @return uint256 USDC (6 decimals).
    """
    return (self._pos_b[id] >> 64) & _MASK_72


@external
@view
def order(id: uint256) -> Order:
    """
    @dev Returns a pending order (all zero once executed or cancelled).
    @param id The order.
    @return Order The order.
    """
    return self._orders[id]


@external
@view
def open_interest() -> (uint256, uint256):
    """
    @dev Returns the open sizes.
    @return uint256 The long size, token units.
    @return uint256 The short size, token units.
    """
    word: uint256 = self._oi_size
    return (word & _MASK_128, word >> 128)


@external
@view
def open_interest_usd() -> (uint256, uint256):
    """
    @dev Returns the open notionals at entry prices.
    @return uint256 The long notional, USDC.
    @return uint256 The short notional, USDC.
    """
    word: uint256 = self._oi_usd
    return (word & _MASK_128, word >> 128)


@external
@view
def mark_price() -> (uint256, uint8):
    """
    @dev Returns the price positions are valued at and the state.
    @return uint256 8 decimals (0 when halted).
    @return uint8 1 OPEN, 2 CLOSED, 3 DISCOVERY, 4 HALTED, 5 NO PRICE.
    """
    return self._mark()


@external
@view
def fill_price(is_long: bool, size: uint256, opening: bool) -> uint256:
    """
    @dev Returns the fill of a trade of `size` at the current mark:
         mark * (1 +- (base spread + impact)).
    @param is_long The position's side.
    @param size Token units.
    @param opening An open (True) or a close.
    @return uint256 8 decimals.
    """
    p: Parameters = self._params()
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._mark()
    return perp_math._fill(mark, is_long == opening, size, self._skew(), p.base_spread_bps, p.skew_scale)


@external
@view
def funding_rate() -> int256:
    """
    @dev Returns the current funding rate, r + v * dt / 86400.
    @return int256 WAD per day; positive: longs pay shorts.
    """
    rate: int256 = 0
    accrued: int256 = 0
    rate, accrued = self._funding_now(0, self._params())
    return rate


@external
@view
def accrued_funding() -> int256:
    """
    @dev Returns the accrued funding F now, at the mark price.
    @return int256 USDC (6 decimals) per whole token.
    """
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._mark()
    rate: int256 = 0
    accrued: int256 = 0
    rate, accrued = self._funding_now(mark, self._params())
    return accrued


@external
@view
def position_funding(id: uint256) -> int256:
    """
    @dev Returns the funding a position owes so far.
    @param id The position.
    @return int256 USDC (6 decimals); positive: the position owes.
    """
    pos: Position = self._load(id)
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._mark()
    rate: int256 = 0
    accrued: int256 = 0
    rate, accrued = self._funding_now(mark, self._params())
    return perp_math._funding_owed(pos.is_long, pos.size, accrued - pos.funding_entry)


@external
@view
def equity(id: uint256) -> int256:
    """
    @dev Returns a position's equity at the mark: margin + PnL - funding
         - close fee.
    @param id The position.
    @return int256 USDC (6 decimals).
    """
    pos: Position = self._load(id)
    p: Parameters = self._params()
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._mark()
    rate: int256 = 0
    accrued: int256 = 0
    rate, accrued = self._funding_now(mark, p)
    value: int256 = 0
    notional: uint256 = 0
    value, notional = self._equity(pos, mark, accrued, p)
    return value


@external
@view
def is_liquidatable(id: uint256) -> bool:
    """
    @dev Returns whether `liquidate(id)` would succeed now: an open
         position, the OPEN or DISCOVERY state, equity below the
         maintenance margin.
    @param id The position.
    @return bool Whether it is liquidatable.
    """
    pos: Position = self._load(id)
    if pos.owner == empty(address):
        return False
    p: Parameters = self._params()
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._mark()
    if state != STATE_OPEN and state != STATE_DISCOVERY:
        return False
    rate: int256 = 0
    accrued: int256 = 0
    rate, accrued = self._funding_now(mark, p)
    value: int256 = 0
    notional: uint256 = 0
    value, notional = self._equity(pos, mark, accrued, p)
    return not self._healthy(value, notional, p)


# ---------------------------------------------------------------- internals


@internal
def _open(
    owner: address,
    is_long: bool,
    margin: uint256,
    leverage: uint256,
    take_profit: uint256,
    stop_loss: uint256,
    acceptable_price: uint256,
    mark: uint256,
    accrued: int256,
    p: Parameters,
    check_liquidity: bool,
) -> (uint256, uint256, uint256, String[64]):
    """
    @dev Writes a new position unless something refuses it; moves no
         tokens. Returns the refusal instead of reverting.
    @return uint256 The position id (0 if refused).
    @return uint256 The open fee, USDC.
    @return uint256 The reservation, USDC.
    @return String The reason it was refused, empty if not.
    """
    reason: String[64] = self._input_problem(margin, leverage, p)
    if len(reason) != 0:
        return (0, 0, 0, reason)
    fee: uint256 = math._mul_div(margin, leverage * p.open_fee_bps, _WAD * _BPS, True)
    net: uint256 = margin - fee
    oi: uint256 = self._oi_size
    skew: int256 = convert(oi & _MASK_128, int256) - convert(oi >> 128, int256)
    # The impact is measured on the size at the mark: the size at the
    # fill depends on the fill.
    at_mark: uint256 = math._mul_div(net, leverage * _SIZE_SCALE, mark, False)
    fill: uint256 = perp_math._fill(mark, is_long, at_mark, skew, p.base_spread_bps, p.skew_scale)
    if acceptable_price != 0 and ((is_long and fill > acceptable_price) or (not is_long and fill < acceptable_price)):
        return (0, 0, 0, "perp: price not acceptable")
    if fill > _MASK_64:
        return (0, 0, 0, "perp: price too large")
    size: uint256 = math._mul_div(net, leverage * _SIZE_SCALE, fill, False)
    if size == 0:
        return (0, 0, 0, "perp: zero size")
    if size > _MASK_96:
        return (0, 0, 0, "perp: size too large")
    reason = self._trigger_problem(is_long, fill, take_profit, stop_loss)
    if len(reason) != 0:
        return (0, 0, 0, reason)
    notional: uint256 = perp_math._notional(size, fill, False)
    usd: uint256 = self._oi_usd
    if is_long:
        if (usd & _MASK_128) + notional > p.max_oi_long:
            return (0, 0, 0, "perp: open interest cap")
        usd += notional
        oi += size
    else:
        if (usd >> 128) + notional > p.max_oi_short:
            return (0, 0, 0, "perp: open interest cap")
        usd += notional << 128
        oi += size << 128
    reservation: uint256 = math._mul_div(net, p.max_profit_multiple, _WAD, False)
    if check_liquidity and staticcall vault.free_assets() + fee < reservation:
        return (0, 0, 0, "vault: insufficient liquidity")

    position_id: uint256 = self.next_position_id
    self.next_position_id = position_id + 1
    self._oi_size = oi
    self._oi_usd = usd
    long_flag: uint256 = 0
    if is_long:
        long_flag = 1
    self._pos_a[position_id] = convert(owner, uint256) | (size << 160)
    self._pos_b[position_id] = net | (reservation << 64) | (fill << 136) | (block.timestamp << 200) | (long_flag << 240)
    self._pos_c[position_id] = take_profit | (stop_loss << 64) | (convert(accrued + _OFFSET, uint256) << 128)
    log PositionOpened(id=position_id, owner=owner, is_long=is_long, size=size, price=fill, margin=net, fee=fee)
    return (position_id, fee, reservation, "")


@internal
def _close(
    id: uint256,
    pos: Position,
    size: uint256,
    acceptable_price: uint256,
    mark: uint256,
    accrued: int256,
    p: Parameters,
) -> String[64]:
    """
    @dev Closes `size` of `pos` at the fill and settles it (all of it
         when the rest would hold less than `min_margin`), unless the
         size or the acceptable price refuses it (returned, nothing
         changed).
    @return String The reason it was refused, empty if not.
    """
    if size == 0:
        return "perp: zero size"
    if size > pos.size:
        return "perp: size above position"
    # A remainder holding less than the minimum margin would be dust no
    # one could close at a profit or liquidate for a reward: close it all.
    if pos.margin - pos.margin * size // pos.size < p.min_margin:
        size = pos.size
    fill: uint256 = perp_math._fill(mark, not pos.is_long, size, self._skew(), p.base_spread_bps, p.skew_scale)
    if acceptable_price != 0 and (
        (pos.is_long and fill < acceptable_price) or (not pos.is_long and fill > acceptable_price)
    ):
        return "perp: price not acceptable"

    word_b: uint256 = self._pos_b[id]
    reservation: uint256 = (word_b >> 64) & _MASK_72
    margin_part: uint256 = pos.margin
    reservation_part: uint256 = reservation
    if size != pos.size:
        margin_part = pos.margin * size // pos.size
        reservation_part = reservation * size // pos.size
    price_pnl: int256 = perp_math._pnl(pos.is_long, size, pos.entry_price, fill)
    funding: int256 = perp_math._funding_owed(pos.is_long, size, accrued - pos.funding_entry)
    fee: uint256 = math._mul_div(size, fill * p.close_fee_bps, _FEE_SCALE, True)
    value: int256 = convert(margin_part, int256) + price_pnl - funding - convert(fee, int256)
    payout: uint256 = 0
    if value > 0:
        payout = min(convert(value, uint256), margin_part + reservation_part)

    self._reduce_oi(pos, size)
    if size == pos.size:
        self._delete(id)
    else:
        self._pos_a[id] = convert(pos.owner, uint256) | ((pos.size - size) << 160)
        self._pos_b[id] = (word_b & ~(_MASK_64 | (_MASK_72 << 64))) | (pos.margin - margin_part) | (
            (reservation - reservation_part) << 64
        )

    if payout <= margin_part:
        self._send(pos.owner, payout)
        self._to_vault(margin_part - payout)
        if reservation_part != 0:
            extcall vault.release(reservation_part)
    else:
        self._send(pos.owner, margin_part)
        if reservation_part != 0:
            extcall vault.release(reservation_part)
        extcall vault.pay(pos.owner, payout - margin_part)
    log PositionClosed(id=id, size=size, price=fill, pnl=price_pnl, funding=funding, fee=fee, payout=payout)
    return ""


@internal
@view
def _equity(pos: Position, mark: uint256, accrued: int256, p: Parameters) -> (int256, uint256):
    """
    @dev Returns a position's equity at `mark` and its notional there.
    @return int256 margin + pnl - funding - close fee, USDC.
    @return uint256 n(s, mark), USDC, floored.
    """
    fee: uint256 = math._mul_div(pos.size, mark * p.close_fee_bps, _FEE_SCALE, True)
    value: int256 = (
        convert(pos.margin, int256)
        + perp_math._pnl(pos.is_long, pos.size, pos.entry_price, mark)
        - perp_math._funding_owed(pos.is_long, pos.size, accrued - pos.funding_entry)
        - convert(fee, int256)
    )
    return (value, perp_math._notional(pos.size, mark, False))


@internal
@pure
def _healthy(equity: int256, notional: uint256, p: Parameters) -> bool:
    """
    @dev Returns whether equity >= n / (2 L), exactly: equity * 2 * L >=
         n * WAD.
    @return bool Whether the position is above the maintenance margin.
    """
    if equity < 0:
        return False
    return convert(equity, uint256) * 2 * p.max_leverage >= notional * _WAD


@internal
@view
def _input_problem(margin: uint256, leverage: uint256, p: Parameters) -> String[64]:
    """
    @dev Returns what is wrong with an open's margin and leverage.
    @return String The reason, empty if nothing.
    """
    if leverage < _WAD or leverage > p.max_leverage:
        return "perp: leverage out of range"
    if margin < p.min_margin:
        return "perp: margin below minimum"
    if margin > _MASK_64:
        return "perp: margin too large"
    return ""


@internal
@pure
def _trigger_problem(is_long: bool, entry: uint256, take_profit: uint256, stop_loss: uint256) -> String[64]:
    """
    @dev Returns what is wrong with triggers against the entry price.
    @return String The reason, empty if nothing.
    """
    if take_profit > _MASK_64 or stop_loss > _MASK_64:
        return "perp: price too large"
    if take_profit != 0 and ((is_long and take_profit <= entry) or (not is_long and take_profit >= entry)):
        return "perp: take profit on the wrong side"
    if stop_loss != 0 and ((is_long and stop_loss >= entry) or (not is_long and stop_loss <= entry)):
        return "perp: stop loss on the wrong side"
    return ""


@internal
@view
def _check_closed(p: Parameters):
    """
    @dev Reverts unless the market is in the CLOSED state.
    """
    mark: uint256 = 0
    state: uint8 = 0
    mark, state = self._trade_price(p)
    assert state == STATE_CLOSED, "perp: market not closed"


@internal
@view
def _trade_price(p: Parameters) -> (uint256, uint8):
    """
    @dev Returns the price an action uses and the state, or reverts with
         the guard's reason (halted, stale, out of band, no price).
    @return uint256 8 decimals.
    @return uint8 `STATE_OPEN`, `STATE_CLOSED` or `STATE_DISCOVERY`.
    """
    answer: uint256 = 0
    status: uint8 = 0
    answer, status = price_guard._price()
    if status == price_guard.MARKET_OPEN:
        return (answer, STATE_OPEN)
    return self._closed_price(answer, p)


@internal
@view
def _mark() -> (uint256, uint8):
    """
    @dev `mark_price`, without reverting.
    """
    answer: uint256 = 0
    status: uint8 = 0
    problem: uint8 = 0
    answer, status, problem = price_guard._read()
    if problem == price_guard.PROBLEM_HALTED:
        return (0, STATE_HALTED)
    if problem != price_guard.PROBLEM_NONE:
        return (answer, STATE_NO_PRICE)
    if status == price_guard.MARKET_OPEN:
        return (answer, STATE_OPEN)
    return self._closed_price(answer, self._params())


@internal
@view
def _closed_price(answer: uint256, p: Parameters) -> (uint256, uint8):
    """
    @dev Returns the price of a closed market: the close C in token terms
         (CLOSED policy), or the answer clamped to C +- C / L (DISCOVERY).
         Without a recorded close, C is the answer.
    @return uint256 8 decimals.
    @return uint8 `STATE_CLOSED` or `STATE_DISCOVERY`.
    """
    feed: IPriceFeed = price_guard.price_feed
    close: uint256 = staticcall feed.last_close()
    if close == 0:
        close = answer
    else:
        close = close * staticcall IMultiplierHistory(token).uiMultiplierAt(staticcall feed.status_since()) // _WAD
    if p.closed_policy == POLICY_CLOSED:
        return (close, STATE_CLOSED)
    band: uint256 = math._mul_div(close, _WAD, p.max_leverage, False)
    return (min(max(answer, close - band), close + band), STATE_DISCOVERY)


@internal
def _update_funding(price: uint256, p: Parameters) -> int256:
    """
    @dev Accrues funding up to now at `price` and stores the new rate
         (Synthetix v3, see `perp_math`).
    @return int256 F now.
    """
    word: uint256 = self._funding_word
    elapsed: uint256 = block.timestamp - (word >> 128)
    last_rate: int256 = convert(word & _MASK_128, int256) - _OFFSET
    acc_word: uint256 = self._accrued_word
    accrued: int256 = convert(acc_word & _MASK_128, int256) - _OFFSET
    skew: int256 = self._skew()
    if elapsed == 0:
        return accrued
    rate: int256 = perp_math._current_rate(
        last_rate, perp_math._velocity(skew, p.skew_scale, p.max_funding_velocity), elapsed
    )
    carry: int256 = 0
    accrued, carry = perp_math._accrue(
        accrued, convert(acc_word >> 128, int256) - _OFFSET, last_rate, rate, elapsed, price
    )
    self._funding_word = convert(rate + _OFFSET, uint256) | (block.timestamp << 128)
    self._accrued_word = convert(accrued + _OFFSET, uint256) | (convert(carry + _OFFSET, uint256) << 128)
    log FundingUpdated(rate=rate, accrued=accrued, skew=skew)
    return accrued


@internal
@view
def _funding_now(price: uint256, p: Parameters) -> (int256, int256):
    """
    @dev Returns the rate and F an update at `price` would store now.
    @return int256 The rate, WAD per day.
    @return int256 F, USDC per whole token.
    """
    word: uint256 = self._funding_word
    elapsed: uint256 = block.timestamp - (word >> 128)
    last_rate: int256 = convert(word & _MASK_128, int256) - _OFFSET
    acc_word: uint256 = self._accrued_word
    accrued: int256 = convert(acc_word & _MASK_128, int256) - _OFFSET
    rate: int256 = perp_math._current_rate(
        last_rate, perp_math._velocity(self._skew(), p.skew_scale, p.max_funding_velocity), elapsed
    )
    carry: int256 = 0
    accrued, carry = perp_math._accrue(
        accrued, convert(acc_word >> 128, int256) - _OFFSET, last_rate, rate, elapsed, price
    )
    return (rate, accrued)


@internal
@view
def _skew() -> int256:
    """
    @dev Returns k = long size - short size.
    """
    word: uint256 = self._oi_size
    return convert(word & _MASK_128, int256) - convert(word >> 128, int256)


@internal
def _reduce_oi(pos: Position, size: uint256):
    """
    @dev Takes `size` of `pos` out of the open interest; the notional at
         entry falls by n(s, e) - n(s - size, e), so the parts of a
         position add up to its whole.
    """
    usd_part: uint256 = perp_math._notional(pos.size, pos.entry_price, False) - perp_math._notional(
        pos.size - size, pos.entry_price, False
    )
    if pos.is_long:
        self._oi_size -= size
        self._oi_usd -= usd_part
    else:
        self._oi_size -= size << 128
        self._oi_usd -= usd_part << 128


@internal
@view
def _load(id: uint256) -> Position:
    """
    @dev Unpacks a position's three words.
    """
    a: uint256 = self._pos_a[id]
    b: uint256 = self._pos_b[id]
    c: uint256 = self._pos_c[id]
    funding_entry: int256 = 0
    if c != 0:
        funding_entry = convert(c >> 128, int256) - _OFFSET
    return Position(
        owner=convert(a & _MASK_160, address),
        is_long=(b >> 240) & 1 == 1,
        size=a >> 160,
        entry_price=(b >> 136) & _MASK_64,
        margin=b & _MASK_64,
        funding_entry=funding_entry,
        take_profit=c & _MASK_64,
        stop_loss=(c >> 64) & _MASK_64,
        opened_at=(b >> 200) & _MASK_40,
    )


@internal
def _delete(id: uint256):
    """
    @dev Clears a position's three words.
    """
    self._pos_a[id] = 0
    self._pos_b[id] = 0
    self._pos_c[id] = 0


@internal
@view
def _params() -> Parameters:
    """
    @dev Unpacks the parameters' three words.
    """
    a: uint256 = self._params_a
    b: uint256 = self._params_b
    c: uint256 = self._params_c
    return Parameters(
        max_leverage=a & _MASK_72,
        open_fee_bps=(a >> 72) & _MASK_16,
        close_fee_bps=(a >> 88) & _MASK_16,
        base_spread_bps=(a >> 104) & _MASK_16,
        skew_scale=b & _MASK_128,
        max_funding_velocity=b >> 128,
        max_oi_long=c & _MASK_128,
        max_oi_short=c >> 128,
        max_profit_multiple=(a >> 144) & _MASK_72,
        liquidation_fee_bps=(a >> 120) & _MASK_16,
        min_margin=a >> 216,
        closed_policy=convert((a >> 136) & _MASK_8, uint8),
    )


@internal
def _set_parameters(p: Parameters):
    """
    @dev Validates and stores the parameters.
    """
    assert p.max_leverage >= _WAD and p.max_leverage <= MAX_LEVERAGE_CAP, "perp: max leverage out of range"
    assert p.open_fee_bps <= MAX_FEE_BPS and p.close_fee_bps <= MAX_FEE_BPS, "perp: fee too large"
    assert p.base_spread_bps <= MAX_SPREAD_BPS, "perp: spread too large"
    assert p.skew_scale != 0 and p.skew_scale <= _MASK_128, "perp: skew scale out of range"
    assert p.max_funding_velocity <= _WAD, "perp: funding velocity too large"
    assert p.max_oi_long <= _MASK_128 and p.max_oi_short <= _MASK_128, "perp: open interest cap too large"
    assert p.max_profit_multiple != 0 and p.max_profit_multiple <= MAX_PROFIT_MULTIPLE_CAP, (
        "perp: profit multiple out of range"
    )
    assert p.liquidation_fee_bps <= MAX_LIQUIDATION_FEE_BPS, "perp: liquidation fee too large"
    assert p.min_margin != 0 and p.min_margin <= _MASK_40, "perp: min margin out of range"
    assert p.closed_policy == POLICY_CLOSED or p.closed_policy == POLICY_DISCOVERY, "perp: unknown closed policy"
    self._params_a = (
        p.max_leverage
        | (p.open_fee_bps << 72)
        | (p.close_fee_bps << 88)
        | (p.base_spread_bps << 104)
        | (p.liquidation_fee_bps << 120)
        | (convert(p.closed_policy, uint256) << 136)
        | (p.max_profit_multiple << 144)
        | (p.min_margin << 216)
    )
    self._params_b = p.skew_scale | (p.max_funding_velocity << 128)
    self._params_c = p.max_oi_long | (p.max_oi_short << 128)
    log ParametersSet(
        max_leverage=p.max_leverage,
        open_fee_bps=p.open_fee_bps,
        close_fee_bps=p.close_fee_bps,
        base_spread_bps=p.base_spread_bps,
        skew_scale=p.skew_scale,
        max_funding_velocity=p.max_funding_velocity,
        max_oi_long=p.max_oi_long,
        max_oi_short=p.max_oi_short,
        max_profit_multiple=p.max_profit_multiple,
        liquidation_fee_bps=p.liquidation_fee_bps,
        min_margin=p.min_margin,
        closed_policy=p.closed_policy,
    )


@internal
def _pull(owner: address, amount: uint256):
    """
    @dev Takes `amount` USDC from `owner` (approved).
    """
    assert extcall usdc.transferFrom(owner, self, amount, default_return_value=True), "perp: transfer failed"


@internal
def _send(to: address, amount: uint256):
    """
    @dev Sends `amount` USDC to `to`, if any.
    """
    if amount != 0:
        assert extcall usdc.transfer(to, amount, default_return_value=True), "perp: transfer failed"


@internal
def _to_vault(amount: uint256):
    """
    @dev Sends `amount` USDC to the vault, if any.
    """
    self._send(vault.address, amount)
