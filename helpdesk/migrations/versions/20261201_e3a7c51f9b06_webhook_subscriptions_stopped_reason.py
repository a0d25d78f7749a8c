"""webhook subscriptions: why and when the sender stopped one (stopped_reason, stopped_at)

Revision ID: e3a7c51f9b06
Revises: b61d0c9e4f21
Create Date: 2026-12-01 23:55:00.000000

"""
import sqlalchemy as sa
from alembic import op

from helpdesk.core.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'e3a7c51f9b06'
down_revision = 'b61d0c9e4f21'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for every subscription there is: each one stopped so far was stopped by hand.
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stopped_reason', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('stopped_at', UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('stopped_at')
        batch_op.drop_column('stopped_reason')
