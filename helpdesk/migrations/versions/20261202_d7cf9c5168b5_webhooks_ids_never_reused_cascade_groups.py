"""webhooks: ids never handed out twice on SQLite, deliveries deleted with their subscription, a subscription's groups

Revision ID: d7cf9c5168b5
Revises: e3a7c51f9b06
Create Date: 2026-12-02 00:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd7cf9c5168b5'
down_revision = 'e3a7c51f9b06'
branch_labels = None
depends_on = None

FK = 'fk_webhook_deliveries_subscription_id_webhook_subscriptions'


def _subscription_fk(bind):
    """The deliveries' foreign key to their subscription, by the name the database has."""
    return next(fk['name'] for fk in sa.inspect(bind).get_foreign_keys('webhook_deliveries')
                if fk['referred_table'] == 'webhook_subscriptions')


def _group_codes():
    # Every subscription there is sends every ticket, as before.
    return sa.Column('group_codes', sa.JSON(), server_default=sa.text("'[]'"), nullable=False)


def _rebuild_on_sqlite(autoincrement, ondelete, change_subscriptions):
    """Both tables rebuilt (only a new table takes AUTOINCREMENT or a changed foreign key on
    SQLite). Foreign keys are on (helpdesk.app), and this runs in a transaction, where they
    cannot be turned off: dropping webhook_subscriptions while deliveries refer to it would
    be refused (or, with ON DELETE CASCADE, take them with it). So the deliveries lose their
    key while the subscriptions are rebuilt, and get it back afterwards."""
    bind = op.get_bind()
    with op.batch_alter_table('webhook_deliveries', recreate='always') as batch_op:
        batch_op.drop_constraint(_subscription_fk(bind), type_='foreignkey')
    with op.batch_alter_table('webhook_subscriptions', recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}) as batch_op:
        change_subscriptions(batch_op)
    with op.batch_alter_table('webhook_deliveries', recreate='always',
                              table_kwargs={'sqlite_autoincrement': autoincrement}) as batch_op:
        batch_op.create_foreign_key(FK, 'webhook_subscriptions', ['subscription_id'], ['id'],
                                    ondelete=ondelete)


def upgrade():
    # SQLite reused the highest ids after a delete (plain INTEGER PRIMARY KEY): a re-added
    # subscription's deliveries carried X-Helpdesk-Delivery ids its receiver had had, and
    # dropped. AUTOINCREMENT never goes back; PostgreSQL's sequences never did. Ids deleted
    # before this upgrade are not known, and may still be handed out once.
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_on_sqlite(True, 'CASCADE', lambda batch_op: batch_op.add_column(_group_codes()))
        return
    op.drop_constraint(_subscription_fk(op.get_bind()), 'webhook_deliveries', type_='foreignkey')
    op.create_foreign_key(FK, 'webhook_deliveries', 'webhook_subscriptions',
                          ['subscription_id'], ['id'], ondelete='CASCADE')
    op.add_column('webhook_subscriptions', _group_codes())


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_on_sqlite(False, None, lambda batch_op: batch_op.drop_column('group_codes'))
        return
    op.drop_column('webhook_subscriptions', 'group_codes')
    op.drop_constraint(_subscription_fk(op.get_bind()), 'webhook_deliveries', type_='foreignkey')
    op.create_foreign_key(FK, 'webhook_deliveries', 'webhook_subscriptions',
                          ['subscription_id'], ['id'])
