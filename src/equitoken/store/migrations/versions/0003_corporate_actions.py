"""corporate actions: actions, their events, dividend payments per holder"""

import sqlalchemy as sa
from alembic import op

revision = "0003_corporate_actions"
down_revision: str | None = "0002_indexer"


def upgrade() -> None:
    op.create_table(
        "corporate_actions",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ex_date", sa.Date(), nullable=False),
        sa.Column("record_date", sa.Date(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ratio_new", sa.BigInteger(), nullable=False),
        sa.Column("ratio_old", sa.BigInteger(), nullable=False),
        sa.Column("amount_per_share", sa.BigInteger(), nullable=False),
        sa.Column("policy", sa.String(length=16), nullable=True),
        sa.Column("fee_bps_per_year", sa.Integer(), nullable=False),
        sa.Column("fee_periods_per_year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("chain_effective_at", sa.BigInteger(), nullable=True),
        sa.Column("record_block", sa.BigInteger(), nullable=True),
        sa.Column("old_multiplier", sa.String(length=40), nullable=True),
        sa.Column("new_multiplier", sa.String(length=40), nullable=True),
        sa.Column("record_shares", sa.BigInteger(), nullable=False),
        sa.Column("cash_received_usd", sa.BigInteger(), nullable=False),
        sa.Column("shares_bought", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind in ('split', 'reverse_split', 'cash_dividend', 'management_fee')",
            name="corporate_action_kind_known",
        ),
        sa.CheckConstraint("ratio_new > 0 and ratio_old > 0", name="corporate_action_ratio_positive"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticker", "kind", "ex_date", name="one_action_per_instrument_kind_day"),
    )
    op.create_index(op.f("ix_corporate_actions_state"), "corporate_actions", ["state"], unique=False)
    op.create_table(
        "corporate_action_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_id", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["corporate_actions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_corporate_action_events_action_id"), "corporate_action_events", ["action_id"], unique=False
    )
    op.create_table(
        "dividend_payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_id", sa.String(length=80), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("investor_id", sa.String(length=40), nullable=True),
        sa.Column("jurisdiction", sa.String(length=2), nullable=True),
        sa.Column("withholding_bps", sa.Integer(), nullable=False),
        sa.Column("raw_balance", sa.BigInteger(), nullable=False),
        sa.Column("record_shares", sa.BigInteger(), nullable=False),
        sa.Column("amount_usd", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["corporate_actions.id"]),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("action_id", "chain_id", "holder", name="one_payment_per_holder"),
    )
    op.create_index(op.f("ix_dividend_payments_action_id"), "dividend_payments", ["action_id"], unique=False)
    op.create_index(op.f("ix_dividend_payments_state"), "dividend_payments", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dividend_payments_state"), table_name="dividend_payments")
    op.drop_index(op.f("ix_dividend_payments_action_id"), table_name="dividend_payments")
    op.drop_table("dividend_payments")
    op.drop_index(op.f("ix_corporate_action_events_action_id"), table_name="corporate_action_events")
    op.drop_table("corporate_action_events")
    op.drop_index(op.f("ix_corporate_actions_state"), table_name="corporate_actions")
    op.drop_table("corporate_actions")
