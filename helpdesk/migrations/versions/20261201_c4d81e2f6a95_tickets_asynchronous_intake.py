"""tickets: asynchronous intake (ticket requests accepted with Prefer: respond-async)

Revision ID: c4d81e2f6a95
Revises: 7b3e9c1d2a40
Create Date: 2026-12-01 10:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk.core.types


# revision identifiers, used by Alembic.
revision = 'c4d81e2f6a95'
down_revision = '7b3e9c1d2a40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ticket_intake',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'created', 'rejected', name='intakestatus', native_enum=False, length=10), nullable=False),
    sa.Column('accepted_at', helpdesk.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', helpdesk.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_ticket_intake_requester_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_intake_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_intake'))
    )
    with op.batch_alter_table('ticket_intake', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_intake_status', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_intake_processed_at'), ['processed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_intake_requester_id'), ['requester_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket_intake', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_intake_requester_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_intake_processed_at'))
        batch_op.drop_index('ix_ticket_intake_status')
    op.drop_table('ticket_intake')
