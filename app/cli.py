"""Flask commands for operators: admins and demo data. Outbox and reminder commands join here."""

import click
from flask import Flask

from app.extensions import db
from app.services import accounts, demo


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
    def create_admin(email: str, password: str, full_name: str) -> None:
        """Create an admin account, or promote an existing account to admin."""
        from app.services.passwords import MIN_LENGTH

        if len(password) < MIN_LENGTH:
            raise click.BadParameter(f"at least {MIN_LENGTH} characters", param_hint="--password")
        user, created = accounts.create_admin(email, password, full_name)
        db.session.commit()
        click.echo(f"{'Created' if created else 'Promoted'} admin {user.email}")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Idempotent demo data: an admin, doctors with a week of slots, patients."""
        logins = demo.seed()
        db.session.commit()
        click.echo(f"Demo accounts (password for all: {demo.DEMO_PASSWORD}):")
        for role, email in logins:
            click.echo(f"  {role:<8} {email}")
