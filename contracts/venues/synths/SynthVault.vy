# pragma version ~=0.4.3
"""
@title Collateralised debt positions minting one synthetic stock
@custom:contract-name SynthVault
@license GNU Affero General Public License v3.0 or later
@notice One vault per synthetic (Synthetix / Mirror model): a position
        locks USDC and owes synthetic tokens (`Synth`) it minted, worth
        the stock token's price; the vault is the synthetic's only
        minter. The price is the token's guarded `PriceFeed` answer
        (`price_guard`), the token price, so a split moves nothing.
        - positions: `open_position`, `deposit`, `withdraw`, `mint`,
          `burn`, `close_position`, `close_many`, `liquidate`;
        - views: `position`, `next_position_id`, `collateral_ratio`,
          `is_liquidatable`, `max_mint`, `price`, `total_collateral`,
          `total_debt`, `bad_debt`, `min_collateral_ratio`,
          `liquidation_penalty`, `guard_limits`, `price_feed`,
          `usdc`, `synth`, `token`, `value_scale`;
        - the owner: `set_risk`, `set_guard_limits`,
          `transfer_ownership`, `renounce_ownership`.
        Every action but `deposit` is suspended unless the stock's
        market is open and the price at most `max_age` seconds old
        (Synthetix's market-closure suspension, Mirror's 60 s expiry):
        "synth: market closed" or the guard's reason. A position
        without debt needs no price: it withdraws or closes in every
        state.

        Glossary:
        - C, D     a position's collateral (USDC, 6 decimals) and debt
                   (synthetic, 18 decimals);
        - p        the feed's answer, the token price (8 decimals);
        - S        `value_scale` = 10**(18 + 8 - 6): D * p / S is the
                   debt's value in USDC;
        - m        `min_collateral_ratio`, WAD (default 1.5);
        - q        `liquidation_penalty`, WAD (default 0.1);
        - CR       C * S * WAD / (D * p), WAD; max_value(uint256)
                   without debt.
        Invariants:
        - a position is healthy iff C * S * WAD >= m * D * p (compared
          exactly, without division); open, mint and withdraw leave
          their position healthy; deposit and burn only raise CR;
        - sum of C == `total_collateral` <= the vault's USDC balance;
          sum of D == `total_debt`; the synthetic's totalSupply ==
          `total_debt` + `bad_debt`. Balances are never read for
          accounting: a donation changes nothing;
        - a liquidation of x pays the liquidator
          min(C, floor(x * p * (WAD + q) / (S * WAD))) USDC for x
          synthetic burnt; debt left without collateral moves to
          `bad_debt`.
@custom:security State is written before tokens move and every action
                 is `nonreentrant`. The vault burns synthetics only
                 from the account that calls it. A duplicate id in
                 `close_many` finds its position already closed and
                 reverts the whole call.
"""


from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

from ...interfaces import IPriceFeed

from snekmate.auth import ownable
initializes: ownable

from snekmate.utils import math

from ...oracle import price_guard
initializes: price_guard

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
    price_guard.price_feed,
    price_guard.guard_limits,
)


interface ISynth:
    def mint(owner: address, amount: uint256): nonpayable
    def burn_from(owner: address, amount: uint256): nonpayable


struct Position:
    owner: address
    collateral: uint256
    debt: uint256


STATE_OPEN: public(constant(uint8)) = 1
STATE_CLOSED: public(constant(uint8)) = 2
STATE_HALTED: public(constant(uint8)) = 3
STATE_NO_PRICE: public(constant(uint8)) = 4

WAD: constant(uint256) = 10**18
DEFAULT_MIN_COLLATERAL_RATIO: public(constant(uint256)) = 15 * 10**17
DEFAULT_LIQUIDATION_PENALTY: public(constant(uint256)) = 10**17
# @dev The widest risk settings the owner may choose.
MAX_MIN_COLLATERAL_RATIO: public(constant(uint256)) = 10 * 10**18
MAX_LIQUIDATION_PENALTY: public(constant(uint256)) = 5 * 10**17
MAX_CLOSE_MANY: constant(uint256) = 32


# @dev The collateral, the synthetic and the stock token it tracks.
usdc: public(immutable(address))
synth: public(immutable(address))
token: public(immutable(address))

# @dev S in the glossary: 10**(synth decimals + feed decimals - USDC
# decimals).
value_scale: public(immutable(uint256))

min_collateral_ratio: public(uint256)
liquidation_penalty: public(uint256)

total_collateral: public(uint256)
total_debt: public(uint256)
bad_debt: public(uint256)
next_position_id: public(uint256)

_positions: HashMap[uint256, Position]


event PositionOpened:
    id: indexed(uint256)
    owner: indexed(address)
    collateral: uint256
    debt: uint256
    price: uint256


event Deposited:
    id: indexed(uint256)
    payer: indexed(address)
    amount: uint256


event Withdrawn:
    id: indexed(uint256)
    amount: uint256


event Minted:
    id: indexed(uint256)
    amount: uint256
    price: uint256


event Burned:
    id: indexed(uint256)
    payer: indexed(address)
    amount: uint256


event PositionClosed:
    id: indexed(uint256)
    owner: indexed(address)
    collateral: uint256
    debt: uint256


event Liquidated:
    id: indexed(uint256)
    liquidator: indexed(address)
    amount: uint256
    seized: uint256
    written_off: uint256
    price: uint256


event RiskSet:
    min_collateral_ratio: uint256
    liquidation_penalty: uint256


@deploy
def __init__(
    usdc_: address,
    synth_: address,
    price_feed: IPriceFeed,
    token_: address,
    max_age: uint256,
    min_answer: uint256,
    max_answer: uint256,
):
    """
    @dev Deploys the vault of `synth_` over `price_feed`, owned by the
         deployer, with the default risk settings. The deployer then
         makes the vault the synthetic's minter.
    @param usdc_ The collateral, USDC (6 decimals).
    @param synth_ The synthetic (`Synth`, 18 decimals).
    @param price_feed The `PriceFeed` of `token_`, deployed on this
           chain.
    @param token_ The stock token the synthetic tracks.
    @param max_age The oldest accepted observation, seconds (60).
    @param min_answer The lowest accepted answer, the feed's decimals.
    @param max_answer The highest accepted answer.
    """
    assert usdc_ != empty(address) and synth_ != empty(address), "synth: zero address"
    assert price_feed.address.is_contract, "synth: feed not deployed here"
    assert token_.is_contract, "synth: token not deployed here"
    assert staticcall price_feed.token() == token_, "synth: feed prices another asset"
    ownable.__init__()
    price_guard.__init__(price_feed, max_age, min_answer, max_answer)
    usdc = usdc_
    synth = synth_
    token = token_
    digits: uint256 = convert(staticcall IERC20Detailed(synth_).decimals(), uint256) + convert(
        staticcall price_feed.decimals(), uint256
    )
    usdc_digits: uint256 = convert(staticcall IERC20Detailed(usdc_).decimals(), uint256)
    assert digits >= usdc_digits, "synth: decimals too small"
    value_scale = 10 ** (digits - usdc_digits)
    self.next_position_id = 1
    self._set_risk(DEFAULT_MIN_COLLATERAL_RATIO, DEFAULT_LIQUIDATION_PENALTY)


# ---------------------------------------------------------------- governance


@external
def set_risk(min_collateral_ratio_: uint256, liquidation_penalty_: uint256):
    """
    @dev Sets the minimum collateral ratio and the liquidation penalty.
         Owner only.
    @param min_collateral_ratio_ WAD, above 1e18 + the penalty and at
           most `MAX_MIN_COLLATERAL_RATIO`.
    @param liquidation_penalty_ WAD, at most `MAX_LIQUIDATION_PENALTY`.
    """
    ownable._check_owner()
    self._set_risk(min_collateral_ratio_, liquidation_penalty_)


@external
def set_guard_limits(max_age: uint256, min_answer: uint256, max_answer: uint256):
    """
    @dev Sets the price guard's limits. Owner only.
    @param max_age The oldest accepted observation, seconds.
    @param min_answer The lowest accepted answer.
    @param max_answer The highest accepted answer.
    """
    ownable._check_owner()
    price_guard._set_limits(max_age, min_answer, max_answer)


# ---------------------------------------------------------------- positions


@external
@nonreentrant
def open_position(collateral: uint256, amount: uint256) -> uint256:
    """
    @dev Opens a position of the caller: pulls `collateral` USDC and
         mints `amount` synthetic to the caller. Needs an open market
         and leaves the position at or above the minimum ratio.
    @param collateral USDC, more than 0.
    @param amount Synthetic to mint, 18 decimals (0: none yet).
    @return uint256 The position's id.
    """
    assert collateral != 0, "synth: zero amount"
    price: uint256 = self._open_price()
    assert self._healthy(collateral, amount, price), "synth: below minimum collateral ratio"
    id: uint256 = self.next_position_id
    self.next_position_id = id + 1
    self._positions[id] = Position(owner=msg.sender, collateral=collateral, debt=amount)
    self.total_collateral += collateral
    self.total_debt += amount
    log PositionOpened(id=id, owner=msg.sender, collateral=collateral, debt=amount, price=price)
    self._pull(collateral)
    if amount != 0:
        extcall ISynth(synth).mint(msg.sender, amount)
    return id


@external
@nonreentrant
def deposit(id: uint256, amount: uint256):
    """
    @dev Adds `amount` USDC from the caller to position `id`. Anyone may,
         in every market state.
    @param id The position, open.
    @param amount USDC, more than 0.
    """
    assert amount != 0, "synth: zero amount"
    position: Position = self._live(id)
    position.collateral += amount
    self._positions[id] = position
    self.total_collateral += amount
    log Deposited(id=id, payer=msg.sender, amount=amount)
    self._pull(amount)


@external
@nonreentrant
def withdraw(id: uint256, amount: uint256):
    """
    @dev Sends `amount` of the position's collateral to its owner. With
         debt, needs an open market and leaves the position at or above
         the minimum ratio. Owner only.
    @param id The position, open.
    @param amount USDC, more than 0, at most the collateral.
    """
    assert amount != 0, "synth: zero amount"
    position: Position = self._owned(id)
    assert amount <= position.collateral, "synth: amount exceeds collateral"
    position.collateral -= amount
    if position.debt != 0:
        assert self._healthy(position.collateral, position.debt, self._open_price()), (
            "synth: below minimum collateral ratio"
        )
    self._positions[id] = position
    self.total_collateral -= amount
    log Withdrawn(id=id, amount=amount)
    self._send(msg.sender, amount)


@external
@nonreentrant
def mint(id: uint256, amount: uint256):
    """
    @dev Mints `amount` synthetic to the owner against the position.
         Needs an open market and leaves the position at or above the
         minimum ratio. Owner only.
    @param id The position, open.
    @param amount Synthetic, more than 0.
    """
    assert amount != 0, "synth: zero amount"
    position: Position = self._owned(id)
    price: uint256 = self._open_price()
    position.debt += amount
    assert self._healthy(position.collateral, position.debt, price), "synth: below minimum collateral ratio"
    self._positions[id] = position
    self.total_debt += amount
    log Minted(id=id, amount=amount, price=price)
    extcall ISynth(synth).mint(msg.sender, amount)


@external
@nonreentrant
def burn(id: uint256, amount: uint256):
    """
    @dev Burns `amount` synthetic of the caller against the position's
         debt. Anyone may; needs an open market.
    @param id The position, open.
    @param amount Synthetic, more than 0, at most the debt.
    """
    assert amount != 0, "synth: zero amount"
    position: Position = self._live(id)
    assert amount <= position.debt, "synth: amount exceeds debt"
    self._open_price()
    position.debt -= amount
    self._positions[id] = position
    self.total_debt -= amount
    log Burned(id=id, payer=msg.sender, amount=amount)
    extcall ISynth(synth).burn_from(msg.sender, amount)


@external
@nonreentrant
def close_position(id: uint256):
    """
    @dev Burns the position's whole debt from the owner and returns all
         its collateral. With debt, needs an open market. Owner only.
    @param id The position, open.
    """
    position: Position = self._owned(id)
    if position.debt != 0:
        self._open_price()
    self._close(id, position)


@external
@nonreentrant
def close_many(ids: DynArray[uint256, MAX_CLOSE_MANY]):
    """
    @dev Closes every position in `ids` as `close_position` would; a
         position named twice is closed by then, and the whole call
         reverts ("synth: position closed"). Owner of every one only.
    @param ids The positions, at least one, at most 32.
    """
    assert len(ids) != 0, "synth: no positions"
    checked: bool = False
    for id: uint256 in ids:
        position: Position = self._owned(id)
        if position.debt != 0 and not checked:
            self._open_price()
            checked = True
        self._close(id, position)


@external
@nonreentrant
def liquidate(id: uint256, amount: uint256) -> uint256:
    """
    @dev Burns `amount` synthetic of the caller against the debt of a
         position below the minimum ratio and pays the caller its value
         plus the penalty in collateral, at most all of it. Debt left
         without collateral is written off into `bad_debt`. Anyone may;
         needs an open market.
    @param id The position, open.
    @param amount Synthetic, more than 0, at most the debt.
    @return uint256 The USDC seized.
    """
    assert amount != 0, "synth: zero amount"
    position: Position = self._live(id)
    assert amount <= position.debt, "synth: amount exceeds debt"
    price: uint256 = self._open_price()
    assert not self._healthy(position.collateral, position.debt, price), "synth: position healthy"
    seized: uint256 = min(
        math._mul_div(amount * price, WAD + self.liquidation_penalty, value_scale * WAD, False),
        position.collateral,
    )
    position.collateral -= seized
    position.debt -= amount
    written_off: uint256 = 0
    if position.collateral == 0:
        written_off = position.debt
        position.debt = 0
    self._positions[id] = position
    self.total_collateral -= seized
    self.total_debt -= amount + written_off
    self.bad_debt += written_off
    log Liquidated(
        id=id, liquidator=msg.sender, amount=amount, seized=seized, written_off=written_off, price=price
    )
    extcall ISynth(synth).burn_from(msg.sender, amount)
    if seized != 0:
        self._send(msg.sender, seized)
    return seized


# ---------------------------------------------------------------- views


@external
@view
def position(id: uint256) -> Position:
    """
    @dev Returns the position `id` (all zero if closed or never opened).
    @param id The position.
    @return Position Its owner, collateral (USDC) and debt (synthetic).
    """
    return self._positions[id]


@external
@view
def price() -> (uint256, uint8):
    """
    @dev Returns the feed's answer and what the vault allows now.
    @return uint256 The token price, 8 decimals (0 if halted or no
            round).
    @return uint8 `STATE_OPEN` (every action), `STATE_CLOSED`,
            `STATE_HALTED` or `STATE_NO_PRICE` (stale, out of band or no
            round): only deposits and debt-free withdrawals.
    """
    answer: uint256 = 0
    status: uint8 = 0
    problem: uint8 = 0
    answer, status, problem = price_guard._read()
    if problem == price_guard.PROBLEM_HALTED:
        return (answer, STATE_HALTED)
    if problem != price_guard.PROBLEM_NONE:
        return (answer, STATE_NO_PRICE)
    if status == price_guard.MARKET_CLOSED:
        return (answer, STATE_CLOSED)
    return (answer, STATE_OPEN)


@external
@view
def collateral_ratio(id: uint256) -> uint256:
    """
    @dev Returns the position's CR at the feed's latest answer, rounded
         down; reverts with the guard's reason if there is no answer
         (halted or no round).
    @param id The position.
    @return uint256 CR, WAD; max_value(uint256) without debt.
    """
    position: Position = self._positions[id]
    if position.debt == 0:
        return max_value(uint256)
    return math._mul_div(position.collateral * value_scale, WAD, position.debt * self._latest_price(), False)


@external
@view
def is_liquidatable(id: uint256) -> bool:
    """
    @dev Returns whether `liquidate` accepts the position now: the
         market open, the price fresh and the position below the
         minimum ratio.
    @param id The position.
    @return bool True if it may be liquidated now.
    """
    position: Position = self._positions[id]
    if position.debt == 0:
        return False
    answer: uint256 = 0
    status: uint8 = 0
    problem: uint8 = 0
    answer, status, problem = price_guard._read()
    if problem != price_guard.PROBLEM_NONE or status != price_guard.MARKET_OPEN:
        return False
    return not self._healthy(position.collateral, position.debt, answer)


@external
@view
def max_mint(id: uint256) -> uint256:
    """
    @dev Returns how much more synthetic the position may mint now; 0
         unless the market is open with a fresh price.
    @param id The position.
    @return uint256 Synthetic, 18 decimals.
    """
    position: Position = self._positions[id]
    answer: uint256 = 0
    status: uint8 = 0
    problem: uint8 = 0
    answer, status, problem = price_guard._read()
    if position.owner == empty(address) or problem != price_guard.PROBLEM_NONE or status != price_guard.MARKET_OPEN:
        return 0
    most: uint256 = math._mul_div(position.collateral * value_scale, WAD, self.min_collateral_ratio * answer, False)
    if most <= position.debt:
        return 0
    return most - position.debt


# ---------------------------------------------------------------- internals


@internal
@view
def _open_price() -> uint256:
    """
    @dev Returns the guarded price, or reverts unless the market is open
         and the price fresh and in band.
    @return uint256 p, 8 decimals.
    """
    answer: uint256 = 0
    status: uint8 = 0
    answer, status = price_guard._price()
    assert status == price_guard.MARKET_OPEN, "synth: market closed"
    return answer


@internal
@view
def _latest_price() -> uint256:
    """
    @dev Returns the feed's latest answer for valuing positions, stale
         or closed included; reverts with the guard's reason if halted
         or without a round.
    @return uint256 p, 8 decimals.
    """
    answer: uint256 = 0
    status: uint8 = 0
    problem: uint8 = 0
    answer, status, problem = price_guard._read()
    if answer == 0:
        price_guard._price()
    return answer


@internal
@view
def _healthy(collateral: uint256, debt: uint256, price: uint256) -> bool:
    """
    @dev Returns C * S * WAD >= m * D * p, compared exactly.
    """
    return collateral * value_scale * WAD >= self.min_collateral_ratio * debt * price


@internal
@view
def _live(id: uint256) -> Position:
    """
    @dev Returns the open position `id`, or reverts.
    """
    assert id != 0 and id < self.next_position_id, "synth: no such position"
    position: Position = self._positions[id]
    assert position.owner != empty(address), "synth: position closed"
    return position


@internal
@view
def _owned(id: uint256) -> Position:
    """
    @dev Returns the open position `id` of the caller, or reverts.
    """
    position: Position = self._live(id)
    assert position.owner == msg.sender, "synth: not the owner"
    return position


@internal
def _close(id: uint256, position: Position):
    """
    @dev Deletes the position, burns its debt from the caller and sends
         the caller its collateral; the caller checked the price.
    """
    self._positions[id] = empty(Position)
    self.total_collateral -= position.collateral
    self.total_debt -= position.debt
    log PositionClosed(id=id, owner=position.owner, collateral=position.collateral, debt=position.debt)
    if position.debt != 0:
        extcall ISynth(synth).burn_from(msg.sender, position.debt)
    if position.collateral != 0:
        self._send(msg.sender, position.collateral)


@internal
def _set_risk(min_collateral_ratio_: uint256, liquidation_penalty_: uint256):
    """
    @dev Validates and stores the risk settings; the caller checks access.
    """
    assert liquidation_penalty_ <= MAX_LIQUIDATION_PENALTY, "synth: penalty too large"
    assert min_collateral_ratio_ > WAD + liquidation_penalty_, "synth: ratio below 1 + penalty"
    assert min_collateral_ratio_ <= MAX_MIN_COLLATERAL_RATIO, "synth: ratio too large"
    self.min_collateral_ratio = min_collateral_ratio_
    self.liquidation_penalty = liquidation_penalty_
    log RiskSet(min_collateral_ratio=min_collateral_ratio_, liquidation_penalty=liquidation_penalty_)


@internal
def _pull(amount: uint256):
    """
    @dev Takes `amount` USDC from the caller.
    """
    assert extcall IERC20(usdc).transferFrom(msg.sender, self, amount, default_return_value=True), (
        "synth: transfer failed"
    )


@internal
def _send(to: address, amount: uint256):
    """
    @dev Pays `amount` USDC to `to`.
    """
    assert extcall IERC20(usdc).transfer(to, amount, default_return_value=True), "synth: transfer failed"
