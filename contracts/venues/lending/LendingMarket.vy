# pragma version ~=0.4.3
"""
@title Isolated lending markets against stock tokens
@custom:contract-name LendingMarket
@license GNU Affero General Public License v3.0 or later
@notice One contract holds every market, after Morpho Blue's design: a
        market is the immutable tuple (loan token, collateral token,
        oracle, rate model, LLTV), its ID the hash of that tuple. In a
        market, lenders supply the loan asset for shares, borrowers
        deposit collateral and borrow against it up to the LLTV, and
        anyone liquidates a position once it is unhealthy.
        - markets: `create_market` (an enabled rate model and LLTV),
          `market`, `expected_market`, `position`, `id_to_market_params`,
          `market_id`;
        - lending: `supply`, `withdraw`, `borrow`, `repay`,
          `supply_collateral`, `withdraw_collateral`, `liquidate`,
          `accrue_interest`;
        - delegation: `set_authorization`, `is_authorized`;
        - governance (the owner): `enable_irm`, `enable_lltv`,
          `set_fee`, `set_fee_recipient`, `transfer_ownership`.
        Where stocks differ from crypto, the market asks its oracle (a
        `StockOracle`): `quote(action)` reverts while the stock's market
        is halted or its price is stale, holds liquidations during the
        reopening grace, holds borrows while the token's reserves are
        short, and returns an LTV cut for borrows and withdrawals while
        the market is closed.

        Glossary:
        - A_s, S_s   total supply assets and shares of a market;
        - A_b, S_b   total borrow assets and shares;
        - V_S, V_A   virtual shares (1e6) and assets (1): shares convert
                     to assets at (A + V_A) / (S + V_S), so the first
                     depositor cannot inflate the share price;
        - P          the oracle price: raw loan units per raw collateral
                     unit, times 1e36;
        - c, b       a position's collateral and borrow shares;
        - debt       b converted to assets, rounded up;
        - lltv       liquidation LTV, WAD; cut the oracle's LTV cut;
        - LIF        liquidation incentive factor,
                     min(1.15, 1 / (1 - 0.3 * (1 - lltv))).
        Invariants:
        - solvency: the market's loan-token balance >= sum over markets
          of A_s - A_b (interest accrues to both sides at once);
        - a position is healthy iff debt <= c * P / 1e36 * lltv; a
          borrow or collateral withdrawal leaves it healthy at
          lltv - cut; only a price move or accrued interest makes it
          unhealthy;
        - a liquidation that leaves both c and b positive does not raise
          the position's LTV (b / c does not grow);
        - bad debt is written off only when c reaches zero: A_b and A_s
          fall by the same amount, lenders bear it pro rata.
        Storage: a market's totals take three words
          (A_s | S_s << 128), (A_b | S_b << 128), (last_update | fee << 128)
        and a position two: the supply shares, and (b | c << 128).
@custom:security Tokens move after the state is written, and every
                 function that moves tokens is `nonreentrant`. Transfers
                 of the collateral run the stock token's own rules: a
                 `permissioned` token accepts collateral only if this
                 contract is a registered wallet; a liquidator must be a
                 wallet the token may pay. Withdrawing someone's
                 collateral to another receiver also asks the token
                 whether the owner may pay that receiver, so a
                 sanctioned or frozen borrower cannot move collateral
                 through a delegate.
"""


from ethereum.ercs import IERC20

from ...interfaces import ILendingOracle
from ...interfaces import IRateModel

from snekmate.auth import ownable
initializes: ownable

from snekmate.utils import math

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)


interface IStockToken:
    def can_transfer_from(spender: address, sender: address, receiver: address, amount: uint256) -> (uint8, String[48]): view


struct MarketParams:
    loan_token: address
    collateral_token: address
    oracle: address
    irm: address
    lltv: uint256


struct Totals:
    total_supply_assets: uint256
    total_supply_shares: uint256
    total_borrow_assets: uint256
    total_borrow_shares: uint256
    last_update: uint256
    fee: uint256


WAD: constant(uint256) = 10**18
ORACLE_PRICE_SCALE: public(constant(uint256)) = 10**36
VIRTUAL_SHARES: public(constant(uint256)) = 10**6
VIRTUAL_ASSETS: public(constant(uint256)) = 1
MAX_FEE: public(constant(uint256)) = 25 * 10**16
MAX_LIQUIDATION_INCENTIVE_FACTOR: public(constant(uint256)) = 115 * 10**16
LIQUIDATION_CURSOR: public(constant(uint256)) = 3 * 10**17

ACTION_BORROW: constant(uint8) = 1
ACTION_WITHDRAW_COLLATERAL: constant(uint8) = 2
ACTION_LIQUIDATE: constant(uint8) = 3

_MASK_128: constant(uint256) = (1 << 128) - 1


fee_recipient: public(address)
is_irm_enabled: public(HashMap[address, bool])
is_lltv_enabled: public(HashMap[uint256, bool])
is_authorized: public(HashMap[address, HashMap[address, bool]])

_params: HashMap[bytes32, MarketParams]
# @dev (A_s | S_s << 128), (A_b | S_b << 128), (last_update | fee << 128).
_supply_word: HashMap[bytes32, uint256]
_borrow_word: HashMap[bytes32, uint256]
_meta_word: HashMap[bytes32, uint256]
_supply_shares: HashMap[bytes32, HashMap[address, uint256]]
# @dev (borrow shares | collateral << 128).
_loan_word: HashMap[bytes32, HashMap[address, uint256]]


event CreateMarket:
    id: indexed(bytes32)
    loan_token: address
    collateral_token: address
    oracle: address
    irm: address
    lltv: uint256


event Supply:
    id: indexed(bytes32)
    caller: indexed(address)
    on_behalf: indexed(address)
    assets: uint256
    shares: uint256


event Withdraw:
    id: indexed(bytes32)
    caller: address
    on_behalf: indexed(address)
    receiver: indexed(address)
    assets: uint256
    shares: uint256


event Borrow:
    id: indexed(bytes32)
    caller: address
    on_behalf: indexed(address)
    receiver: indexed(address)
    assets: uint256
    shares: uint256


event Repay:
    id: indexed(bytes32)
    caller: indexed(address)
    on_behalf: indexed(address)
    assets: uint256
    shares: uint256


event SupplyCollateral:
    id: indexed(bytes32)
    caller: indexed(address)
    on_behalf: indexed(address)
    assets: uint256


event WithdrawCollateral:
    id: indexed(bytes32)
    caller: address
    on_behalf: indexed(address)
    receiver: indexed(address)
    assets: uint256


event Liquidate:
    id: indexed(bytes32)
    caller: indexed(address)
    borrower: indexed(address)
    repaid_assets: uint256
    repaid_shares: uint256
    seized_assets: uint256
    bad_debt_assets: uint256
    bad_debt_shares: uint256


event AccrueInterest:
    id: indexed(bytes32)
    prev_borrow_rate: uint256
    interest: uint256
    fee_shares: uint256


event SetAuthorization:
    caller: indexed(address)
    authorizer: indexed(address)
    authorized: indexed(address)
    new_is_authorized: bool


event EnableIrm:
    irm: indexed(address)


event EnableLltv:
    lltv: uint256


event SetFee:
    id: indexed(bytes32)
    new_fee: uint256


event SetFeeRecipient:
    new_fee_recipient: indexed(address)


@deploy
def __init__(owner_: address):
    """
    @dev Deploys the market contract with `owner_` as its governance.
    @param owner_ Who enables rate models and LLTVs and sets fees.
    """
    assert owner_ != empty(address), "lending: zero address"
    ownable.__init__()
    ownable._transfer_ownership(owner_)


# ---------------------------------------------------------------- governance


@external
def enable_irm(irm: address):
    """
    @dev Allows markets with the rate model `irm`. Owner only.
    @param irm The rate model (the zero address: no interest).
    """
    ownable._check_owner()
    assert not self.is_irm_enabled[irm], "lending: already set"
    self.is_irm_enabled[irm] = True
    log EnableIrm(irm=irm)


@external
def enable_lltv(lltv: uint256):
    """
    @dev Allows markets with the liquidation LTV `lltv`. Owner only.
    @param lltv WAD, below 1e18.
    """
    ownable._check_owner()
    assert not self.is_lltv_enabled[lltv], "lending: already set"
    assert lltv < WAD, "lending: max LLTV exceeded"
    self.is_lltv_enabled[lltv] = True
    log EnableLltv(lltv=lltv)


@external
def set_fee(params: MarketParams, new_fee: uint256):
    """
    @dev Sets the share of interest paid to `fee_recipient` in a market,
         after accruing interest at the old fee. Owner only.
    @param params The market, created.
    @param new_fee WAD, at most `MAX_FEE`.
    """
    ownable._check_owner()
    id: bytes32 = self._id(params)
    # Accruing a market that was never created would write its last
    # update and make it usable without `create_market`'s checks.
    m: Totals = self._created(id)
    assert m.fee != new_fee, "lending: already set"
    assert new_fee <= MAX_FEE, "lending: max fee exceeded"
    m = self._accrue(params, id, m)
    m.fee = new_fee
    self._store(id, m)
    log SetFee(id=id, new_fee=new_fee)


@external
def set_fee_recipient(new_fee_recipient: address):
    """
    @dev Sets who receives the fee's supply shares. Owner only.
    @param new_fee_recipient The new recipient.
    """
    ownable._check_owner()
    assert new_fee_recipient != self.fee_recipient, "lending: already set"
    self.fee_recipient = new_fee_recipient
    log SetFeeRecipient(new_fee_recipient=new_fee_recipient)


# ---------------------------------------------------------------- markets


@external
def create_market(params: MarketParams) -> bytes32:
    """
    @dev Creates the market `params` describes. Anyone may, with an
         enabled rate model and LLTV.
    @param params The market's immutable parameters.
    @return bytes32 The market's ID.
    """
    id: bytes32 = self._id(params)
    assert self.is_irm_enabled[params.irm], "lending: IRM not enabled"
    assert self.is_lltv_enabled[params.lltv], "lending: LLTV not enabled"
    assert params.loan_token != empty(address) and params.collateral_token != empty(address), "lending: zero address"
    assert params.oracle != empty(address), "lending: zero address"
    assert self._meta_word[id] == 0, "lending: market already created"
    self._meta_word[id] = block.timestamp
    self._params[id] = params
    log CreateMarket(
        id=id,
        loan_token=params.loan_token,
        collateral_token=params.collateral_token,
        oracle=params.oracle,
        irm=params.irm,
        lltv=params.lltv,
    )
    # Let a stateful rate model start its curve now.
    if params.irm != empty(address):
        extcall IRateModel(params.irm).borrow_rate(id, 0, 0, block.timestamp)
    return id


@external
@pure
def market_id(params: MarketParams) -> bytes32:
    """
    @dev Returns the ID of the market `params` describes.
    @param params The market's parameters.
    @return bytes32 keccak256 of their ABI encoding.
    """
    return self._id(params)


@external
@view
def id_to_market_params(id: bytes32) -> MarketParams:
    """
    @dev Returns the parameters of the market `id` (zero if none).
    @param id The market's ID.
    @return MarketParams Its parameters.
    """
    return self._params[id]


@external
@view
def market(id: bytes32) -> Totals:
    """
    @dev Returns the market's totals as last written.
    @param id The market's ID.
    @return Totals Supply and borrow assets and shares, the last accrual
            time (0: no such market) and the fee.
    """
    return self._load(id)


@external
@view
def expected_market(id: bytes32) -> Totals:
    """
    @dev Returns the market's totals with interest accrued up to now.
    @param id The market's ID.
    @return Totals As `market`, after the accrual a write would make.
    """
    m: Totals = self._load(id)
    elapsed: uint256 = block.timestamp - m.last_update
    irm: address = self._params[id].irm
    if elapsed == 0 or m.last_update == 0 or irm == empty(address):
        return m
    rate: uint256 = staticcall IRateModel(irm).borrow_rate_view(
        self, id, m.total_supply_assets, m.total_borrow_assets, m.last_update
    )
    interest: uint256 = m.total_borrow_assets * self._taylor_compounded(rate, elapsed) // WAD
    m.total_borrow_assets += interest
    m.total_supply_assets += interest
    if m.fee != 0:
        fee_amount: uint256 = interest * m.fee // WAD
        m.total_supply_shares += self._to_shares(
            fee_amount, m.total_supply_assets - fee_amount, m.total_supply_shares, False
        )
    m.last_update = block.timestamp
    return m


@external
@view
def position(id: bytes32, user: address) -> (uint256, uint256, uint256):
    """
    @dev Returns `user`'s position in the market `id`.
    @param id The market's ID.
    @param user The position's owner.
    @return uint256 Supply shares.
    @return uint256 Borrow shares.
    @return uint256 Collateral, raw units of the collateral token.
    """
    word: uint256 = self._loan_word[id][user]
    return (self._supply_shares[id][user], word & _MASK_128, word >> 128)


# ---------------------------------------------------------------- lending


@external
@nonreentrant
def supply(params: MarketParams, assets: uint256, shares: uint256, on_behalf: address) -> (uint256, uint256):
    """
    @dev Supplies the loan asset to a market for `on_behalf`, pulling it
         from the caller. Give either `assets` or `shares`, not both.
    @param params The market.
    @param assets The loan asset to supply, or 0.
    @param shares The supply shares to mint, or 0.
    @param on_behalf Who owns the shares.
    @return uint256 The assets supplied.
    @return uint256 The shares minted.
    """
    id: bytes32 = self._id(params)
    m: Totals = self._accrue(params, id, self._created(id))
    assert self._exactly_one_zero(assets, shares), "lending: inconsistent input"
    assert on_behalf != empty(address), "lending: zero address"
    a: uint256 = assets
    s: uint256 = shares
    if a > 0:
        s = self._to_shares(a, m.total_supply_assets, m.total_supply_shares, False)
    else:
        a = self._to_assets(s, m.total_supply_assets, m.total_supply_shares, True)
    self._supply_shares[id][on_behalf] += s
    m.total_supply_shares += s
    m.total_supply_assets += a
    self._store(id, m)
    log Supply(id=id, caller=msg.sender, on_behalf=on_behalf, assets=a, shares=s)
    self._pull(params.loan_token, a)
    return (a, s)


@external
@nonreentrant
def withdraw(
    params: MarketParams, assets: uint256, shares: uint256, on_behalf: address, receiver: address
) -> (uint256, uint256):
    """
    @dev Withdraws the loan asset of `on_behalf`'s supply to `receiver`.
         The caller is `on_behalf` or authorised by it. Give either
         `assets` or `shares`.
    @param params The market.
    @param assets The loan asset to withdraw, or 0.
    @param shares The supply shares to burn, or 0.
    @param on_behalf Whose shares are burnt.
    @param receiver Who receives the loan asset.
    @return uint256 The assets withdrawn.
    @return uint256 The shares burnt.
    """
    id: bytes32 = self._id(params)
    m: Totals = self._accrue(params, id, self._created(id))
    assert self._exactly_one_zero(assets, shares), "lending: inconsistent input"
    assert receiver != empty(address), "lending: zero address"
    self._check_authorized(on_behalf)
    a: uint256 = assets
    s: uint256 = shares
    if a > 0:
        s = self._to_shares(a, m.total_supply_assets, m.total_supply_shares, True)
    else:
        a = self._to_assets(s, m.total_supply_assets, m.total_supply_shares, False)
    held: uint256 = self._supply_shares[id][on_behalf]
    assert s <= held, "lending: insufficient supply"
    self._supply_shares[id][on_behalf] = held - s
    m.total_supply_shares -= s
    m.total_supply_assets -= a
    assert m.total_borrow_assets <= m.total_supply_assets, "lending: insufficient liquidity"
    self._store(id, m)
    log Withdraw(id=id, caller=msg.sender, on_behalf=on_behalf, receiver=receiver, assets=a, shares=s)
    self._send(params.loan_token, receiver, a)
    return (a, s)


@external
@nonreentrant
def borrow(
    params: MarketParams, assets: uint256, shares: uint256, on_behalf: address, receiver: address
) -> (uint256, uint256):
    """
    @dev Borrows the loan asset against `on_behalf`'s collateral and
         sends it to `receiver`. The caller is `on_behalf` or authorised
         by it. The position must stay healthy at the LLTV less the
         oracle's cut; the oracle refuses while the market is halted,
         the price unusable or the token's reserves short.
    @param params The market.
    @param assets The loan asset to borrow, or 0.
    @param shares The borrow shares to take, or 0.
    @param on_behalf Whose position borrows.
    @param receiver Who receives the loan asset.
    @return uint256 The assets borrowed.
    @return uint256 The borrow shares taken.
    """
    id: bytes32 = self._id(params)
    m: Totals = self._accrue(params, id, self._created(id))
    assert self._exactly_one_zero(assets, shares), "lending: inconsistent input"
    assert receiver != empty(address), "lending: zero address"
    self._check_authorized(on_behalf)
    a: uint256 = assets
    s: uint256 = shares
    if a > 0:
        s = self._to_shares(a, m.total_borrow_assets, m.total_borrow_shares, True)
    else:
        a = self._to_assets(s, m.total_borrow_assets, m.total_borrow_shares, False)
    word: uint256 = self._loan_word[id][on_behalf]
    borrow_shares: uint256 = (word & _MASK_128) + s
    collateral: uint256 = word >> 128
    m.total_borrow_shares += s
    m.total_borrow_assets += a
    price: uint256 = 0
    cut: uint256 = 0
    price, cut = staticcall ILendingOracle(params.oracle).quote(ACTION_BORROW)
    assert self._healthy(m, borrow_shares, collateral, price, self._max_ltv(params.lltv, cut)), (
        "lending: insufficient collateral"
    )
    assert m.total_borrow_assets <= m.total_supply_assets, "lending: insufficient liquidity"
    self._loan_word[id][on_behalf] = self._pack(borrow_shares, collateral)
    self._store(id, m)
    log Borrow(id=id, caller=msg.sender, on_behalf=on_behalf, receiver=receiver, assets=a, shares=s)
    self._send(params.loan_token, receiver, a)
    return (a, s)


@external
@nonreentrant
def repay(params: MarketParams, assets: uint256, shares: uint256, on_behalf: address) -> (uint256, uint256):
    """
    @dev Repays `on_behalf`'s debt, pulling the loan asset from the
         caller. Give either `assets` or `shares`. Anyone may repay;
         no price is needed.
    @param params The market.
    @param assets The loan asset to repay, or 0.
    @param shares The borrow shares to repay, or 0.
    @param on_behalf Whose debt is repaid.
    @return uint256 The assets repaid.
    @return uint256 The borrow shares repaid.
    """
    id: bytes32 = self._id(params)
    m: Totals = self._accrue(params, id, self._created(id))
    assert self._exactly_one_zero(assets, shares), "lending: inconsistent input"
    assert on_behalf != empty(address), "lending: zero address"
    a: uint256 = assets
    s: uint256 = shares
    if a > 0:
        s = self._to_shares(a, m.total_borrow_assets, m.total_borrow_shares, False)
    else:
        a = self._to_assets(s, m.total_borrow_assets, m.total_borrow_shares, True)
    word: uint256 = self._loan_word[id][on_behalf]
    assert s <= word & _MASK_128, "lending: repaying more than the debt"
    self._loan_word[id][on_behalf] = word - s
    m.total_borrow_shares -= s
    # Rounding can make the assets of the last shares exceed the total.
    m.total_borrow_assets = self._zero_floor_sub(m.total_borrow_assets, a)
    self._store(id, m)
    log Repay(id=id, caller=msg.sender, on_behalf=on_behalf, assets=a, shares=s)
    self._pull(params.loan_token, a)
    return (a, s)


@external
@nonreentrant
def supply_collateral(params: MarketParams, assets: uint256, on_behalf: address):
    """
    @dev Deposits collateral for `on_behalf`, pulling it from the
         caller. No interest accrues and no price is needed.
    @param params The market.
    @param assets The collateral, raw units, more than 0.
    @param on_behalf Whose position receives it.
    """
    id: bytes32 = self._id(params)
    self._created(id)
    assert assets != 0, "lending: zero assets"
    assert on_behalf != empty(address), "lending: zero address"
    word: uint256 = self._loan_word[id][on_behalf]
    self._loan_word[id][on_behalf] = self._pack(word & _MASK_128, (word >> 128) + assets)
    log SupplyCollateral(id=id, caller=msg.sender, on_behalf=on_behalf, assets=assets)
    self._pull(params.collateral_token, assets)


@external
@nonreentrant
def withdraw_collateral(params: MarketParams, assets: uint256, on_behalf: address, receiver: address):
    """
    @dev Withdraws `on_behalf`'s collateral to `receiver`. The caller is
         `on_behalf` or authorised by it. A position with debt must stay
         healthy at the LLTV less the oracle's cut, and the oracle
         refuses while the market is halted or the price unusable; a
         position without debt needs no price.
    @param params The market.
    @param assets The collateral, raw units, more than 0.
    @param on_behalf Whose collateral is withdrawn.
    @param receiver Who receives it.
    """
    id: bytes32 = self._id(params)
    m: Totals = self._accrue(params, id, self._created(id))
    assert assets != 0, "lending: zero assets"
    assert receiver != empty(address), "lending: zero address"
    self._check_authorized(on_behalf)
    word: uint256 = self._loan_word[id][on_behalf]
    borrow_shares: uint256 = word & _MASK_128
    collateral: uint256 = word >> 128
    assert assets <= collateral, "lending: insufficient collateral"
    collateral -= assets
    if borrow_shares != 0:
        price: uint256 = 0
        cut: uint256 = 0
        price, cut = staticcall ILendingOracle(params.oracle).quote(ACTION_WITHDRAW_COLLATERAL)
        assert self._healthy(m, borrow_shares, collateral, price, self._max_ltv(params.lltv, cut)), (
            "lending: insufficient collateral"
        )
    if receiver != on_behalf:
        # The token checks the receiver, not whose collateral it is.
        code: uint8 = 0
        reason: String[48] = ""
        code, reason = staticcall IStockToken(params.collateral_token).can_transfer_from(
            self, on_behalf, receiver, 0
        )
        assert code == 0, reason
    self._loan_word[id][on_behalf] = self._pack(borrow_shares, collateral)
    self._store(id, m)
    log WithdrawCollateral(id=id, caller=msg.sender, on_behalf=on_behalf, receiver=receiver, assets=assets)
    self._send(params.collateral_token, receiver, assets)


@external
@nonreentrant
def liquidate(
    params: MarketParams, borrower: address, seized_assets: uint256, repaid_shares: uint256
) -> (uint256, uint256):
    """
    @dev Liquidates an unhealthy position: the caller repays its debt and
         receives its collateral at the oracle price times the LIF. Give
         either `seized_assets` or `repaid_shares`. A liquidation that
         leaves collateral and debt must not raise the position's LTV;
         when the collateral runs out, the debt left is written off
         against the market's lenders.
    @param params The market.
    @param borrower Whose position is liquidated.
    @param seized_assets The collateral to seize, or 0.
    @param repaid_shares The borrow shares to repay, or 0.
    @return uint256 The collateral seized.
    @return uint256 The loan asset repaid.
    """
    id: bytes32 = self._id(params)
    m: Totals = self._accrue(params, id, self._created(id))
    assert self._exactly_one_zero(seized_assets, repaid_shares), "lending: inconsistent input"
    price: uint256 = 0
    cut: uint256 = 0
    price, cut = staticcall ILendingOracle(params.oracle).quote(ACTION_LIQUIDATE)
    word: uint256 = self._loan_word[id][borrower]
    borrow_shares: uint256 = word & _MASK_128
    collateral: uint256 = word >> 128
    assert not self._healthy(m, borrow_shares, collateral, price, params.lltv), "lending: position healthy"

    lif: uint256 = min(
        MAX_LIQUIDATION_INCENTIVE_FACTOR,
        WAD * WAD // (WAD - LIQUIDATION_CURSOR * (WAD - params.lltv) // WAD),
    )
    seized: uint256 = seized_assets
    repaid: uint256 = repaid_shares
    if seized > 0:
        quoted: uint256 = math._mul_div(seized, price, ORACLE_PRICE_SCALE, True)
        repaid = self._to_shares(
            math._mul_div(quoted, WAD, lif, True), m.total_borrow_assets, m.total_borrow_shares, True
        )
    else:
        seized = math._mul_div(
            self._to_assets(repaid, m.total_borrow_assets, m.total_borrow_shares, False) * lif // WAD,
            ORACLE_PRICE_SCALE,
            price,
            False,
        )
    repaid_assets: uint256 = self._to_assets(repaid, m.total_borrow_assets, m.total_borrow_shares, True)
    assert repaid <= borrow_shares, "lending: repaying more than the debt"
    assert seized <= collateral, "lending: seizing more than the collateral"

    new_shares: uint256 = borrow_shares - repaid
    new_collateral: uint256 = collateral - seized
    m.total_borrow_shares -= repaid
    m.total_borrow_assets = self._zero_floor_sub(m.total_borrow_assets, repaid_assets)

    bad_debt_shares: uint256 = 0
    bad_debt_assets: uint256 = 0
    if new_collateral == 0:
        bad_debt_shares = new_shares
        bad_debt_assets = min(
            m.total_borrow_assets,
            self._to_assets(bad_debt_shares, m.total_borrow_assets, m.total_borrow_shares, True),
        )
        m.total_borrow_assets -= bad_debt_assets
        m.total_supply_assets -= bad_debt_assets
        m.total_borrow_shares -= bad_debt_shares
        new_shares = 0
    elif new_shares != 0:
        # b'/c' <= b/c: a partial liquidation never worsens the LTV. With
        # the LIF above 1 it would once LTV * LIF > 1; such a position
        # can only be liquidated by seizing all its collateral.
        assert new_shares * collateral <= borrow_shares * new_collateral, "lending: liquidation worsens health"

    self._loan_word[id][borrower] = self._pack(new_shares, new_collateral)
    self._store(id, m)
    log Liquidate(
        id=id,
        caller=msg.sender,
        borrower=borrower,
        repaid_assets=repaid_assets,
        repaid_shares=repaid,
        seized_assets=seized,
        bad_debt_assets=bad_debt_assets,
        bad_debt_shares=bad_debt_shares,
    )
    self._send(params.collateral_token, msg.sender, seized)
    self._pull(params.loan_token, repaid_assets)
    return (seized, repaid_assets)


@external
@nonreentrant
def accrue_interest(params: MarketParams):
    """
    @dev Accrues the market's interest up to now.
    @param params The market.
    """
    id: bytes32 = self._id(params)
    self._store(id, self._accrue(params, id, self._created(id)))


@external
def set_authorization(authorized: address, new_is_authorized: bool):
    """
    @dev Lets `authorized` (or stops it from) withdraw, borrow and
         withdraw collateral on the caller's behalf.
    @param authorized The delegate.
    @param new_is_authorized Whether it may.
    """
    assert self.is_authorized[msg.sender][authorized] != new_is_authorized, "lending: already set"
    self.is_authorized[msg.sender][authorized] = new_is_authorized
    log SetAuthorization(
        caller=msg.sender, authorizer=msg.sender, authorized=authorized, new_is_authorized=new_is_authorized
    )


# ---------------------------------------------------------------- internals


@internal
@pure
def _id(params: MarketParams) -> bytes32:
    return keccak256(abi_encode(params))


@internal
@view
def _load(id: bytes32) -> Totals:
    supply_word: uint256 = self._supply_word[id]
    borrow_word: uint256 = self._borrow_word[id]
    meta_word: uint256 = self._meta_word[id]
    return Totals(
        total_supply_assets=supply_word & _MASK_128,
        total_supply_shares=supply_word >> 128,
        total_borrow_assets=borrow_word & _MASK_128,
        total_borrow_shares=borrow_word >> 128,
        last_update=meta_word & _MASK_128,
        fee=meta_word >> 128,
    )


@internal
def _store(id: bytes32, m: Totals):
    self._supply_word[id] = self._pack(m.total_supply_assets, m.total_supply_shares)
    self._borrow_word[id] = self._pack(m.total_borrow_assets, m.total_borrow_shares)
    self._meta_word[id] = self._pack(m.last_update, m.fee)


@internal
@pure
def _pack(low: uint256, high: uint256) -> uint256:
    assert low <= _MASK_128 and high <= _MASK_128, "lending: max uint128 exceeded"
    return low | (high << 128)


@internal
@view
def _created(id: bytes32) -> Totals:
    m: Totals = self._load(id)
    assert m.last_update != 0, "lending: market not created"
    return m


@internal
def _accrue(params: MarketParams, id: bytes32, m: Totals) -> Totals:
    """
    @dev Returns the totals with the interest since the last accrual
         added to both sides, the fee's shares minted to the recipient.
         The caller stores them.
    """
    elapsed: uint256 = block.timestamp - m.last_update
    if elapsed == 0:
        return m
    result: Totals = m
    result.last_update = block.timestamp
    if params.irm == empty(address):
        return result
    rate: uint256 = extcall IRateModel(params.irm).borrow_rate(
        id, m.total_supply_assets, m.total_borrow_assets, m.last_update
    )
    interest: uint256 = m.total_borrow_assets * self._taylor_compounded(rate, elapsed) // WAD
    result.total_borrow_assets += interest
    result.total_supply_assets += interest
    fee_shares: uint256 = 0
    if m.fee != 0:
        fee_amount: uint256 = interest * m.fee // WAD
        # The fee is supplied after the interest, so its shares are
        # priced on the supply before it.
        fee_shares = self._to_shares(
            fee_amount, result.total_supply_assets - fee_amount, result.total_supply_shares, False
        )
        self._supply_shares[id][self.fee_recipient] += fee_shares
        result.total_supply_shares += fee_shares
    log AccrueInterest(id=id, prev_borrow_rate=rate, interest=interest, fee_shares=fee_shares)
    return result


@internal
@pure
def _taylor_compounded(rate: uint256, elapsed: uint256) -> uint256:
    """
    @dev Returns e^(rate * elapsed) - 1, WAD, by its first three terms.
    """
    first: uint256 = rate * elapsed
    second: uint256 = first * first // (2 * WAD)
    third: uint256 = second * first // (3 * WAD)
    return first + second + third


@internal
@pure
def _to_shares(assets: uint256, total_assets: uint256, total_shares: uint256, round_up: bool) -> uint256:
    return math._mul_div(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS, round_up)


@internal
@pure
def _to_assets(shares: uint256, total_assets: uint256, total_shares: uint256, round_up: bool) -> uint256:
    return math._mul_div(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES, round_up)


@internal
@pure
def _healthy(m: Totals, borrow_shares: uint256, collateral: uint256, price: uint256, max_ltv: uint256) -> bool:
    """
    @dev Returns whether the position's debt is within `max_ltv` of its
         collateral's value at `price`.
    """
    if borrow_shares == 0:
        return True
    debt: uint256 = self._to_assets(borrow_shares, m.total_borrow_assets, m.total_borrow_shares, True)
    max_borrow: uint256 = math._mul_div(collateral, price, ORACLE_PRICE_SCALE, False) * max_ltv // WAD
    return debt <= max_borrow


@internal
@pure
def _max_ltv(lltv: uint256, cut: uint256) -> uint256:
    if cut >= lltv:
        return 0
    return lltv - cut


@internal
@pure
def _exactly_one_zero(x: uint256, y: uint256) -> bool:
    return (x == 0) != (y == 0)


@internal
@pure
def _zero_floor_sub(x: uint256, y: uint256) -> uint256:
    if y >= x:
        return 0
    return x - y


@internal
@view
def _check_authorized(on_behalf: address):
    assert msg.sender == on_behalf or self.is_authorized[on_behalf][msg.sender], "lending: unauthorized"


@internal
def _pull(token: address, amount: uint256):
    assert extcall IERC20(token).transferFrom(msg.sender, self, amount, default_return_value=True), (
        "lending: transfer failed"
    )


@internal
def _send(token: address, to: address, amount: uint256):
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "lending: transfer failed"
