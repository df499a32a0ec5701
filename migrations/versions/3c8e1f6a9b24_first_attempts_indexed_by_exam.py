"""first attempts indexed by exam

Issue 12. Item analysis reads each trainee's first attempt at an exam by default
(`attempt.number = 1`). With no index on the number, it read every finished attempt
of the exam to keep one in twenty (100,000 rows of attempts, rules JSON and all, at
100,000 attempts, three times per report). The index on (exam_id, state, number)
finds the first attempts alone.

Revision ID: 3c8e1f6a9b24
Revises: 9b3e51c0d2a7
Create Date: 2026-11-22 10:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c8e1f6a9b24'
down_revision = '9b3e51c0d2a7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_exam_state_number', ['exam_id', 'state', 'number'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_attempt_exam_state_number')
