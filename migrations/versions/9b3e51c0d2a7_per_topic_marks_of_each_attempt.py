"""per-topic marks of each attempt

Issue 12. New table `attempt_topic_mark`: for each graded attempt and topic, the sum of
the item marks and how many items there were. `attempts.record_topic_marks` writes it
when an attempt is graded and again at a regrade; the dashboard's mastery reads it
instead of joining every answer to its question's topic (3,000,000 rows at 100,000
attempts).

Filled from the marks already given, so upgrading changes no figure.

Revision ID: 9b3e51c0d2a7
Revises: 5f0c2a9d7e41
Create Date: 2026-11-22 10:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b3e51c0d2a7'
down_revision = '5f0c2a9d7e41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attempt_topic_mark',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.String(length=60), nullable=False),
    sa.Column('marks', sa.Double(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempt.id'], ),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], ),
    sa.PrimaryKeyConstraint('attempt_id', 'topic_id')
    )
    op.execute(
        "INSERT INTO attempt_topic_mark (attempt_id, topic_id, marks, items)"
        " SELECT attempt_item.attempt_id, question.topic_id, sum(attempt_item.mark), count(*)"
        " FROM attempt_item"
        " JOIN question_version ON question_version.id = attempt_item.question_version_id"
        " JOIN question ON question.id = question_version.question_id"
        " WHERE attempt_item.mark IS NOT NULL"
        " GROUP BY attempt_item.attempt_id, question.topic_id"
    )


def downgrade():
    op.drop_table('attempt_topic_mark')
