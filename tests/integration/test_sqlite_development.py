"""`make run` serves the demo clinic from SQLite: its pages must work there too.

The rest of the suite runs on PostgreSQL under `make test`, and some statements are written for
it (the directory joins profiles LATERAL, which SQLite cannot). This builds the development
database as `make run` does, migrations then the demo clinic, in a temporary SQLite file, and
opens what each role opens first.
"""

import re

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.services.demo import ADMIN_EMAIL, DEMO_PASSWORD
from config import TestingConfig
from tests.helpers import MIGRATIONS


@pytest.fixture
def sqlite_app(tmp_path):
    app = create_app(
        TestingConfig,
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'hms.sqlite3'}",
            "MAIL_DIR": str(tmp_path / "mail"),
        },
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def signed_in(app, email):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.text
    return client


def test_the_demo_clinic_on_sqlite_serves_every_roles_first_pages(sqlite_app):
    patient = signed_in(sqlite_app, "noah.patient@example.com")
    directory = patient.get("/patient/doctors")
    assert directory.status_code == 200
    doctor_pages = re.findall(r'href="(/patient/doctors/\d+)"', directory.text)
    assert len(doctor_pages) == 5  # the demo's five doctors
    for path in (
        "/patient/",
        "/patient/doctors?q=meyer",
        "/patient/doctors?specialization=Cardiology",
        "/patient/doctors?q=dr&specialization=Pediatrics",
        "/patient/doctors?page=2",
        "/patient/appointments",
        doctor_pages[0],
    ):
        assert patient.get(path).status_code == 200, path
    assert "Lucas Meyer" in patient.get("/patient/doctors?q=meyer").text

    doctor = signed_in(sqlite_app, "amara.okafor@example.com")
    for path in ("/doctor/", "/doctor/availability", "/doctor/appointments"):
        assert doctor.get(path).status_code == 200, path

    admin = signed_in(sqlite_app, ADMIN_EMAIL)
    for path in ("/admin/", "/admin/users", "/admin/appointments", "/admin/audit"):
        assert admin.get(path).status_code == 200, path
