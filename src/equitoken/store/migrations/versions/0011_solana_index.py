"""the indexer follows Solana: token and holder addresses of up to 44 characters, signatures of up to 88"""

import sqlalchemy as sa
from alembic import op

revision = "0011_solana_index"
down_revision: str | None = "0010_solana"

# (table, column, EVM width, width with Solana)
_WIDENED = (
    ("index_events", "tx_hash", 66, 88),
    ("index_events", "contract", 42, 44),
    ("index_events", "receiver", 42, 44),
    ("index_balances", "token", 42, 44),
    ("index_balances", "holder", 42, 44),
    ("index_supply", "token", 42, 44),
    ("index_supply_points", "token", 42, 44),
    ("index_multiplier_events", "token", 42, 44),
)


def upgrade() -> None:
    for table, column, narrow, wide in _WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(wide), existing_type=sa.String(narrow))


def downgrade() -> None:
    for table, column, narrow, wide in reversed(_WIDENED):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(narrow), existing_type=sa.String(wide))
