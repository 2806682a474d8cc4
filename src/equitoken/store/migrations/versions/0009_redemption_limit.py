"""a redemption can carry a limit price"""

import sqlalchemy as sa
from alembic import op

revision = "0009_redemption_limit"
down_revision: str | None = "0008_outbox_owner"


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("limit_price", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("limit_price")
