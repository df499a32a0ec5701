"""one name for an exam's rules

Exam.definition and Attempt.rules_snapshot become rules_data: the same idea, the
rules of an exam, had four names. A rename, so stored rules and attempts are kept.

Revision ID: 54d5398be30e
Revises: 174e3fe67f75
Create Date: 2026-11-22 01:18:06.661869

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '54d5398be30e'
down_revision = '174e3fe67f75'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.alter_column('rules_snapshot', new_column_name='rules_data')
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.alter_column('definition', new_column_name='rules_data')


def downgrade():
    with op.batch_alter_table('exam', schema=None) as batch_op:
        batch_op.alter_column('rules_data', new_column_name='definition')
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.alter_column('rules_data', new_column_name='rules_snapshot')
