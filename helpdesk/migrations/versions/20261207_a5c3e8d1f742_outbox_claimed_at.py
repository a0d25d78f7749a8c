"""outbox: when a sender claimed a message it is sending (claimed_at)

Revision ID: a5c3e8d1f742
Revises: d7cf9c5168b5
Create Date: 2026-12-07 11:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

from helpdesk.core.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'a5c3e8d1f742'
down_revision = 'd7cf9c5168b5'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for every message there is: a claim in flight during the upgrade shows as
    # waiting or to be tried again until its sender records what became of it.
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
