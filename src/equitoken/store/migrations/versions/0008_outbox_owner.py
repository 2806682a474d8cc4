"""the outbox names the owner of each transaction, any durable subsystem, not only an issuer request"""

import sqlalchemy as sa
from alembic import op

revision = "0008_outbox_owner"
down_revision: str | None = "0007_settlement_transfers"


def upgrade() -> None:
    with op.batch_alter_table("chain_transactions") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=120), nullable=True))
    op.execute("UPDATE chain_transactions SET owner = 'request:' || request_id WHERE request_id IS NOT NULL")
    with op.batch_alter_table("chain_transactions") as batch:
        batch.drop_index("ix_chain_transactions_request_id")
        batch.drop_column("request_id")
        batch.create_index("ix_chain_transactions_owner", ["owner"])


def downgrade() -> None:
    with op.batch_alter_table("chain_transactions") as batch:
        batch.add_column(sa.Column("request_id", sa.String(length=40), nullable=True))
    op.execute("UPDATE chain_transactions SET request_id = substr(owner, 9) WHERE owner LIKE 'request:%'")
    with op.batch_alter_table("chain_transactions") as batch:
        batch.drop_index("ix_chain_transactions_owner")
        batch.drop_column("owner")
        batch.create_index("ix_chain_transactions_request_id", ["request_id"])
        batch.create_foreign_key(
            "fk_chain_transactions_request_id_requests", "requests", ["request_id"], ["id"]
        )
