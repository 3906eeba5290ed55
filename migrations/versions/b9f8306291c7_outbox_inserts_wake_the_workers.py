"""outbox inserts wake the workers

On PostgreSQL every INSERT into outbox_messages sends NOTIFY on the channel `outbox_messages`.
PostgreSQL delivers it when (and only if) the inserting transaction commits, so an idle
`flask outbox run`, which LISTENs on that channel, starts on a booking's emails the moment
they exist instead of at its next poll, and the web tier need not send them itself.

One notification per statement, not per row, with an empty payload: the workers claim what is
due from the table as always, and the notification only says "look now". PostgreSQL folds
identical notifications of one transaction into one (COPY FROM fires the trigger too). A
failed message whose retry comes due wakes nobody: the workers' poll (OUTBOX_IDLE_SECONDS)
finds it, as before.

SQLite (development only) has no NOTIFY: there the worker polls and the web process sends a
request's emails right after its response.

Revision ID: b9f8306291c7
Revises: 434aee78cad2
Create Date: 2026-11-22 14:43:12.121339

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b9f8306291c7'
down_revision = '434aee78cad2'
branch_labels = None
depends_on = None


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _is_postgresql():
        return
    op.execute(
        """
        CREATE FUNCTION outbox_messages_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox_messages', '');
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER outbox_messages_notify
        AFTER INSERT ON outbox_messages
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_messages_notify()
        """
    )


def downgrade():
    if not _is_postgresql():
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_messages_notify ON outbox_messages")
    op.execute("DROP FUNCTION IF EXISTS outbox_messages_notify()")
