"""Attestation quotes: each signed quote (or inventory restock), its hedge's steps and fills"""

import sqlalchemy as sa
from alembic import op

revision = "0015_attestation"
down_revision: str | None = "0014_order_processor"


def upgrade() -> None:
    op.create_table(
        "attestation_quotes",
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ticker", sa.String(length=16), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("minter", sa.String(length=42), nullable=False),
        sa.Column("wallet", sa.String(length=42), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("expiry", sa.BigInteger(), nullable=False),
        sa.Column("notional_usd", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("filled_shares", sa.BigInteger(), nullable=False),
        sa.Column("filled_usd", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state in ('quoted', 'executed', 'hedging', 'hedged', 'expired')",
            name="attestation_quote_state_known",
        ),
        sa.CheckConstraint("kind in ('mint', 'redeem', 'restock')", name="attestation_quote_kind_known"),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("ticker", "wallet", "state"):
        op.create_index(f"ix_attestation_quotes_{column}", "attestation_quotes", [column], unique=False)
    op.create_table(
        "attestation_quote_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("quote_id", sa.String(length=66), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=True),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["quote_id"], ["attestation_quotes.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_attestation_quote_events_quote_id", "attestation_quote_events", ["quote_id"], unique=False
    )
    op.create_table(
        "attestation_fills",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("quote_id", sa.String(length=66), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("notional_usd", sa.BigInteger(), nullable=False),
        sa.Column("filled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("custody_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["quote_id"], ["attestation_quotes.id"]),
        sa.ForeignKeyConstraint(["custody_entry_id"], ["ledger_entries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attestation_fills_quote_id", "attestation_fills", ["quote_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attestation_fills_quote_id", table_name="attestation_fills")
    op.drop_table("attestation_fills")
    op.drop_index("ix_attestation_quote_events_quote_id", table_name="attestation_quote_events")
    op.drop_table("attestation_quote_events")
    for column in ("ticker", "wallet", "state"):
        op.drop_index(f"ix_attestation_quotes_{column}", table_name="attestation_quotes")
    op.drop_table("attestation_quotes")
