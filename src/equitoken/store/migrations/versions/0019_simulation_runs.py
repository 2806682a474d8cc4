"""Simulation runs: each finished `equitoken simulate`, its parameters and its report"""

import sqlalchemy as sa
from alembic import op

revision = "0019_simulation_runs"
down_revision: str | None = "0018_exchange_ledger_splits"


def upgrade() -> None:
    op.create_table(
        "simulation_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("agents", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_simulation_runs_finished_at", "simulation_runs", ["finished_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_simulation_runs_finished_at", table_name="simulation_runs")
    op.drop_table("simulation_runs")
