"""Sync runs record "cancelled": a run stopped by a deactivation is not a failure

Revision ID: 0007_sync_outcomes
Revises: 0006_drop_page_cache
Create Date: 2026-12-02 01:00:00

The stored outcomes are those of `hiveo.sync.outcomes.Outcome` that a run
record can hold: success, failed, cancelled. Runs recorded before this
migration as "failed" although a deactivation stopped them stay "failed":
their error text is the only trace, and it is not a reliable one.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007_sync_outcomes'
down_revision = '0006_drop_page_cache'
branch_labels = None
depends_on = None

NAME = 'outcome_known'


def _replace_check(condition):
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sync_runs_outcome_known'), type_='check')
        batch_op.create_check_constraint(NAME, condition)


def upgrade():
    _replace_check("outcome in ('success', 'failed', 'cancelled')")


def downgrade():
    # The older schema has no word for it: a cancelled run becomes a failed one.
    op.execute("UPDATE sync_runs SET outcome = 'failed' WHERE outcome = 'cancelled'")
    _replace_check("outcome in ('success', 'failed')")
