"""What the API reads and writes: one model per resource and operation, separate from the tables.

Shares and dollars travel as decimal strings ("1.5", "187.25"), raw token units as integers, times
as ISO 8601 UTC.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from equitoken.issuer.corporate_actions.model import ActionKind, CorporateAction
from equitoken.issuer.investors import Investor, InvestorCategory
from equitoken.issuer.service import RequestView
from equitoken.issuer.workflow.states import HeldResolution, RequestState

DECIMAL = r"^[0-9]{1,15}(\.[0-9]{1,18})?$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
# An EVM address, or a Solana one (32 to 44 base58 characters): which one the request's chain needs
# is checked by the issuer, which names the chain in its answer.
WALLET = r"^(0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{32,44})$"
TICKER = r"^[A-Za-z][A-Za-z0-9.]{0,9}$"
ID = r"^[A-Za-z0-9_-]{1,40}$"
IDEMPOTENCY_KEY = r"^[!-~]{1,128}$"
# Printable text: no control characters (PostgreSQL refuses NUL in text).
TEXT = r"^[^\x00-\x1f\x7f]+$"
_EPOCH = datetime(1970, 1, 2, tzinfo=UTC)


def _after_epoch(moment: datetime) -> datetime:
    # The identity registry stores expiries as unsigned Unix seconds.
    if moment < _EPOCH:
        raise ValueError("must be after 1970-01-02T00:00:00Z")
    return moment


Expiry = Annotated[AwareDatetime, AfterValidator(_after_epoch)]
# The wallet an on-chain venue's action is for.
ActingWallet = Annotated[
    str | None,
    Field(pattern=ADDRESS, description="One of your registered wallets; your first EVM wallet if omitted."),
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeOut(BaseModel):
    role: Literal["operator", "participant", "investor"]
    investor_id: str | None
    name: str


class ChainTokenOut(BaseModel):
    chain_id: int
    token: str


class InstrumentOut(BaseModel):
    ticker: str
    name: str
    isin: str
    token_symbol: str
    decimals: int
    profile: str = Field(description="open, permissioned or restricted")
    venue: str
    chains: list[ChainTokenOut]


class QuoteOut(BaseModel):
    ticker: str
    price: str
    as_of: datetime
    market_phase: str


class MarketOut(BaseModel):
    calendar: str
    now: datetime
    phase: str
    is_holiday: bool
    next_open: datetime
    next_close: datetime


class BrokerOut(BaseModel):
    name: str
    connected: bool
    market_phase: str


class InvestorCreate(_Input):
    name: str = Field(min_length=1, max_length=200, pattern=TEXT)
    jurisdiction: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code.")
    category: InvestorCategory
    kyc_expires_at: Expiry
    accredited: StrictBool = False


class InvestorOut(BaseModel):
    id: str
    onchain_id: int
    name: str
    jurisdiction: str
    category: InvestorCategory
    accredited: bool
    kyc_status: str
    kyc_expires_at: datetime
    frozen: StrictBool
    wallets: list[str]

    @classmethod
    def of(cls, investor: Investor) -> "InvestorOut":
        return cls(
            id=investor.id,
            onchain_id=investor.onchain_id,
            name=investor.name,
            jurisdiction=investor.jurisdiction,
            category=investor.category,
            accredited=investor.accredited,
            kyc_status=investor.kyc_status,
            kyc_expires_at=investor.kyc_expires_at,
            frozen=investor.frozen,
            wallets=list(investor.wallets),
        )


class WalletBind(_Input):
    wallet: str = Field(pattern=ADDRESS)


class KycUpdate(_Input):
    kyc_expires_at: Expiry


class FrozenUpdate(_Input):
    frozen: StrictBool


class RequestCreate(_Input):
    kind: Literal["mint", "redeem"]
    ticker: str = Field(pattern=TICKER)
    quantity: str = Field(pattern=DECIMAL, description="Shares, as a decimal string.")
    wallet: str = Field(pattern=WALLET, description="The wallet holding the tokens, on `chain_id`.")
    chain_id: int | None = Field(
        default=None,
        description="The chain the tokens are minted on or burned from (an EVM chain id, or Solana's: "
        "7565166 on the local platform); the settlement chain if omitted.",
    )
    payment_wallet: str | None = Field(
        default=None,
        pattern=ADDRESS,
        description="The settlement chain's wallet that pays USDC and is paid, for a request on another "
        "chain.",
    )
    investor_id: str | None = Field(
        default=None, pattern=ID, description="Operator only: whom the request is for."
    )
    limit_price: str | None = Field(
        default=None,
        pattern=DECIMAL,
        description="Redemptions only: the lowest price per share, in USD, the shares may sell at.",
    )


class HeldResolutionIn(_Input):
    action: HeldResolution = Field(
        description="`retry` the step the request was held at, or `refund` a held mint."
    )
    note: str = Field(min_length=1, max_length=400, pattern=TEXT, description="Why, for the audit trail.")


class RequestEventOut(BaseModel):
    at: datetime
    from_state: str | None
    to_state: str
    reason: str


class RequestOut(BaseModel):
    id: str
    kind: Literal["mint", "redeem"]
    investor_id: str
    wallet: str
    chain_id: int
    payment_wallet: str
    ticker: str
    quantity: str
    state: RequestState
    escrow_usd: str
    filled_quantity: str
    filled_notional_usd: str
    fee_usd: str
    settled_usd: str
    tokens_settled: int
    reason: str | None
    created_at: datetime
    expires_at: datetime
    events: list[RequestEventOut]
    limit_price: str | None

    @classmethod
    def of(cls, view: RequestView) -> "RequestOut":
        return cls(
            id=view.id,
            kind=view.kind.value,
            investor_id=view.investor_id,
            wallet=view.wallet,
            chain_id=view.chain_id,
            payment_wallet=view.payment_wallet,
            ticker=view.ticker,
            quantity=str(view.quantity),
            state=view.state,
            escrow_usd=str(view.escrow),
            filled_quantity=str(view.filled_quantity),
            filled_notional_usd=str(view.filled_notional),
            fee_usd=str(view.fee),
            settled_usd=str(view.settled),
            tokens_settled=view.tokens_settled,
            reason=view.reason,
            created_at=view.created_at,
            expires_at=view.expires_at,
            events=[
                RequestEventOut(at=e.at, from_state=e.from_state, to_state=e.to_state, reason=e.reason)
                for e in view.events
            ],
            limit_price=None if view.limit_price is None else str(view.limit_price),
        )


class HoldingOut(BaseModel):
    investor_id: str
    ticker: str
    chain_id: int
    wallet: str
    raw: int
    multiplier: str
    ui_shares: str
    value_usd: str | None
    block: int | None = Field(
        description="The indexed block of `chain_id` the balance is read at; null: the chain's latest block"
    )


class ReserveChainOut(BaseModel):
    chain_id: int
    family: str = Field(description="EVM or Solana.")
    supply_raw: int
    multiplier: str
    outstanding_shares: str


class ReserveOut(BaseModel):
    ticker: str
    custody_shares: str
    outstanding_shares: str
    gap_shares: str
    backed: bool
    chains: list[ReserveChainOut]


class ReservePointOut(BaseModel):
    at: datetime
    custody_shares: str
    outstanding_shares: str | None


class IndexedBlockOut(BaseModel):
    chain_id: int
    block_number: int
    block_hash: str
    timestamp: datetime


class ProofRootOut(BaseModel):
    ticker: str
    root: str = Field(description="The liabilities root, 0x + 64 hex digits")
    total: str = Field(
        description="Every holder's raw token balance summed over the chains, a decimal string"
    )
    holders: int
    built_at: datetime = Field(description="When the tree was built, by the issuer's clock")
    blocks: list[IndexedBlockOut] = Field(description="The indexed block of each chain the tree reflects")


class PathStepOut(BaseModel):
    hash: str
    sum: str


class InclusionProofOut(BaseModel):
    """The proof exactly as `equitoken verify-proof` reads it (format equitoken-liabilities-proof/1)."""

    format: str
    ticker: str
    chain_id: int
    holder: str
    balance: str
    nonce: str
    index: int
    leaf_count: int
    path: list[PathStepOut]
    total: str
    root: str


class ReportLiabilitiesOut(BaseModel):
    root: str
    total_raw: str
    holders: int


class ReportBodyOut(BaseModel):
    format: str
    issuer: str
    spv: str
    ticker: str
    as_of: str = Field(description="ISO 8601, exactly as signed")
    custody_shares: str
    outstanding_shares: dict[str, str] = Field(description="Per chain id")
    outstanding_total_shares: str
    surplus_shares: str
    backed: bool
    liabilities: ReportLiabilitiesOut


class SignedReportOut(BaseModel):
    """The signed reserves report (`report`, `signer`, `signature`), and the indexed blocks behind it."""

    report: ReportBodyOut
    signer: str
    signature: str = Field(description="EIP-191 personal_sign over the report's canonical JSON")
    blocks: list[IndexedBlockOut] = Field(
        description="Not signed: the indexed block of each chain the liabilities root reflects"
    )


class ReconciliationOut(BaseModel):
    ok: bool
    reserves: list[ReserveOut]
    trial_balance: dict[str, int]


class KeyCreate(_Input):
    role: Literal["operator", "participant", "investor"]
    investor_id: str | None = Field(default=None, pattern=ID)
    label: str = Field(min_length=1, max_length=200, pattern=TEXT)


class KeyOut(BaseModel):
    key: str = Field(description="The API key; shown only in this response.")
    role: Literal["operator", "participant", "investor"]
    investor_id: str | None
    label: str


class CorporateActionOut(BaseModel):
    id: str
    ticker: str
    kind: str
    ex_date: date
    record_date: date
    ratio: str | None = Field(description="new:old shares, for a split or reverse split")
    amount: str | None = Field(description="dollars per share, for a cash dividend")
    policy: str | None
    state: str
    effective_at: datetime

    @classmethod
    def of(cls, action: CorporateAction) -> "CorporateActionOut":
        splits = (ActionKind.SPLIT, ActionKind.REVERSE_SPLIT)
        return cls(
            id=action.id,
            ticker=action.ticker,
            kind=action.kind.value,
            ex_date=action.ex_date,
            record_date=action.record_date,
            ratio=f"{action.ratio[0]}:{action.ratio[1]}" if action.kind in splits else None,
            amount=str(action.amount_per_share) if action.kind is ActionKind.CASH_DIVIDEND else None,
            policy=None if action.policy is None else action.policy.value,
            state=action.state.value,
            effective_at=action.effective_at,
        )


# The exchange: prices are dollars and quantities shares, as decimal strings; order ids integers.

ExchangeSide = Literal["buy", "sell"]
ExchangeStatus = Literal["open", "closed", "halted"]


class ExchangeMarketOut(BaseModel):
    ticker: str
    status: ExchangeStatus = Field(description="The oracle's market status for the underlying.")
    tick: str = Field(description="The price step, in dollars.")
    lot: str = Field(description="The quantity step, in shares.")
    maker_fee_bps: int
    taker_fee_bps: int
    min_notional: str = Field(description="The smallest order value, in dollars.")
    best_bid: str | None
    best_ask: str | None


class ExchangeLevelOut(BaseModel):
    price: str
    quantity: str
    orders: int


class ExchangeBookOut(BaseModel):
    ticker: str
    status: ExchangeStatus
    bids: list[ExchangeLevelOut]
    asks: list[ExchangeLevelOut]


class ExchangeTradeOut(BaseModel):
    trade_id: str
    price: str
    quantity: str
    taker_side: ExchangeSide
    status: ExchangeStatus = Field(description="The market status the trade was made under.")
    at: datetime | None


class ExchangeOrderCreate(_Input):
    ticker: str = Field(pattern=TICKER)
    side: ExchangeSide
    type: Literal["limit", "market"] = "limit"
    time_in_force: Literal["gtc", "ioc", "fok"] | None = Field(
        default=None, description="Defaults to gtc for a limit order and ioc for a market order."
    )
    post_only: StrictBool = False
    price: str | None = Field(
        default=None, pattern=DECIMAL, description="Dollars, a multiple of the tick; omit for a market order."
    )
    quantity: str = Field(pattern=DECIMAL, description="Shares, a multiple of the lot.")
    client_order_id: str = Field(default="", pattern=r"^[A-Za-z0-9_.:-]{0,40}$")


class ExchangeOrderAmend(_Input):
    price: str = Field(pattern=DECIMAL, description="The new price in dollars.")
    quantity: str = Field(pattern=DECIMAL, description="The new open quantity in shares.")


class ExchangeOrderOut(BaseModel):
    ticker: str
    order_id: int
    client_order_id: str
    side: ExchangeSide
    price: str
    quantity: str = Field(description="The open (unfilled) quantity, in shares.")


class ExchangeFillOut(BaseModel):
    trade_id: str
    order_id: int = Field(description="The caller's order that traded.")
    role: Literal["maker", "taker"]
    price: str
    quantity: str
    fee: str = Field(description="The caller's fee in dollars (negative: a rebate).")


class ExchangeOutcomeOut(BaseModel):
    ticker: str
    order_id: int
    state: Literal["resting", "filled", "cancelled", "amended", "closed"] = Field(
        description="closed: an order placed by an earlier try that is no longer open (filled or cancelled)."
    )
    open_quantity: str = Field(description="What is left in the book, in shares.")
    fills: list[ExchangeFillOut]


class ExchangeDepositAddressOut(BaseModel):
    address: str = Field(description="The exchange's hot wallet.")
    chain_id: int
    note: str


class ExchangeDepositOut(BaseModel):
    deposit_id: str = Field(description="<chain id>:<transaction hash>:<log index>")
    asset: str
    amount: str = Field(description="Dollars for USDC, shares for a token.")
    sender: str
    tx_hash: str
    block_number: int


class ExchangeWithdrawalCreate(_Input):
    asset: str = Field(pattern=r"^(USDC|[A-Za-z][A-Za-z0-9.]{0,9})$", description="USDC or a traded ticker.")
    amount: str = Field(pattern=DECIMAL, description="Dollars for USDC, shares for a token.")
    destination: str = Field(pattern=ADDRESS, description="One of your registered wallets.")


class ExchangeWithdrawalOut(BaseModel):
    withdrawal_id: str
    asset: str
    amount: str = Field(description="Dollars for USDC, shares for a token.")
    destination: str
    status: Literal["requested", "confirmed", "failed"]
    tx_hash: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime


class ExchangeBalanceOut(BaseModel):
    asset: str
    available: str = Field(description="Dollars for USDC, shares for a token.")
    locked: str = Field(description="What open orders hold.")


# The lending venue: USDC amounts and prices in dollars, collateral in tokens (a token stands for
# `multiplier` shares), ratios and rates as decimal fractions ("0.75" is 75%), all as strings.

LendingState = Literal["open", "closed", "halted", "grace", "reserve_paused", "no_price"]


class LendingMarketOut(BaseModel):
    ticker: str
    market_id: str = Field(description="The market's id in the market contract, 0x + 64 hex digits.")
    collateral_token: str
    loan_token: str = Field(description="The USDC the market lends.")
    state: LendingState = Field(
        description="The oracle adapter's state: open; closed (the stock's market is closed: borrows and "
        "withdrawals only to the LLTV less the closed-market cut); halted (nothing moves); grace (reopened "
        "lately: no liquidations yet); reserve_paused (the token's reserves are short or stale: no new "
        "borrows); no_price (the price is stale, out of band or missing: nothing that needs one)."
    )
    state_label: str = Field(description="The state as users read it, e.g. `closed (LTV cut)`.")
    price: str | None = Field(description="The adapter's price in dollars per token; null without one.")
    supplied: str = Field(description="USDC lent to the market, with interest, in dollars.")
    borrowed: str = Field(description="USDC borrowed from it, with interest, in dollars.")
    liquidity: str = Field(description="Supplied less borrowed: what can be borrowed or withdrawn now.")
    utilisation: str = Field(description="Borrowed over supplied.")
    borrow_apr: str = Field(description="The rate borrowers pay now, a simple yearly rate.")
    borrow_apy: str = Field(description="The same rate compounded over a year.")
    supply_apy: str = Field(
        description="What lenders earn now: the borrow APY on the utilised share, less the fee."
    )
    max_ltv: str = Field(
        description="The borrow limit: the LTV a borrow or withdrawal may take a position to."
    )
    lltv: str = Field(description="The liquidation LTV: beyond it anyone may liquidate the position.")
    closed_ltv_cut: str = Field(
        description="LTV points taken off the LLTV for borrows while the market is closed."
    )
    borrow_ltv: str | None = Field(
        description="The LTV a borrow may reach now (the max LTV, or the LLTV less the closed-market cut "
        "while closed); null while the adapter allows no borrow."
    )
    grace_period: int = Field(description="Seconds without liquidations after the stock's market reopens.")


class LendingPositionOut(BaseModel):
    investor_id: str
    wallet: str
    ticker: str
    supplied: str = Field(description="USDC supplied, with interest earned, in dollars.")
    supply_shares: str
    debt: str = Field(description="USDC owed, with interest, in dollars.")
    borrow_shares: str
    collateral: str = Field(description="Tokens deposited as collateral.")
    collateral_raw: int
    price: str | None = Field(description="The adapter's price in dollars per token; null without one.")
    collateral_value: str | None
    ltv: str | None = Field(description="Debt over the collateral's value; null without debt.")
    health_factor: str | None = Field(
        description="The collateral's value times the LLTV over the debt; below 1 the position may be "
        "liquidated; null without debt or without a price."
    )
    liquidation_price: str | None = Field(
        description="The price per token below which the position may be liquidated; null without debt."
    )
    borrow_limit: str | None = Field(description="The most the debt may be after a borrow now, in dollars.")
    liquidatable: bool
    max_ltv: str
    lltv: str


class LendingActionIn(_Input):
    ticker: str = Field(pattern=TICKER, description="The market's collateral, e.g. AAPL.")
    amount: str | None = Field(
        default=None,
        pattern=DECIMAL,
        description="Dollars of USDC (supply, withdraw, borrow, repay) or tokens (supply-collateral, "
        "withdraw-collateral); omit to withdraw, withdraw the collateral or repay all of it.",
    )
    wallet: ActingWallet = None


class LendingReceiptOut(BaseModel):
    action: Literal["supply", "withdraw", "supply_collateral", "withdraw_collateral", "borrow", "repay"]
    ticker: str
    wallet: str
    amount: str = Field(description="What moved: dollars of USDC, or tokens of collateral.")
    tx_hash: str
    position: LendingPositionOut = Field(description="The position after the action.")


# The perpetuals venue: USDC amounts and prices in dollars, sizes in tokens (a token stands for
# `multiplier` shares), fees and spreads in basis points, leverage in multiples, rates as decimal
# fractions ("0.0001" is 0.01%), all as strings.

PerpState = Literal["open", "closed", "discovery", "halted", "no_price"]
PerpSide = Literal["long", "short"]


class PerpParametersOut(BaseModel):
    max_leverage: str = Field(description="The most leverage a position may open with, e.g. `10`.")
    open_fee_bps: int = Field(description="The open fee, in bps of the notional, out of the margin.")
    close_fee_bps: int = Field(description="The close fee, in bps of the notional closed.")
    base_spread_bps: int = Field(description="The spread every fill pays, before the skew's impact.")
    skew_scale: str = Field(description="Tokens of skew that move the funding velocity to its maximum.")
    max_funding_velocity: str = Field(description="The most the daily funding rate changes per day.")
    max_oi_long: str = Field(description="The cap on the longs' notional at entry, in dollars.")
    max_oi_short: str = Field(description="The cap on the shorts' notional at entry, in dollars.")
    max_profit_multiple: str = Field(description="A position's profit is capped at this times its margin.")
    liquidation_fee_bps: int = Field(description="The liquidator's reward, in bps of the notional.")
    min_margin: str = Field(description="The smallest margin a position opens with, in dollars.")
    closed_policy: Literal["closed", "discovery"] = Field(
        description="While the stock's market is closed: `closed` (orders queue for the reopening) or "
        "`discovery` (trading goes on in a band around the close)."
    )


class PerpMarketOut(BaseModel):
    ticker: str
    address: str = Field(description="The market contract.")
    state: PerpState = Field(
        description="open; closed (the stock's market is closed: orders queue for the reopening); "
        "discovery (closed, trading in a band around the close); halted; no_price (stale or missing)."
    )
    state_label: str
    mark: str | None = Field(
        description="The mark price in dollars per token; null while halted or unpriced."
    )
    funding_rate: str = Field(description="The funding rate per day, a fraction; positive: longs pay.")
    long_size: str = Field(description="Tokens held long.")
    short_size: str = Field(description="Tokens held short.")
    long_notional: str = Field(description="The longs' notional at entry, in dollars.")
    short_notional: str = Field(description="The shorts' notional at entry, in dollars.")
    skew: str = Field(description="Long less short, in tokens.")
    parameters: PerpParametersOut


class PerpVaultOut(BaseModel):
    address: str = Field(description="The LP vault (ERC-4626 over USDC), every position's counterparty.")
    assets: str = Field(description="The vault's USDC, in dollars.")
    reserved: str = Field(description="What open positions' profit caps reserve of it.")
    free: str = Field(description="What LPs may withdraw and new positions may reserve.")
    utilisation: str = Field(description="Reserved over assets.")
    share_price: str = Field(description="Dollars per vault share.")


class PerpPositionOut(BaseModel):
    investor_id: str
    wallet: str
    ticker: str
    position_id: int
    side: PerpSide
    size: str = Field(description="Tokens.")
    entry: str = Field(description="The entry (fill) price in dollars per token.")
    mark: str | None = Field(description="The mark price; null while halted or unpriced.")
    margin: str = Field(description="The margin after the open fee, in dollars.")
    notional: str | None = Field(description="Size times the mark, in dollars.")
    leverage: str | None = Field(description="Notional at the mark over the margin.")
    pnl: str | None = Field(description="Profit (negative: loss) at the mark, before fees and funding.")
    funding_paid: str = Field(
        description="Funding the position owes so far (negative: received), in dollars."
    )
    close_fee: str | None
    equity: str | None = Field(description="Margin + PnL - funding - the close fee.")
    liquidation_price: str | None = Field(
        description="A long is liquidated below it, a short above it; null if it cannot be."
    )
    liquidatable: bool
    take_profit: str | None
    stop_loss: str | None
    opened_at: datetime


class PerpOrderOut(BaseModel):
    investor_id: str
    wallet: str
    ticker: str
    order_id: int
    kind: Literal["open", "close"]
    position_id: int = Field(description="The position a close order closes; 0 for an open.")
    side: PerpSide
    margin: str = Field(description="An open's escrowed margin, in dollars.")
    leverage: str
    size: str = Field(description="A close's size in tokens.")
    take_profit: str | None
    stop_loss: str | None
    acceptable_price: str | None
    created_at: datetime


class PerpActionIn(_Input):
    ticker: str = Field(pattern=TICKER, description="The market's stock, e.g. AAPL.")
    wallet: ActingWallet = None


class PerpOpenIn(PerpActionIn):
    side: PerpSide
    margin: str = Field(pattern=DECIMAL, description="Dollars of USDC put up; the open fee comes out of it.")
    leverage: str = Field(pattern=DECIMAL, description="Leverage in multiples, e.g. `5`.")
    take_profit: str | None = Field(default=None, pattern=DECIMAL, description="Dollars per token.")
    stop_loss: str | None = Field(default=None, pattern=DECIMAL, description="Dollars per token.")
    acceptable_price: str | None = Field(
        default=None, pattern=DECIMAL, description="The worst fill you accept, in dollars per token."
    )


class PerpCloseIn(PerpActionIn):
    position_id: int = Field(ge=1, le=2**63)
    size: str | None = Field(
        default=None, pattern=DECIMAL, description="Tokens to close; the whole position if omitted."
    )
    acceptable_price: str | None = Field(default=None, pattern=DECIMAL)


class PerpMarginIn(PerpActionIn):
    position_id: int = Field(ge=1, le=2**63)
    amount: str = Field(pattern=DECIMAL, description="Dollars of USDC to add as margin.")


class PerpTriggersIn(PerpActionIn):
    position_id: int = Field(ge=1, le=2**63)
    take_profit: str | None = Field(default=None, pattern=DECIMAL, description="Omit to clear it.")
    stop_loss: str | None = Field(default=None, pattern=DECIMAL, description="Omit to clear it.")


class PerpCancelIn(PerpActionIn):
    order_id: int = Field(ge=1, le=2**63)


PerpActionName = Literal[
    "open", "close", "add_margin", "set_triggers", "request_open", "request_close", "cancel_order"
]


class PerpReceiptOut(BaseModel):
    action: PerpActionName
    ticker: str
    wallet: str
    position_id: int = Field(description="The position acted on (0 for an order's cancellation).")
    order_id: int = Field(description="The order queued or cancelled (0 otherwise).")
    tx_hash: str
    position: PerpPositionOut | None = Field(description="The position after the action; null once closed.")
    order: PerpOrderOut | None = Field(description="A queued order; null otherwise.")


# The CFD venue: USDC in dollars, sizes in shares, prices in dollars per share, rates and levels as
# decimal fractions ("1" is 100%), all as strings. An investor's CFD account number is its exchange
# account number.

CfdSessionState = Literal["open", "closed", "no_price"]


class CfdInstrumentOut(BaseModel):
    symbol: str
    state: CfdSessionState = Field(
        description="open (its session trades now: regular hours, or extended hours where enabled); closed; "
        "no_price (no oracle price yet). A halted or stale price is refused when trading, as a 409."
    )
    bid: str | None = Field(description="What a long closes and a short opens at; null before a price.")
    mid: str | None = Field(description="The oracle price.")
    ask: str | None = Field(description="What a long opens and a short closes at.")
    max_leverage: int = Field(description="The most leverage, 1:N.")
    spread_bps: int
    long_financing_rate: str = Field(description="What a long pays per year, a fraction of its notional.")
    short_financing_rate: str = Field(
        description="What a short receives per year (negative: pays), a fraction of its notional."
    )
    min_size: str = Field(description="The smallest position, in shares.")
    max_price_age_seconds: int


class CfdAccountOut(BaseModel):
    investor_id: str
    account: int = Field(description="The CFD account number: the investor's exchange account number.")
    balance: str = Field(description="USDC deposited and realized, in dollars.")
    equity: str = Field(description="Balance plus the open positions' unrealized profit.")
    used_margin: str
    free_margin: str = Field(
        description="Equity less used margin: what new positions and withdrawals may use."
    )
    margin_level: str | None = Field(description="Equity over used margin; null without positions.")
    margin_call_level: str
    stop_out_level: str
    exchange_available: str = Field(description="USDC available in the investor's exchange account.")


class CfdPositionOut(BaseModel):
    investor_id: str
    account: int
    position_id: int
    symbol: str
    side: Literal["long", "short"]
    size: str = Field(description="Shares.")
    entry: str = Field(description="The entry price in dollars per share.")
    mark: str | None = Field(
        description="What it would close at now (the bid for a long, the ask for a short)."
    )
    pnl: str | None = Field(description="Unrealized profit (negative: loss) at the mark, in dollars.")
    leverage: int
    margin: str | None = Field(description="The margin it uses at the mid price, in dollars.")
    opened_at: datetime


class CfdOpenIn(_Input):
    symbol: str = Field(pattern=TICKER, description="The underlying's ticker, e.g. AAPL.")
    side: Literal["long", "short"]
    size: str = Field(pattern=DECIMAL, description="Shares.")
    leverage: int | None = Field(
        default=None, ge=1, le=1000, description="1:N; the instrument's maximum if omitted."
    )


class CfdCloseIn(_Input):
    position_id: int = Field(ge=1, le=2**63)
    size: str | None = Field(
        default=None, pattern=DECIMAL, description="Shares; the whole position if omitted."
    )


class CfdTradeOut(BaseModel):
    action: Literal["open", "close"]
    position_id: int
    symbol: str
    size: str = Field(description="Shares opened or closed.")
    price: str = Field(description="The fill: the entry, or the exit.")
    pnl: str | None = Field(description="A close's realized profit (negative: loss), in dollars.")
    remaining: str | None = Field(description="What a close left open, in shares.")
    stopped_out: bool = Field(description="The account was stopped out by this trade's margin check.")
    account: CfdAccountOut = Field(description="The account after the trade.")


CfdTransferDirection = Literal["to_cfd", "from_cfd"]


class CfdTransferIn(_Input):
    direction: CfdTransferDirection = Field(
        description="to_cfd: from your exchange account to your CFD account; from_cfd: back."
    )
    amount: str = Field(pattern=DECIMAL, description="Dollars of USDC.")


class CfdTransferOut(BaseModel):
    transfer_id: str
    direction: CfdTransferDirection
    amount: str
    state: Literal["recorded", "debited", "credited", "failed"] = Field(
        description="credited once done; failed if the source could not pay (nothing moved)."
    )
    reason: str | None
    created_at: datetime
    updated_at: datetime


# The synthetic stocks: USDC and prices in dollars, synthetics in whole synthetics (one tracks one
# token), ratios as decimal fractions ("1.5" is 150%), all as strings.

SynthState = Literal["open", "closed", "halted", "no_price"]


class SynthVaultOut(BaseModel):
    ticker: str
    symbol: str = Field(description="The synthetic's symbol, e.g. sAAPL.")
    vault: str
    synth: str = Field(description="The synthetic's ERC-20.")
    state: SynthState = Field(
        description="open: every action; closed, halted, no_price: only deposits, and withdrawals "
        "without debt."
    )
    state_label: str
    price: str | None = Field(
        description="The feed's price in dollars per token; null while halted or unpriced."
    )
    min_collateral_ratio: str = Field(
        description="Collateral over debt value a mint or withdrawal must keep."
    )
    liquidation_penalty: str = Field(description="What a liquidator gets on top of the debt it repays.")
    max_price_age: int = Field(description="Seconds: an older price suspends the vault (Mirror's 60 s).")
    total_collateral: str
    total_debt: str = Field(description="Synthetics owed.")
    bad_debt: str
    supply: str = Field(description="Synthetics in circulation.")
    positions: int = Field(description="Positions opened so far.")


class SynthPositionOut(BaseModel):
    investor_id: str
    wallet: str
    ticker: str
    position_id: int
    collateral: str = Field(description="USDC locked, in dollars.")
    debt: str = Field(description="Synthetics owed.")
    price: str | None
    debt_value: str | None = Field(description="The debt at the price, in dollars.")
    collateral_ratio: str | None = Field(description="Collateral over the debt's value; null without debt.")
    liquidation_price: str | None = Field(
        description="Above this price the position is below the minimum ratio and may be liquidated."
    )
    max_mint: str = Field(description="Synthetics it may mint now.")
    liquidatable: bool
    min_collateral_ratio: str


class SynthActionIn(_Input):
    ticker: str = Field(pattern=TICKER, description="The synthetic's stock, e.g. AAPL.")
    wallet: ActingWallet = None


class SynthOpenIn(SynthActionIn):
    collateral: str = Field(pattern=DECIMAL, description="Dollars of USDC to lock.")
    amount: str = Field(pattern=DECIMAL, description="Synthetics to mint.")


class SynthUsdIn(SynthActionIn):
    position_id: int = Field(ge=1, le=2**63)
    amount: str | None = Field(
        default=None, pattern=DECIMAL, description="Dollars of USDC; to withdraw, omit for as much as it may."
    )


class SynthMintIn(SynthActionIn):
    position_id: int = Field(ge=1, le=2**63)
    amount: str | None = Field(
        default=None, pattern=DECIMAL, description="Synthetics; to burn, omit for the whole debt."
    )


class SynthCloseIn(SynthActionIn):
    position_id: int = Field(ge=1, le=2**63)


SynthActionName = Literal["open", "deposit", "withdraw", "mint", "burn", "close"]


class SynthReceiptOut(BaseModel):
    action: SynthActionName
    ticker: str
    wallet: str
    position_id: int
    collateral: str = Field(description="USDC the action moved, in dollars.")
    synth: str = Field(description="Synthetics the action minted or burned.")
    tx_hash: str
    position: SynthPositionOut | None = Field(description="The position after the action; null once closed.")


# -- the bridge

BridgeState = Literal["burned", "attested", "minted", "held", "released", "returned"]


class BridgeChainOut(BaseModel):
    chain_id: int
    name: str
    family: Literal["EVM", "Solana"]
    tickers: list[str] = Field(description="The tokens bridged on this chain.")


class BridgeEventOut(BaseModel):
    at: datetime
    state: BridgeState
    reason: str


class BridgeTransferOut(BaseModel):
    id: str = Field(description="The bridge message's id.")
    ticker: str
    source_chain: int
    dest_chain: int
    sender: str = Field(description="The wallet that burned, on the source chain.")
    receiver: str = Field(description="The wallet to mint to, on the destination chain.")
    amount: str = Field(description="Tokens, as a decimal number.")
    amount_raw: int = Field(description="Units of the bridge's shared 8 decimals.")
    state: BridgeState = Field(
        description="burned, then attested (a quorum of attesters signed), then minted at the "
        "destination; or held there (the receiver is refused) until the compliance agent releases it "
        "to another wallet (released) or returns it to its sender (returned)."
    )
    in_flight: bool = Field(description="Burned and not yet minted: counted at its destination.")
    source_tx: str = Field(description="The burn's transaction hash or signature.")
    dest_tx: str | None
    reason: str | None
    returns: str | None = Field(description="The held transfer this one returns to its sender.")
    created_at: datetime
    updated_at: datetime
    events: list[BridgeEventOut] = Field(description="Its progress, oldest first; empty in lists.")


class BridgeTransferCreate(_Input):
    ticker: str = Field(pattern=TICKER, description="The token to send, e.g. AAPL.")
    source_chain: int = Field(ge=0, le=2**63, description="The chain to burn on.")
    wallet: str | None = Field(
        default=None,
        pattern=WALLET,
        description="One of your wallets on the source chain; your first wallet there whose key the "
        "platform holds if omitted.",
    )
    dest_chain: int = Field(ge=0, le=2**63, description="The chain to mint on.")
    receiver: str = Field(pattern=WALLET, description="The wallet to mint to on the destination chain.")
    amount: str = Field(pattern=DECIMAL, description="Tokens to send, as a decimal number.")


class BridgeSendOut(BaseModel):
    id: str = Field(
        description="The transfer's id (the bridge message's), listed once the relayer has seen the burn."
    )
    ticker: str
    source_chain: int
    dest_chain: int
    wallet: str
    receiver: str
    amount: str
    source_tx: str = Field(description="The burn's transaction hash or signature.")


class BridgeReleaseIn(_Input):
    to: str = Field(pattern=WALLET, description="The wallet on the destination chain to mint to.")


class BridgeChainSupplyOut(BaseModel):
    chain_id: int
    name: str
    supply: str = Field(description="Tokens on this chain, as a decimal number.")
    in_flight: str = Field(description="Tokens burned elsewhere on their way to this chain.")


class BridgeSupplyOut(BaseModel):
    ticker: str
    total: str = Field(description="Supply on every chain plus what is in flight.")
    chains: list[BridgeChainSupplyOut]


class ProcessorOut(BaseModel):
    chain_id: int
    address: str = Field(description="The order processor's contract: place orders there with a quote.")
    payment_token: str = Field(description="The stablecoin orders are paid in (USDC, 6 decimals).")
    tickers: list[str]
    fee_flat: str = Field(description="The flat part of the fee, USD.")
    fee_bps: int = Field(description="The part of the fee proportional to the notional, basis points.")
    quote_ttl_seconds: int


class ProcessorQuoteIn(_Input):
    ticker: str = Field(pattern=TICKER, description="The stock, e.g. AAPL.")
    side: Literal["buy", "sell"]
    order_type: Literal["market", "limit"]
    time_in_force: Literal["day", "gtc", "ioc", "fok"] = "day"
    quantity: str | None = Field(
        default=None, pattern=DECIMAL, description="Shares, for a sell or a limit buy."
    )
    spend: str | None = Field(default=None, pattern=DECIMAL, description="USD to spend, for a market buy.")
    limit_price: str | None = Field(
        default=None, pattern=DECIMAL, description="USD per share, for a limit order."
    )
    wallet: str | None = Field(
        default=None,
        pattern=ADDRESS,
        description="Your wallet that places the order; your first EVM wallet if omitted.",
    )
    recipient: str | None = Field(
        default=None,
        pattern=ADDRESS,
        description="Who gets the tokens or the USDC; the placing wallet if omitted.",
    )


class ProcessorOrderTermsOut(BaseModel):
    """The `Order` struct `create_order` takes, in the processor's raw units."""

    recipient: str
    token: str
    sell: bool
    order_type: int
    asset_quantity: str
    payment_quantity: str
    limit_price: str
    time_in_force: int


class ProcessorFeeQuoteOut(BaseModel):
    """The `FeeQuote` struct `create_order` takes."""

    nonce: int
    requester: str
    fee: str = Field(description="USDC raw units (6 decimals).")
    deadline: int = Field(description="Unix time after which the processor refuses the quote.")


class ProcessorQuoteOut(BaseModel):
    processor: str
    chain_id: int
    order: ProcessorOrderTermsOut
    quote: ProcessorFeeQuoteOut
    signature: str = Field(description="The fee signer's EIP-712 signature, 0x-hex.")
    fee_usd: str


class ProcessorOrderOut(BaseModel):
    id: str
    order_id: int
    ticker: str
    requester: str
    sell: bool
    order_type: str
    time_in_force: str
    state: Literal["open", "ordered", "closing", "filled", "cancelled", "held"]
    filled_asset: str = Field(description="Token raw units delivered or burned so far.")
    filled_payment: str = Field(description="USDC raw units paid or received so far.")
    filled_tokens: str = Field(description="The same, in tokens.")
    filled_usd: str = Field(description="The same, in dollars.")
    reason: str | None


class ProcessorPlacedOut(BaseModel):
    order_id: int = Field(description="The processor's order id; the operator fills it from the broker.")
    wallet: str
    tx_hash: str
    fee_usd: str


class ProcessorCancelOut(BaseModel):
    order_id: int
    tx_hash: str = Field(description="The cancel request; the operator cancels and refunds on its next pass.")


class ProcessorResolveIn(_Input):
    resolution: Literal["retry", "cancel"] = Field(
        description="retry: send the refused step again; cancel: refund the requester, keep what was bought."
    )
    note: str = Field(min_length=1, max_length=500, pattern=TEXT, description="Why, for the audit trail.")


class AttestationMinterOut(BaseModel):
    ticker: str
    minter: str
    token: str


class AttestationOut(BaseModel):
    chain_id: int
    minters: list[AttestationMinterOut]
    open_now: bool = Field(
        description="Whether quotes are signed now: the exchange is in its regular session."
    )
    next_open: datetime | None = Field(description="When quotes are signed next, if not now.")
    spread_bps: int
    quote_ttl_seconds: int


class AttestationQuoteIn(_Input):
    ticker: str = Field(pattern=TICKER, description="The stock, e.g. AAPL.")
    side: Literal["buy", "sell"] = Field(
        description="buy: mint tokens for USDC; sell: redeem tokens for USDC."
    )
    quantity: str = Field(pattern=DECIMAL, description="Shares.")
    wallet: str | None = Field(
        default=None, pattern=ADDRESS, description="Your wallet; your first EVM wallet if omitted."
    )


class AttestationQuoteOut(BaseModel):
    """The `Quote` struct `mint_with_attestation` / `redeem_with_attestation` take, and its signature."""

    minter: str
    chain_id: int
    attestation_id: str
    user: str
    token: str
    price: str = Field(description="USDC raw units per whole token.")
    quantity: str = Field(description="Token raw units.")
    side: int
    expiry: int
    signature: str


class AttestationTradeOut(BaseModel):
    attestation_id: str
    ticker: str
    side: Literal["buy", "sell"]
    quantity: str = Field(description="Token raw units minted or redeemed.")
    usd: str = Field(description="Dollars paid or received.")
    tx_hash: str


class AttestationBackingOut(BaseModel):
    ticker: str
    custody: str
    outstanding: str
    inventory: str
    target: str
    to_buy: str
    to_sell: str
    quoted_buy: str
    quoted_sell: str
    usd_at_risk: str
    backed: bool


class ValuationOut(BaseModel):
    price: str = Field(description="USD per share, the issuer's valuation (not a market price).")
    as_of: datetime
    method: str
    source: str
    age_seconds: int


class PrivateCompanyOut(BaseModel):
    ticker: str
    name: str
    token: str
    valuation_feed: str
    valuation: ValuationOut | None


class PrivateHoldingOut(BaseModel):
    wallet: str
    shares: str
    locked: str = Field(description="Shares still in lock-up: they may not be transferred yet.")


class PrivateValuationIn(_Input):
    price: str = Field(pattern=DECIMAL, description="USD per share.")
    as_of: datetime
    method: Literal["409a", "priced_round", "tender_offer", "board"]
    source: str = Field(min_length=1, max_length=200, pattern=TEXT)


class PrivateIssuanceIn(_Input):
    round_id: int = Field(ge=1, le=2**32)
    wallet: str = Field(pattern=ADDRESS, description="An accredited investor's verified wallet.")
    shares: str = Field(pattern=DECIMAL)
    unlock_at: datetime | None = Field(default=None, description="End of the lock-up; none if omitted.")


class PrivateTransferIn(_Input):
    receiver: str = Field(pattern=ADDRESS)
    shares: str = Field(pattern=DECIMAL)
    wallet: str | None = Field(default=None, pattern=ADDRESS, description="Your wallet that holds them.")


class PrivateRejectIn(_Input):
    reason: str = Field(min_length=1, max_length=96, pattern=TEXT)


class PrivateRequestOut(BaseModel):
    id: int
    sender: str
    receiver: str
    shares: str
    status: str
    requested_at: datetime
    approvable: bool
    check: str | None = Field(description="What approving it would meet now, if it would be refused.")


class PrivateActionOut(BaseModel):
    id: str
    kind: str
    state: str
    request_id: int | None
    holder: str | None
    shares: str | None
    error: str | None


class PrivateRequestedOut(BaseModel):
    request_id: int
    wallet: str


class LedgerOrderIn(_Input):
    ticker: str = Field(pattern=TICKER, description="The stock, e.g. AAPL (its ledger asset is AAPL.L).")
    side: Literal["buy", "sell"]
    usd: str | None = Field(default=None, pattern=DECIMAL, description="A buy: the USD to spend, $1 or more.")
    shares: str | None = Field(default=None, pattern=DECIMAL, description="A sale: the shares to sell.")


class LedgerEventOut(BaseModel):
    at: str
    state: str
    reason: str


class LedgerOrderOut(BaseModel):
    id: str
    ticker: str
    side: str
    state: str
    filled_shares: str
    filled_usd: str
    reason: str | None
    events: list[LedgerEventOut] = Field(default_factory=list)
