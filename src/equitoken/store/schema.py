"""The platform's tables. Amounts are integers in smallest units (see `model.quantities`).

Exactly-once rests on three kinds of rows written in the same transaction as the state change that
needs them: a unique idempotency key per request, a unique broker fill id per fill, and an outbox row
per on-chain transaction whose signed bytes are stored before they are broadcast.
"""

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on every backend (SQLite keeps no offset, so store UTC and restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value} cannot be stored: give it a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class InvestorRow(Base):
    """An onboarded investor: who they are for compliance, and their on-chain identity number."""

    __tablename__ = "investors"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    onchain_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(32))
    accredited: Mapped[bool] = mapped_column(Boolean)
    kyc_status: Mapped[str] = mapped_column(String(16))
    kyc_expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The registry state last written on-chain; differs from the columns above until synced.
    synced_version: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    wallets: Mapped[list["WalletRow"]] = relationship(back_populates="investor", order_by="WalletRow.address")


class WalletRow(Base):
    """A wallet bound to an investor, mirrored in the on-chain identity registry."""

    __tablename__ = "wallets"

    # An EVM address (42 characters) or a Solana one (up to 44).
    address: Mapped[str] = mapped_column(String(44), primary_key=True)
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id"))
    registered_on_chain: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    investor: Mapped[InvestorRow] = relationship(back_populates="wallets")


class RequestRow(Base):
    """A mint or redeem request from an authorised participant, and where it stands."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id"))
    # The wallet holding the tokens, on the request's chain.
    wallet: Mapped[str] = mapped_column(String(44))
    # The EVM wallet that pays USDC and is paid, when it is not `wallet` (a request on Solana).
    payment_wallet: Mapped[str | None] = mapped_column(String(42))
    ticker: Mapped[str] = mapped_column(String(10))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    token_amount: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(24), index=True)
    # Quote: the reference price, the escrow taken for a mint, the fee schedule applied.
    quote_price: Mapped[int] = mapped_column(BigInteger)
    # A redemption's limit: the broker sells no lower (Price units); None sells at the market.
    limit_price: Mapped[int | None] = mapped_column(BigInteger)
    escrow_usd: Mapped[int] = mapped_column(BigInteger)
    fee_flat_usd: Mapped[int] = mapped_column(BigInteger)
    fee_bps: Mapped[int] = mapped_column(Integer)
    notional_usd: Mapped[int] = mapped_column(BigInteger)
    # Settlement, filled in as the request progresses.
    filled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    filled_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    settled_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens_settled: Mapped[int] = mapped_column(BigInteger, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("kind in ('mint', 'redeem')", name="kind_known"),
        Index("ix_requests_investor_created", "investor_id", "created_at"),
    )


class RequestEventRow(Base):
    """One state change of a request, with when and why."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)


class FillRow(Base):
    """A broker fill for a request; its id is the broker's, so a fill is recorded once."""

    __tablename__ = "fills"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    notional_usd: Mapped[int] = mapped_column(BigInteger)
    token_amount: Mapped[int] = mapped_column(BigInteger)
    filled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Per-fill progress: the custody entry, then the on-chain settlement (mint or burn).
    custody_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    settled: Mapped[bool] = mapped_column(Boolean, default=False)


class LedgerEntryRow(Base):
    """A balanced journal entry of the custody ledger, linked to what caused it."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    memo: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(ForeignKey("requests.id"), index=True)
    fill_id: Mapped[str | None] = mapped_column(String(80))
    # One entry per cause: a second attempt to post the same movement fails on this key.
    cause: Mapped[str] = mapped_column(String(120), unique=True)

    lines: Mapped[list["LedgerLineRow"]] = relationship(back_populates="entry", order_by="LedgerLineRow.id")


class LedgerLineRow(Base):
    """One side of a journal entry: an amount (signed; debit positive) of one asset in one account."""

    __tablename__ = "ledger_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(120), index=True)
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)

    entry: Mapped[LedgerEntryRow] = relationship(back_populates="lines")


class ChainTransactionRow(Base):
    """An on-chain transaction, stored signed before it is broadcast (the outbox)."""

    __tablename__ = "chain_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # What the transaction does, unique: e.g. "mint:<fill id>", so it is prepared at most once.
    purpose: Mapped[str] = mapped_column(String(160), unique=True)
    # What it serves: "request:<id>", "corporate-action:<id>", "withdrawal:<id>", "pool-seed"...
    owner: Mapped[str | None] = mapped_column(String(120), index=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    # EVM: the sender, its nonce, the contract called, the calldata. Solana: the fee payer, the payer's
    # transactions numbered in order, the first program called, the message.
    sender: Mapped[str] = mapped_column(String(44))
    nonce: Mapped[int] = mapped_column(BigInteger)
    to: Mapped[str] = mapped_column(String(44))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    # The transaction hash (EVM) or first signature (Solana).
    tx_hash: Mapped[str] = mapped_column(String(88), unique=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("chain_id", "sender", "nonce", name="one_transaction_per_nonce"),)


class AttestationRow(Base):
    """A reserve attestation pushed to a chain's reserve feed: custody at a moment, for one instrument."""

    __tablename__ = "attestations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(String(10), index=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    custody_shares: Mapped[int] = mapped_column(BigInteger)
    reserve_amount: Mapped[int] = mapped_column(BigInteger)
    # Chain time (Unix seconds) the attestation says custody was observed at.
    observed_at: Mapped[int] = mapped_column(BigInteger)
    # The reserve feed's update; None on a chain without a feed (Solana), where the record is the
    # attestation the proofs publish.
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("chain_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ApiKeyRow(Base):
    """An API key: only its SHA-256 is kept; the role it grants and, for an investor's key, whose it is."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    investor_id: Mapped[str | None] = mapped_column(ForeignKey("investors.id"))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("role in ('operator', 'participant', 'investor')", name="api_key_role_known"),
        CheckConstraint(
            "(role = 'operator') = (investor_id is null)", name="api_key_investor_iff_not_operator"
        ),
    )


class ApiIdempotencyRow(Base):
    """The response the API gave to a value-moving call, under the caller's key and `Idempotency-Key`."""

    __tablename__ = "api_idempotency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    # SHA-256 of the method, path and canonical body: the same key on a different call is a conflict.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key", name="one_response_per_key"),)


class CorporateActionRow(Base):
    """A corporate action of one instrument (split, reverse split, cash dividend, management fee).

    Multipliers are 18-decimal integers that can exceed 64 bits, so they are kept as decimal text.
    """

    __tablename__ = "corporate_actions"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    ticker: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    ex_date: Mapped[date] = mapped_column(Date())
    # US T+1 settlement: the record date is the ex-date.
    record_date: Mapped[date] = mapped_column(Date())
    # The ex-date's regular-session open, when the action takes effect.
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ratio_new: Mapped[int] = mapped_column(BigInteger)
    ratio_old: Mapped[int] = mapped_column(BigInteger)
    # Dividend as paid per share, in price units (1e-8 dollar).
    amount_per_share: Mapped[int] = mapped_column(BigInteger)
    # The instrument's dividend policy and fee when the action was recorded.
    policy: Mapped[str | None] = mapped_column(String(16))
    fee_bps_per_year: Mapped[int] = mapped_column(Integer)
    fee_periods_per_year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(24), index=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    # Fixed when the multiplier is scheduled: chain time of `effective_at`, and the multipliers.
    chain_effective_at: Mapped[int | None] = mapped_column(BigInteger)
    record_block: Mapped[int | None] = mapped_column(BigInteger)
    old_multiplier: Mapped[str | None] = mapped_column(String(40))
    new_multiplier: Mapped[str | None] = mapped_column(String(40))
    # Dividend: shares the token stood for at the record date, cash received, shares bought.
    record_shares: Mapped[int] = mapped_column(BigInteger, default=0)
    cash_received_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    shares_bought: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("ticker", "kind", "ex_date", name="one_action_per_instrument_kind_day"),
        CheckConstraint(
            "kind in ('split', 'reverse_split', 'cash_dividend', 'management_fee')",
            name="corporate_action_kind_known",
        ),
        CheckConstraint("ratio_new > 0 and ratio_old > 0", name="corporate_action_ratio_positive"),
    )


class CorporateActionEventRow(Base):
    """One state change (or note) of a corporate action, with when and why."""

    __tablename__ = "corporate_action_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[str] = mapped_column(ForeignKey("corporate_actions.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)


class DividendPaymentRow(Base):
    """A dividend (or treaty refund) owed to a holder of record: one per action, chain and holder."""

    __tablename__ = "dividend_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[str] = mapped_column(ForeignKey("corporate_actions.id"), index=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    holder: Mapped[str] = mapped_column(String(42))
    investor_id: Mapped[str | None] = mapped_column(ForeignKey("investors.id"))
    jurisdiction: Mapped[str | None] = mapped_column(String(2))
    withholding_bps: Mapped[int] = mapped_column(Integer)
    raw_balance: Mapped[int] = mapped_column(BigInteger)
    record_shares: Mapped[int] = mapped_column(BigInteger)
    amount_usd: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("action_id", "chain_id", "holder", name="one_payment_per_holder"),)


class WideInteger(TypeDecorator[int]):
    """An integer of any size (a uint256 balance, an int256 answer), kept as its decimal digits.

    BigInteger stops at 2**63, and SQLite turns a larger NUMERIC into a float; text keeps every digit.
    """

    impl = String(78)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{value!r} is not an integer")
        return str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class IndexCursorRow(Base):
    """How far the indexer has followed one chain: the last indexed block, and the chain's genesis."""

    __tablename__ = "index_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # A node that comes back with another genesis block is another chain, not a reorganisation.
    genesis_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    block_timestamp: Mapped[int] = mapped_column(BigInteger)


class IndexBlockRow(Base):
    """A recently indexed block's hash, kept to find where a reorganised chain parted from ours."""

    __tablename__ = "index_blocks"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int] = mapped_column(BigInteger)


class IndexEventRow(Base):
    """The journal: one decoded token, settlement-token, registry or feed event, where and what it said."""

    __tablename__ = "index_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(88))
    log_index: Mapped[int] = mapped_column(Integer)
    contract: Mapped[str] = mapped_column(String(44))
    # The kind of contract (the indexer's `Source`): only "token" events move stock holdings.
    source: Mapped[str] = mapped_column(String(16))
    # The instrument the token or feed belongs to, or the settlement token's symbol; None for the registry.
    ticker: Mapped[str | None] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(40))
    # A Transfer's receiver, kept apart from `args` so transfers into one address are found by index.
    receiver: Mapped[str | None] = mapped_column(String(44))
    # The decoded arguments as JSON (addresses checksummed, integers exact).
    args: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("chain_id", "block_number", "log_index", name="one_event_per_log"),
        Index("ix_index_events_receiver", "chain_id", "receiver", "block_number", "log_index"),
    )


class IndexBalanceRow(Base):
    """A holder's raw token balance on one chain (rows at zero are dropped)."""

    __tablename__ = "index_balances"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token: Mapped[str] = mapped_column(String(44), primary_key=True)
    holder: Mapped[str] = mapped_column(String(44), primary_key=True, index=True)
    ticker: Mapped[str] = mapped_column(String(10), index=True)
    raw: Mapped[int] = mapped_column(WideInteger())


class IndexSupplyRow(Base):
    """A token's raw total supply on one chain."""

    __tablename__ = "index_supply"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token: Mapped[str] = mapped_column(String(44), primary_key=True)
    ticker: Mapped[str] = mapped_column(String(10), index=True)
    raw: Mapped[int] = mapped_column(WideInteger())


class IndexSupplyPointRow(Base):
    """A token's raw total supply after a block that changed it: the points of the supply chart."""

    __tablename__ = "index_supply_points"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token: Mapped[str] = mapped_column(String(44), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticker: Mapped[str] = mapped_column(String(10), index=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[int] = mapped_column(WideInteger())


class IndexMultiplierEventRow(Base):
    """A UI multiplier scheduled (`set`) or a pending one cancelled (`cancel`) on a token."""

    __tablename__ = "index_multiplier_events"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(44))
    ticker: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    # 18-decimal multipliers; for a cancel, `new_multiplier` is the one dropped and `old` is null.
    old_multiplier: Mapped[int | None] = mapped_column(WideInteger())
    new_multiplier: Mapped[int] = mapped_column(WideInteger())
    set_at: Mapped[int] = mapped_column(BigInteger)
    effective_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("kind in ('set', 'cancel')", name="multiplier_event_kind_known"),)


class IndexWalletRow(Base):
    """A wallet the identity registry binds to an investor's on-chain id."""

    __tablename__ = "index_wallets"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    wallet: Mapped[str] = mapped_column(String(42), primary_key=True)
    investor_id: Mapped[int] = mapped_column(WideInteger())
    block_number: Mapped[int] = mapped_column(BigInteger)


class IndexInvestorRow(Base):
    """An investor as the identity registry last described them."""

    __tablename__ = "index_investors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    investor_id: Mapped[int] = mapped_column(WideInteger(), primary_key=True)
    # ISO 3166 numeric code; None while only a freeze is known.
    country: Mapped[int | None] = mapped_column(Integer)
    kyc_expiry: Mapped[int | None] = mapped_column(BigInteger)
    accredited: Mapped[bool] = mapped_column(Boolean, default=False)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    block_number: Mapped[int] = mapped_column(BigInteger)


class IndexFeedRoundRow(Base):
    """A round of an instrument's price or reserve feed."""

    __tablename__ = "index_feed_rounds"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    feed: Mapped[str] = mapped_column(String(42), primary_key=True)
    round_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticker: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    answer: Mapped[int] = mapped_column(WideInteger())
    started_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    # Market status (price feeds): 0 unknown, 1 open, 2 closed, 3 halted.
    status: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("kind in ('price', 'reserve')", name="feed_kind_known"),)


class TradingHaltRow(Base):
    """A trading halt of one instrument, in force from `starts_at` until `ends_at` (open while null)."""

    __tablename__ = "trading_halts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(String(10))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        # Declaring the same halt twice finds this row instead of adding another.
        UniqueConstraint("ticker", "starts_at", name="one_halt_per_start"),
        CheckConstraint("ends_at is null or ends_at > starts_at", name="halt_ends_after_start"),
    )


class VenueTradeRow(Base):
    """A trade on one of our own venues: what the oracle prices a closed market from."""

    __tablename__ = "venue_trades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(40))
    # The venue's own id of the trade, so a venue that records a trade again after a crash adds nothing.
    trade_id: Mapped[str] = mapped_column(String(80))
    ticker: Mapped[str] = mapped_column(String(10))
    price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    traded_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("venue", "trade_id", name="one_row_per_venue_trade"),
        Index("ix_venue_trades_ticker_traded_at", "ticker", "traded_at"),
        CheckConstraint("price > 0", name="venue_trade_price_positive"),
        CheckConstraint("quantity > 0", name="venue_trade_quantity_positive"),
    )


class ExchangeAccountRow(Base):
    """An investor's account number on the order-book exchange, opened on first use."""

    __tablename__ = "exchange_accounts"

    # Numbered by the database, so members opening accounts at once never collide on a number.
    account: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (CheckConstraint("account > 0", name="exchange_account_positive"),)


class ExchangeDepositCursorRow(Base):
    """Where the exchange stands in the indexed transfers into its hot wallet on one chain.

    (block number, log index) of the last transfer taken; every indexed transfer at or before it has
    been recorded. A log index of -1 stands before the block's first log.
    """

    __tablename__ = "exchange_deposit_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hot_wallet: Mapped[str] = mapped_column(String(42), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)


class ExchangeDepositRow(Base):
    """A confirmed transfer into the exchange's hot wallet; unattributed while no investor owns the sender."""

    __tablename__ = "exchange_deposits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[str] = mapped_column(String(42))
    asset: Mapped[str] = mapped_column(String(10))
    sender: Mapped[str] = mapped_column(String(42), index=True)
    amount: Mapped[int] = mapped_column(WideInteger())
    # Null for a transfer from a wallet no investor owns: recorded, never credited to anyone.
    investor_id: Mapped[str | None] = mapped_column(ForeignKey("investors.id"), index=True)
    account: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("chain_id", "tx_hash", "log_index", name="one_deposit_per_log"),
        CheckConstraint("(investor_id is null) = (account is null)", name="deposit_account_iff_investor"),
    )


class ExchangeWithdrawalRow(Base):
    """A withdrawal from the exchange to an investor's own wallet, and where it stands."""

    __tablename__ = "exchange_withdrawals"

    # The caller's id: asking again with the same id finds this row instead of withdrawing twice.
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id"), index=True)
    account: Mapped[int] = mapped_column(Integer)
    asset: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(WideInteger())
    destination: Mapped[str] = mapped_column(String(42))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    # requested (debited once processed) -> confirmed | failed (credited back).
    status: Mapped[str] = mapped_column(String(12), index=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint(
            "status in ('requested', 'confirmed', 'failed')", name="exchange_withdrawal_status_known"
        ),
    )


class CfdTransferRow(Base):
    """A move of USDC between an investor's exchange account and its CFD account, and where it stands."""

    __tablename__ = "cfd_transfers"

    # The caller's id: asking again with the same id finds this row instead of moving the USDC twice.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.id"), index=True)
    # The exchange account number, which is also the CFD account number.
    account: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(12))
    amount: Mapped[int] = mapped_column(WideInteger())
    # recorded -> debited (the source gave it) -> credited (the destination has it) | failed (never debited).
    state: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("direction in ('to_cfd', 'from_cfd')", name="cfd_transfer_direction_known"),
        CheckConstraint(
            "state in ('recorded', 'debited', 'credited', 'failed')", name="cfd_transfer_state_known"
        ),
    )


class BridgeTransferRow(Base):
    """A bridge message seen burned at its source, and how far its mint at the destination has come."""

    __tablename__ = "bridge_transfers"

    # The message id (0x-hex keccak256 of the message, see `bridge.message`).
    id: Mapped[str] = mapped_column(String(66), primary_key=True)
    ticker: Mapped[str] = mapped_column(String(16), index=True)
    source_chain: Mapped[int] = mapped_column(BigInteger)
    dest_chain: Mapped[int] = mapped_column(BigInteger, index=True)
    # Where the burn is: an EVM transaction hash and log index, or a Solana signature (log index 0).
    source_tx: Mapped[str] = mapped_column(String(90))
    source_log_index: Mapped[int] = mapped_column(Integer)
    source_block: Mapped[int] = mapped_column(BigInteger)
    # The message as JSON (`BridgeMessage.to_json`): what the attesters sign and the destination checks.
    message: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(66), index=True)
    receiver: Mapped[str] = mapped_column(String(66), index=True)
    # Shared decimals (8): the raw amount of an 8-decimal token at either end.
    amount: Mapped[int] = mapped_column(WideInteger())
    # burned -> attested -> minted | held -> released | returned
    state: Mapped[str] = mapped_column(String(12), index=True)
    # The quorum's attestations, 0x-hex and ordered by signer, once attested.
    attestations: Mapped[str | None] = mapped_column(Text)
    # The message this one returns to its sender (a held transfer sent back), if any.
    returns: Mapped[str | None] = mapped_column(String(66))
    # What the compliance agent decided for a held transfer: "release:<wallet>" or "return".
    resolution: Mapped[str | None] = mapped_column(String(100))
    dest_tx: Mapped[str | None] = mapped_column(String(90))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("source_chain", "source_tx", "source_log_index", name="one_transfer_per_burn"),
        CheckConstraint(
            "state in ('burned', 'attested', 'minted', 'held', 'released', 'returned')",
            name="bridge_transfer_state_known",
        ),
    )


class BridgeEventRow(Base):
    """One step of a bridge transfer, with when and why: its audit trail."""

    __tablename__ = "bridge_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("bridge_transfers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)


class BridgeCursorRow(Base):
    """How far the relayer has read a source chain for burns: the last block (or slot) it has seen."""

    __tablename__ = "bridge_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger)


class ProcessorOrderRow(Base):
    """An order placed with an on-chain order processor, and how far the operator has filled it."""

    __tablename__ = "processor_orders"

    # "<chain id>:<processor address>:<order id>": the processor's own order id is per contract.
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    processor: Mapped[str] = mapped_column(String(42))
    order_id: Mapped[int] = mapped_column(BigInteger)
    ticker: Mapped[str] = mapped_column(String(16), index=True)
    requester: Mapped[str] = mapped_column(String(42), index=True)
    recipient: Mapped[str] = mapped_column(String(42))
    sell: Mapped[bool] = mapped_column(Boolean)
    # "market" | "limit"; "day" | "gtc" | "ioc" | "fok" (the processor's codes, named).
    order_type: Mapped[str] = mapped_column(String(6))
    time_in_force: Mapped[str] = mapped_column(String(3))
    # The processor's units: token raw units, USDC raw units, USDC raw units per whole token.
    asset_quantity: Mapped[int] = mapped_column(WideInteger())
    payment_quantity: Mapped[int] = mapped_column(WideInteger())
    limit_price: Mapped[int] = mapped_column(WideInteger())
    fee: Mapped[int] = mapped_column(WideInteger())
    # open -> ordered -> closing -> filled | cancelled; held when the chain refuses a fill.
    state: Mapped[str] = mapped_column(String(10), index=True)
    filled_asset: Mapped[int] = mapped_column(WideInteger(), default=0)
    filled_payment: Mapped[int] = mapped_column(WideInteger(), default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("chain_id", "processor", "order_id", name="one_row_per_processor_order"),
        CheckConstraint(
            "state in ('open', 'ordered', 'closing', 'filled', 'cancelled', 'held')",
            name="processor_order_state_known",
        ),
    )


class ProcessorFillRow(Base):
    """A broker fill of a processor order; its id is the broker's, so a fill is recorded once."""

    __tablename__ = "processor_fills"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("processor_orders.id"), index=True)
    shares: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    notional_usd: Mapped[int] = mapped_column(BigInteger)
    # What the processor's `fill_order` is called with for this fill.
    token_amount: Mapped[int] = mapped_column(WideInteger())
    payment: Mapped[int] = mapped_column(WideInteger())
    filled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    custody_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    settled: Mapped[bool] = mapped_column(Boolean, default=False)


class ProcessorEventRow(Base):
    """One step of a processor order, with when and why: its audit trail."""

    __tablename__ = "processor_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("processor_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[str | None] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)


class ProcessorCursorRow(Base):
    """The next order id the operator has not yet read from a processor."""

    __tablename__ = "processor_cursors"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processor: Mapped[str] = mapped_column(String(42), primary_key=True)
    next_order_id: Mapped[int] = mapped_column(BigInteger)


class AttestationQuoteRow(Base):
    """A signed attestation quote (or an inventory restock) and how far its hedge has come."""

    __tablename__ = "attestation_quotes"

    # The attestation id as 0x-hex (a restock: "restock-" and hex).
    id: Mapped[str] = mapped_column(String(66), primary_key=True)
    # mint | redeem | restock
    kind: Mapped[str] = mapped_column(String(8))
    ticker: Mapped[str] = mapped_column(String(16), index=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    minter: Mapped[str] = mapped_column(String(42))
    # The quote's user (a restock: the treasury).
    wallet: Mapped[str] = mapped_column(String(42), index=True)
    # The quote as signed: USDC per whole token, raw token units, unix seconds; its USD notional.
    price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    expiry: Mapped[int] = mapped_column(BigInteger)
    notional_usd: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(132))
    # The shares the quote moves out of (mint) or into (redeem) the inventory: what the hedge trades.
    shares: Mapped[int] = mapped_column(BigInteger)
    filled_shares: Mapped[int] = mapped_column(BigInteger, default=0)
    filled_usd: Mapped[int] = mapped_column(BigInteger, default=0)
    # quoted -> executed -> hedging -> hedged | expired
    state: Mapped[str] = mapped_column(String(10), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint(
            "state in ('quoted', 'executed', 'hedging', 'hedged', 'expired')",
            name="attestation_quote_state_known",
        ),
        CheckConstraint("kind in ('mint', 'redeem', 'restock')", name="attestation_quote_kind_known"),
    )


class AttestationQuoteEventRow(Base):
    """One step of an attestation quote's hedge, with when and why: its audit trail."""

    __tablename__ = "attestation_quote_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("attestation_quotes.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[str | None] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)


class AttestationFillRow(Base):
    """A broker fill of a hedge; its id is the broker's, so a fill is recorded and posted once."""

    __tablename__ = "attestation_fills"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("attestation_quotes.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    notional_usd: Mapped[int] = mapped_column(BigInteger)
    filled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    custody_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))


class PrivateActionRow(Base):
    """One thing the issuer of a private company does on its chain: record a valuation, issue shares in a
    round, buy shares back, approve or reject a transfer request. Its id is its outbox purpose, so each
    is sent at most once; a confirmed valuation row is also the issuer's off-chain record of it."""

    __tablename__ = "private_actions"

    # "private:<ticker>:<kind>:<key>", also the purpose of its one transaction.
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    ticker: Mapped[str] = mapped_column(String(16), index=True)
    # valuation | issue | buy_back | approve | reject
    kind: Mapped[str] = mapped_column(String(10), index=True)
    # pending (stored, its transaction not known to be mined) -> done | failed
    state: Mapped[str] = mapped_column(String(8), index=True)
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    holder: Mapped[str | None] = mapped_column(String(42))
    # Token raw units.
    amount: Mapped[int | None] = mapped_column(WideInteger())
    unlock_at: Mapped[int | None] = mapped_column(BigInteger)
    round_id: Mapped[int | None] = mapped_column(BigInteger)
    # `Price` units (USD per share, 8 decimals).
    price: Mapped[int | None] = mapped_column(BigInteger)
    as_of: Mapped[datetime | None] = mapped_column(UtcDateTime())
    method: Mapped[str | None] = mapped_column(String(16))
    # A valuation's source, a rejection's reason.
    note: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint(
            "kind in ('valuation', 'issue', 'buy_back', 'approve', 'reject')",
            name="private_action_kind_known",
        ),
        CheckConstraint("state in ('pending', 'done', 'failed')", name="private_action_state_known"),
    )


class ExchangeLedgerOrderRow(Base):
    """An exchange account's purchase or sale of ledger stock (shares held only in exchange accounts)
    through the issuer, and how far it has come."""

    __tablename__ = "exchange_ledger_orders"

    # The caller's id: asking again with the same id finds this row instead of trading twice.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[int] = mapped_column(Integer, index=True)
    ticker: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(4))
    # A buy: the USDC units to spend; a sell: the ledger units (10^-9 share) to sell.
    amount: Mapped[int] = mapped_column(WideInteger())
    # requested -> ordered (the broker has it) -> settling (custody posted) -> done | failed.
    state: Mapped[str] = mapped_column(String(10), index=True)
    filled_shares: Mapped[int] = mapped_column(WideInteger(), default=0)
    # A buy: the USDC the account paid; a sell: the USDC it received.
    filled_usd: Mapped[int] = mapped_column(WideInteger(), default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("side in ('buy', 'sell')", name="exchange_ledger_order_side_known"),
        CheckConstraint(
            "state in ('requested', 'ordered', 'settling', 'done', 'failed')",
            name="exchange_ledger_order_state_known",
        ),
    )


class ExchangeLedgerEventRow(Base):
    """One step of a ledger order, with when and why: its audit trail."""

    __tablename__ = "exchange_ledger_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("exchange_ledger_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_state: Mapped[str | None] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)


class ExchangeLedgerSplitRow(Base):
    """A split (or reverse split) the exchange's ledger balances have followed: each account's balance of
    the ticker's ledger asset scaled by the ratio, as custody's ledger allocation was."""

    __tablename__ = "exchange_ledger_splits"

    action_id: Mapped[str] = mapped_column(ForeignKey("corporate_actions.id"), primary_key=True)
    ticker: Mapped[str] = mapped_column(String(16))
    accounts: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SimulationRunRow(Base):
    """A finished `equitoken simulate` run: what it was asked for, when it ran, and its report."""

    __tablename__ = "simulation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seed: Mapped[int] = mapped_column(BigInteger)
    agents: Mapped[int] = mapped_column(Integer)
    week: Mapped[date] = mapped_column(Date)
    parameters: Mapped[str] = mapped_column(Text)  # JSON
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    report: Mapped[str] = mapped_column(Text)  # JSON
