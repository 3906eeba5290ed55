"""`make run` seeds demo data only into an empty database, and prints the logins either way."""

from sqlalchemy import func, select

from app.models import User
from app.services.demo import ADMIN_EMAIL, DEMO_PASSWORD, DOCTORS, PATIENTS


def test_seed_demo_if_empty_seeds_an_empty_database(runner, db):
    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0, result.output
    users = db.session.scalar(select(func.count(User.id)))
    # the admin, the front desk, the doctors, the applicant waiting for approval, the patients
    assert users == 2 + len(DOCTORS) + 1 + len(PATIENTS)
    assert ADMIN_EMAIL in result.output and DEMO_PASSWORD in result.output


def test_seed_demo_if_empty_leaves_a_used_database_alone_but_prints_the_logins(runner, db, make):
    make.user(email="someone@example.com")

    result = runner.invoke(args=["seed-demo", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert "not seeded" in result.output
    assert db.session.scalars(select(User.email)).all() == ["someone@example.com"]
    for email in (ADMIN_EMAIL, DOCTORS[0][1], PATIENTS[-1][1]):
        assert email in result.output
    assert DEMO_PASSWORD in result.output
