"""reports: where each resolved ticket's time went (ticket_time_spent)

Revision ID: 7b3e9c1d2a40
Revises: 545519123f02
Create Date: 2026-12-01 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import helpdesk.core.types


# revision identifiers, used by Alembic.
revision = '7b3e9c1d2a40'
down_revision = '545519123f02'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ticket_time_spent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=10), nullable=False),
    sa.Column('business_us', sa.BigInteger(), nullable=False),
    sa.Column('resolved_at', helpdesk.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['support_groups.id'], name=op.f('fk_ticket_time_spent_group_id_support_groups')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_ticket_time_spent_service_id_services')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_time_spent_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_time_spent'))
    )
    with op.batch_alter_table('ticket_time_spent', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_time_spent_resolved', ['resolved_at', 'service_id', 'group_id', 'tier', 'holder', 'business_us', 'ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_time_spent_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket_time_spent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_time_spent_ticket_id'))
        batch_op.drop_index('ix_ticket_time_spent_resolved')
    op.drop_table('ticket_time_spent')
