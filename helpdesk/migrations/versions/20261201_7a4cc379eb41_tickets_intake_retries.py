"""tickets: the retries of a rejected ticket request (who gave it back, when, after what)

Revision ID: 7a4cc379eb41
Revises: c4d81e2f6a95
Create Date: 2026-12-01 13:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk.core.types


# revision identifiers, used by Alembic.
revision = '7a4cc379eb41'
down_revision = 'c4d81e2f6a95'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ticket_intake_retries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intake_id', sa.Integer(), nullable=False),
    sa.Column('at', helpdesk.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_ticket_intake_retries_by_id_users')),
    sa.ForeignKeyConstraint(['intake_id'], ['ticket_intake.id'], name=op.f('fk_ticket_intake_retries_intake_id_ticket_intake'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_intake_retries'))
    )
    with op.batch_alter_table('ticket_intake_retries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_intake_retries_intake_id'), ['intake_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket_intake_retries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_intake_retries_intake_id'))
    op.drop_table('ticket_intake_retries')
