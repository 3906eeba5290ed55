"""audit events are append-only

On PostgreSQL a trigger refuses UPDATE and DELETE of audit_events rows, so not even a bug or a
hand-typed query in psql can rewrite the trail. TRUNCATE fires no row trigger, which is what the
test suite's cleanup uses. SQLite (development only) has no such guard.

Revision ID: a7658393749b
Revises: 7ab2d8b27216
Create Date: 2026-11-22 05:30:36.120800

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7658393749b'
down_revision = '7ab2d8b27216'
branch_labels = None
depends_on = None


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _is_postgresql():
        return
    op.execute(
        """
        CREATE FUNCTION audit_events_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_events_append_only
        BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """
    )


def downgrade():
    if not _is_postgresql():
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
