"""attempts indexed by trainee and exam

Issue 12. The trainees list computes each trainee's figures (latest certification
result, attempts used since the last pass) with lookups by trainee and exam. With an
index on `user_id` alone, SQLite chose the exam's index and read every attempt of the
exam for each trainee (a minute at 100,000 attempts). The new index on
(user_id, exam_id, state, finished_at) answers those lookups and anything by trainee
alone, so it replaces `ix_attempt_user_id`.

Revision ID: 5f0c2a9d7e41
Revises: 072cade0dc21
Create Date: 2026-11-22 09:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5f0c2a9d7e41'
down_revision = '072cade0dc21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_user_exam_state_finished',
                              ['user_id', 'exam_id', 'state', 'finished_at'], unique=False)
        batch_op.drop_index('ix_attempt_user_id')


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_user_id', ['user_id'], unique=False)
        batch_op.drop_index('ix_attempt_user_exam_state_finished')
