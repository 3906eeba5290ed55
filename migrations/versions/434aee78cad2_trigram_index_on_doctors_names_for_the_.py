"""trigram index on doctors' names for the directory's search

A name search is a case-insensitive substring (ILIKE '%name%'), which no B-tree can find: it
read every doctor's name twice per search (the page and its total). A GIN index of trigrams
(pg_trgm) finds them, for doctors only (the partial index's predicate is written into the
directory's queries). PostgreSQL only: SQLite (development only) scans, as it does any LIKE.

pg_trgm ships with PostgreSQL (Debian's postgresql package, every managed service) and is a
trusted extension since PostgreSQL 13: the database's owner can create it without superuser.
The downgrade leaves the extension in place (something else may use it).

Revision ID: 434aee78cad2
Revises: 7b1d8b8978cb
Create Date: 2026-11-22 11:58:36.735100

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '434aee78cad2'
down_revision = '7b1d8b8978cb'
branch_labels = None
depends_on = None


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _is_postgresql():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        'ix_users_doctor_name_trgm',
        'users',
        ['full_name'],
        unique=False,
        postgresql_using='gin',
        postgresql_ops={'full_name': 'gin_trgm_ops'},
        postgresql_where=sa.text("role = 'doctor'"),
    )


def downgrade():
    if not _is_postgresql():
        return
    op.drop_index('ix_users_doctor_name_trgm', table_name='users')
