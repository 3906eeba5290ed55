"""Flask commands for operators: admins, demo data and the outbox worker."""

import contextlib
import signal
import threading

import click
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.services import accounts, delivery, demo


def register(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", required=True, help="The admin's email address.")
    @click.option(
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="Prompted for when not given.",
    )
    @click.option("--name", "full_name", default="Administrator", show_default=True)
    @click.option(
        "--desk",
        is_flag=True,
        help="A front-desk account: booking, patients' details, doctors' schedules; not the "
        "administrator's powers over accounts, closures, the audit trail and the email queue.",
    )
    def create_admin(email: str, password: str, full_name: str, desk: bool) -> None:
        """Create an admin (or front-desk) account, or turn an existing account into one."""
        from app.services.passwords import MIN_LENGTH

        if len(password) < MIN_LENGTH:
            raise click.BadParameter(f"at least {MIN_LENGTH} characters", param_hint="--password")
        role = Role.DESK if desk else Role.ADMIN
        user, created = accounts.create_admin(email, password, full_name, role=role)
        db.session.commit()
        what = "front-desk account" if desk else "admin"
        click.echo(f"{'Created' if created else 'Promoted'} {what} {user.email}")

    @app.cli.command("seed-demo")
    @click.option(
        "--if-empty", is_flag=True, help="Seed only a database without users (as `make run` does)."
    )
    def seed_demo(if_empty: bool) -> None:
        """Idempotent demo data: an admin, doctors with a week of slots, patients."""
        if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
            click.echo("The database already has users: demo data not seeded.")
            logins = demo.logins()
        else:
            logins = demo.seed()
            db.session.commit()
        click.echo(f"Demo accounts (password for all: {demo.DEMO_PASSWORD}):")
        for role, email in logins:
            click.echo(f"  {role:<8} {email}")

    @app.cli.group("outbox")
    def outbox_group() -> None:
        """Deliver outbox messages (emails, calendar events)."""

    @outbox_group.command("run")
    @click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
    def outbox_run(once: bool) -> None:
        """Deliver due outbox messages with retries, until SIGTERM or Ctrl-C (or, with --once,
        until nothing is due)."""
        stop = threading.Event()
        with _stop_on_signals(stop):
            if not once:
                click.echo("Outbox worker started; SIGTERM or Ctrl-C stops it.")
            totals = delivery.run_worker(stop=stop, once=once)
        summary = ", ".join(f"{totals[status]} {status.value}" for status in sorted(totals))
        click.echo(f"Outbox worker stopped: {summary or 'nothing was due'}.")

    @outbox_group.command("prune")
    def outbox_prune() -> None:
        """Delete emails sent, or given up on, more than OUTBOX_KEEP_SENT_DAYS ago (a running
        worker does it every hour)."""
        deleted, before = delivery.prune_sent_emails()
        if before is None:
            click.echo("OUTBOX_KEEP_SENT_DAYS is 0: sent emails are kept.")
        else:
            when = before.isoformat(timespec="seconds")
            emails = f"{deleted} email{'s' * (deleted != 1)}"
            click.echo(f"Deleted {emails} sent, or given up on, before {when}.")

    @app.cli.group("reminders")
    def reminders_group() -> None:
        """Appointment reminders (the outbox worker also queues them on its own schedule)."""

    @reminders_group.command("send")
    def reminders_send() -> None:
        """Queue APPOINTMENT_REMINDER emails for appointments due within REMINDER_HOURS_BEFORE."""
        queued = delivery.queue_reminders()
        click.echo(f"Queued reminders for {queued} appointments.")

    @reminders_group.command("agendas")
    def reminders_agendas() -> None:
        """Queue DAILY_AGENDA emails: the day's appointments, to the doctors who asked for them,
        from AGENDA_EMAIL_HOUR (the outbox worker does it every REMINDER_SCAN_SECONDS)."""
        queued = delivery.queue_day_agendas()
        click.echo(f"Queued the day's appointments for {queued} doctor{'s' * (queued != 1)}.")

    @app.cli.group("availability")
    def availability_group() -> None:
        """Doctors' slots (the outbox worker also keeps standing hours on its own schedule)."""

    @availability_group.command("extend")
    def availability_extend() -> None:
        """Publish the days that doctors' standing hours have come to (the outbox worker does it
        every REMINDER_SCAN_SECONDS)."""
        created = delivery.extend_standing_hours()
        click.echo(f"Published {created} slot{'s' * (created != 1)} of standing hours.")


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event):
    """Turn SIGTERM and SIGINT into a stop request, so the send in flight finishes and its
    result is stored before the worker exits. Signals can only be caught in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda _signum, _frame: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
