"""exchange: members' account numbers, deposits into the hot wallet, and withdrawals from it"""

import sqlalchemy as sa
from alembic import op

revision = "0006_exchange"
down_revision: str | None = "0005_oracle"


def upgrade() -> None:
    op.create_table(
        "exchange_accounts",
        sa.Column("account", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("investor_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("account > 0", name="exchange_account_positive"),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.id"]),
        sa.PrimaryKeyConstraint("account"),
        sa.UniqueConstraint("investor_id"),
    )
    op.create_table(
        "exchange_deposit_cursors",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("hot_wallet", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "hot_wallet"),
    )
    op.create_table(
        "exchange_deposits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("asset", sa.String(length=10), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column("investor_id", sa.String(length=40), nullable=True),
        sa.Column("account", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(investor_id is null) = (account is null)", name="deposit_account_iff_investor"),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "tx_hash", "log_index", name="one_deposit_per_log"),
    )
    op.create_index("ix_exchange_deposits_sender", "exchange_deposits", ["sender"], unique=False)
    op.create_index("ix_exchange_deposits_investor_id", "exchange_deposits", ["investor_id"], unique=False)
    op.create_table(
        "exchange_withdrawals",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("investor_id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column("destination", sa.String(length=42), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status in ('requested', 'confirmed', 'failed')", name="exchange_withdrawal_status_known"
        ),
        sa.ForeignKeyConstraint(["investor_id"], ["investors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_exchange_withdrawals_investor_id", "exchange_withdrawals", ["investor_id"], unique=False
    )
    op.create_index("ix_exchange_withdrawals_status", "exchange_withdrawals", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_exchange_withdrawals_status", table_name="exchange_withdrawals")
    op.drop_index("ix_exchange_withdrawals_investor_id", table_name="exchange_withdrawals")
    op.drop_table("exchange_withdrawals")
    op.drop_index("ix_exchange_deposits_investor_id", table_name="exchange_deposits")
    op.drop_index("ix_exchange_deposits_sender", table_name="exchange_deposits")
    op.drop_table("exchange_deposits")
    op.drop_table("exchange_deposit_cursors")
    op.drop_table("exchange_accounts")
