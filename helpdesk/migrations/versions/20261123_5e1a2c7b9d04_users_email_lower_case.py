"""users: e-mail addresses kept in lower case, so one index finds a sender

Revision ID: 5e1a2c7b9d04
Revises: 0d40cbe684a7
Create Date: 2026-11-23 19:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e1a2c7b9d04'
down_revision = '0d40cbe684a7'
branch_labels = None
depends_on = None


def upgrade():
    # Mail finds its sender by address; with every address in lower case the unique index
    # on users.email answers that, instead of a scan of lower(email) over every user.
    # Two users whose addresses differ only in case would stop this with a unique-key error,
    # which is right: they are one mailbox, and an administrator must merge them first.
    op.execute("UPDATE users SET email = lower(email) WHERE email <> lower(email)")


def downgrade():
    pass  # the lower-case addresses are as good as the originals
