"""tickets: the version and change time of what the requester sees (public_version, public_updated_at)

Revision ID: b61d0c9e4f21
Revises: 3eeb03874b5f
Create Date: 2026-12-01 21:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

from helpdesk.core.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'b61d0c9e4f21'
down_revision = '3eeb03874b5f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('public_updated_at', UTCDateTime(timezone=True), nullable=True))
    # As things stand: a requester's ETag and updated_at are what they were, and a change
    # made from now on moves them only if the requester can see it.
    op.execute("UPDATE tickets SET public_version = version, public_updated_at = updated_at")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('public_version', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('public_updated_at', existing_type=UTCDateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('public_updated_at')
        batch_op.drop_column('public_version')
