"""Steps the outbox tests share: sign up through HTTP, run the worker, read the outbox."""

from datetime import timedelta

from sqlalchemy import select, update

from app.models import OutboxMessage
from app.timeutil import utcnow

PASSWORD = "a long and unusual passphrase"


def sign_up(client, email: str, name: str = "Pat Example"):
    """Sign up a new patient; a signed-in client would just be sent to its dashboard."""
    response = client.application.test_client().post(
        "/auth/signup/patient",
        data={
            "full_name": name,
            "email": email,
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def run_once(runner) -> str:
    result = runner.invoke(args=["outbox", "run", "--once"])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def messages(db) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def make_due(db) -> None:
    """Move every retry into the past, as if the backoff had elapsed."""
    db.session.execute(
        update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
