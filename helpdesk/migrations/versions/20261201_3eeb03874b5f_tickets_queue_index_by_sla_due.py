"""tickets: the queue's index by SLA due time leads with the group and the due time, not the state

Revision ID: 3eeb03874b5f
Revises: 7a4cc379eb41
Create Date: 2026-12-01 15:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3eeb03874b5f'
down_revision = '7a4cc379eb41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_queue_sla_due', ['assigned_group_id', 'sla_due_at', 'id'], unique=False)
        batch_op.drop_index('ix_tickets_queue_sla')


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_queue_sla', ['assigned_group_id', 'status', 'sla_due_at'], unique=False)
        batch_op.drop_index('ix_tickets_queue_sla_due')
