"""Solana: addresses of up to 44 characters and signatures of up to 88; a request's payment wallet;
attestations kept without a transaction (Solana has no reserve feed)"""

import sqlalchemy as sa
from alembic import op

revision = "0010_solana"
down_revision: str | None = "0009_redemption_limit"


def upgrade() -> None:
    with op.batch_alter_table("wallets") as batch:
        batch.alter_column("address", type_=sa.String(44), existing_type=sa.String(42))
    with op.batch_alter_table("requests") as batch:
        batch.alter_column("wallet", type_=sa.String(44), existing_type=sa.String(42))
        batch.add_column(sa.Column("payment_wallet", sa.String(42), nullable=True))
    with op.batch_alter_table("chain_transactions") as batch:
        batch.alter_column("sender", type_=sa.String(44), existing_type=sa.String(42))
        batch.alter_column("to", type_=sa.String(44), existing_type=sa.String(42))
        batch.alter_column("tx_hash", type_=sa.String(88), existing_type=sa.String(66))
    with op.batch_alter_table("attestations") as batch:
        batch.alter_column("transaction_id", nullable=True, existing_type=sa.Integer())


def downgrade() -> None:
    with op.batch_alter_table("attestations") as batch:
        batch.alter_column("transaction_id", nullable=False, existing_type=sa.Integer())
    with op.batch_alter_table("chain_transactions") as batch:
        batch.alter_column("tx_hash", type_=sa.String(66), existing_type=sa.String(88))
        batch.alter_column("to", type_=sa.String(42), existing_type=sa.String(44))
        batch.alter_column("sender", type_=sa.String(42), existing_type=sa.String(44))
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("payment_wallet")
        batch.alter_column("wallet", type_=sa.String(42), existing_type=sa.String(44))
    with op.batch_alter_table("wallets") as batch:
        batch.alter_column("address", type_=sa.String(42), existing_type=sa.String(44))
