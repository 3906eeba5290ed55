"""Guards, health, CSRF, error pages and the landing page."""

import pytest
from sqlalchemy import select

from app import create_app
from app.models import Role, User
from config import TestingConfig


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.DOCTOR, "/doctor/"), (Role.PATIENT, "/patient/"), (Role.ADMIN, "/admin/")],
)
def test_each_dashboard_is_for_its_own_role(client, make, login_as, role, allowed):
    login_as(client, make.user(role=role, full_name="Pat Example"))
    for url in ("/doctor/", "/patient/", "/admin/"):
        response = client.get(url)
        assert response.status_code == (200 if url == allowed else 403), url
    assert "Pat Example" in client.get(allowed).get_data(as_text=True)


@pytest.mark.parametrize("url", ["/doctor/", "/patient/", "/admin/", "/auth/password"])
def test_anonymous_visitors_are_sent_to_login_with_next(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_landing_page_and_redirect_for_signed_in_users(client, make, login_as):
    page = client.get("/")
    assert page.status_code == 200
    assert "I am a patient" in page.get_data(as_text=True)
    login_as(client, make.user(role=Role.DOCTOR))
    assert client.get("/").headers["Location"] == "/doctor/"


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(
        TestingConfig,
        {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none"},
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_pages_render_bootstrap_locally(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "/bootstrap/static/css/bootstrap.min.css" in page
    assert "cdn" not in page.lower()
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200


def test_pages_name_their_icon_so_browsers_do_not_ask_for_favicon_ico(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_404_page_is_helpful(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_405_page(client):
    response = client.post("/")
    assert response.status_code == 405
    assert "Method not allowed" in response.get_data(as_text=True)


@pytest.fixture
def csrf_app(database_url, app):
    """The same app with CSRF protection switched on, as in production."""
    return create_app(
        TestingConfig, {"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True}
    )


def test_csrf_token_missing_is_refused(csrf_app, db):
    client = csrf_app.test_client()
    response = client.post(
        "/auth/signup/patient",
        data={
            "full_name": "A",
            "email": "a@example.com",
            "password": "x" * 12,
            "confirm_password": "x" * 12,
        },
    )
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert db.session.scalar(select(User)) is None


def test_csrf_token_present_is_accepted(csrf_app, db):
    client = csrf_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/auth/login", data={"csrf_token": token, "email": "a@example.com", "password": "x" * 9}
    )
    assert response.status_code == 400  # the form was accepted for checking: bad credentials
    assert "Invalid email or password" in response.get_data(as_text=True)


def test_an_unexpected_error_gets_the_500_page_and_rolls_back(database_url, db, caplog):
    """A bug must not leave half a change behind or show a traceback."""
    from app.models import User as UserModel

    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/boom")
    def boom():
        from app.extensions import db as ext_db

        ext_db.session.add(
            UserModel(email="half@example.com", password_hash="h", role=Role.PATIENT, full_name="H")
        )
        ext_db.session.flush()
        raise RuntimeError("a bug")

    response = app.test_client().get("/boom")

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "RuntimeError" not in page
    assert "unhandled error on GET /boom" in caplog.text
    assert db.session.scalar(select(UserModel).where(UserModel.email == "half@example.com")) is None
