"""Per-request work the benchmark found and removed: each test pins one saving.

Speed itself is measured by `make bench` (bench/README.md), never asserted here: these tests
count SQL statements, which do not drift with the machine.
"""

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine

from app.services import email_sender
from app.services.audit import AuditKind, record
from app.timeutil import utcnow
from tests.helpers import count_queries


def _standalone_profile_loads(statements: list[str]) -> list[str]:
    return [
        s
        for s in statements
        if s.lstrip().startswith(("SELECT doctor_profiles.", "SELECT patient_profiles."))
        and "FROM users" not in s
        and "JOIN users" not in s
    ]


@pytest.mark.parametrize(("role", "page"), [("patient", "/patient/"), ("doctor", "/doctor/")])
def test_the_signed_in_users_profile_comes_with_the_user(
    app, db, client, make, login_as, role, page
):
    profile = make.patient() if role == "patient" else make.doctor()
    login_as(client, profile.user)
    client.get(page)  # the first page after sign-in also stores a CSRF token: not counted
    with count_queries(db.engine) as statements:
        assert client.get(page).status_code == 200
    loads_user = [s for s in statements if "FROM users" in s and "WHERE users.id" in s]
    assert len(loads_user) == 1
    assert f"{role}_profiles" in loads_user[0]
    assert _standalone_profile_loads(statements) == []


@pytest.mark.parametrize(
    ("role", "pages", "own", "other"),
    [
        ("doctor", ["/doctor/", "/doctor/appointments"], "doctor_profiles", "patient_profiles"),
        ("patient", ["/patient/", "/patient/appointments"], "patient_profiles", "doctor_profiles"),
    ],
)
def test_a_list_of_my_appointments_does_not_load_me_again(
    db, client, make, login_as, role, pages, own, other
):
    """Every row of a doctor's (or patient's) own list points to the signed-in profile, which
    the session holds already: the rows' query joins only the other party."""
    doctor, patient = make.doctor(user__full_name="Dr. Own"), make.patient(user__full_name="Pat")
    for hours in (30, 40):
        slot = make.slot(doctor=doctor, start_at=utcnow() + timedelta(hours=hours))
        make.appointment(slot=slot, patient=patient)
    login_as(client, (doctor if role == "doctor" else patient).user)
    for page in pages:
        client.get(page)
        with count_queries(db.engine) as statements:
            body = client.get(page).get_data(as_text=True)
        assert "Dr. Own" in body and "Pat" in body
        rows = [s for s in statements if s.lstrip().startswith("SELECT appointments.id,")]
        assert rows and all(own not in s and other in s for s in rows)


class _CountingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real email service behind its gateway

    def do_POST(self):  # noqa: N802 - the http.server protocol
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.connections.add(self.client_address)
        self.server.paths.append(self.path)  # a proxy is asked for the absolute URL
        body = b'{"ok": true, "message_id": "m"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        return


@pytest.fixture
def email_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    server.connections, server.paths = set(), []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _send_three(app) -> None:
    with app.app_context():
        for n in range(3):
            email_sender.send_email({"action": "SIGNUP_WELCOME", "to": "a@b.c"}, f"k{n}")


def test_emails_from_one_thread_share_a_connection_and_read_the_environment_once(
    app, monkeypatch, email_server
):
    """requests would otherwise look for proxy settings in all of os.environ at every call."""
    import requests.sessions

    looked_up = []
    environ_proxies = requests.sessions.get_environ_proxies
    monkeypatch.setattr(
        requests.sessions,
        "get_environ_proxies",
        lambda *args, **kwargs: looked_up.append(args) or environ_proxies(*args, **kwargs),
    )
    url = f"http://127.0.0.1:{email_server.server_port}/dev/send-email"
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", url)
    _send_three(app)
    assert len(email_server.connections) == 1
    assert len(looked_up) == 1


def test_emails_still_go_through_the_environments_proxy(app, monkeypatch, email_server):
    """Read once, the proxy settings are still the environment's: a clinic network that only
    reaches the email service through a proxy keeps working (the proxy answers for it here)."""
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{email_server.server_port}")
    url = f"http://email-service-{email_server.server_port}.invalid/dev/send-email"
    monkeypatch.setitem(app.config, "EMAIL_SERVICE_URL", url)
    _send_three(app)
    assert email_server.paths == [url] * 3


def test_admin_figures_are_computed_once_per_cache_period(
    app, db, client, make, login_as, monkeypatch
):
    monkeypatch.setitem(app.config, "ADMIN_STATS_CACHE_SECONDS", 30)
    app.extensions.pop("hms_cache", None)
    login_as(client, make.admin())
    client.get("/admin/")  # CSRF token stored; figures computed
    with time_machine.travel(utcnow(), tick=False) as clock:
        with count_queries(db.engine) as fresh:
            client.get("/admin/")
            client.get("/admin/charts/utilisation.svg")
        make.doctor()  # a new doctor: visible once the period is over
        clock.shift(timedelta(seconds=31))
        with count_queries(db.engine) as recomputed:
            page = client.get("/admin/").get_data(as_text=True)
    app.extensions.pop("hms_cache", None)
    # per request the signed-in user and the audit mark, and the page's live email queue: no
    # aggregate over the clinic
    assert len(fresh) == 5
    assert len(recomputed) > 2
    assert 'data-stat="doctors">1<' in page


def test_the_statements_of_every_view_are_built_once_and_bound(
    app, db, client, make, login_as, monkeypatch
):
    """The directory's rows and totals, a doctor's page and its open slots run statements built
    once per process: a view with other values (name, filter, page, doctor) builds none."""
    from app.repositories import doctors, scheduling

    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)  # full pages: a search counts its matches

    first = make.doctor(specialization="Cardiology", user__full_name="Dr. Ada")
    second = make.doctor(specialization="Dermatology", user__full_name="Dr. Bea")
    login_as(client, make.patient().user)
    views = [
        ["/patient/doctors", "/patient/doctors?page=2"],
        ["/patient/doctors?q=dr", "/patient/doctors?q=DR&page=2"],
        ["/patient/doctors?specialization=Cardiology", "/patient/doctors?specialization=Nope"],
        [f"/patient/doctors/{first.id}", f"/patient/doctors/{second.id}"],
    ]
    builders = (doctors._listing, doctors._count, doctors._active_doctor, scheduling._open_slots)
    for one, other in views:
        assert client.get(one).status_code == 200
        built = [builder.cache_info().misses for builder in builders]
        assert client.get(other).status_code == 200
        assert [builder.cache_info().misses for builder in builders] == built


@pytest.mark.parametrize("role", ["doctor", "patient"])
def test_the_dashboards_statements_are_built_once(db, client, make, login_as, role):
    """The dashboards' lists and counts run statements built once per process, for every user."""
    from app.repositories import scheduling
    from app.services import waitlist

    builders = [scheduling._next_booked]
    builders += [scheduling._doctor_counts] if role == "doctor" else [waitlist._entries_for]
    people = [make.doctor() if role == "doctor" else make.patient() for _ in range(2)]
    page = f"/{role}/"
    login_as(client, people[0].user)
    assert client.get(page).status_code == 200
    built = [builder.cache_info().misses for builder in builders]
    for person in people:
        login_as(client, person.user)
        assert client.get(page).status_code == 200
    assert [builder.cache_info().misses for builder in builders] == built


def test_the_directory_reads_the_specializations_once_a_minute(
    app, db, client, make, login_as, monkeypatch
):
    monkeypatch.setitem(app.config, "DIRECTORY_CACHE_SECONDS", 60)
    app.extensions.pop("hms_cache", None)
    make.doctor(specialization="Cardiology")
    login_as(client, make.patient().user)
    client.get("/patient/doctors")
    with time_machine.travel(utcnow(), tick=False) as clock:
        with count_queries(db.engine) as cached:
            client.get("/patient/doctors")
        make.doctor(specialization="Neurology")
        clock.shift(timedelta(seconds=61))
        with count_queries(db.engine) as refreshed:
            page = client.get("/patient/doctors").get_data(as_text=True)
    app.extensions.pop("hms_cache", None)
    assert not any("DISTINCT doctor_profiles.specialization" in s for s in cached)
    assert any("DISTINCT doctor_profiles.specialization" in s for s in refreshed)
    assert 'value="Neurology"' in page  # the new choice in the filter


def test_admin_figures_follow_a_change_at_once(app, db, client, make, login_as, monkeypatch):
    """A change writes an audit event: the next view recomputes, in whichever process serves it."""
    monkeypatch.setitem(app.config, "ADMIN_STATS_CACHE_SECONDS", 30)
    app.extensions.pop("hms_cache", None)
    admin = make.admin()
    login_as(client, admin)
    assert 'data-stat="doctors">0<' in client.get("/admin/").get_data(as_text=True)
    doctor = make.doctor()
    record(AuditKind.SIGNUP, actor=doctor.user, target=doctor.user)
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    app.extensions.pop("hms_cache", None)
    assert 'data-stat="doctors">1<' in page


def _select_and_from(statement: str) -> tuple[str, str | None]:
    """A SELECT's column list and its first table, its subqueries' FROMs passed over (None for
    a SELECT of subqueries alone)."""
    text = " ".join(statement.split())
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith(" FROM ", i):
            return text[:i], text[i + 6 :].split()[0]
    return text, None


def _verb_and_table(statement: str) -> str:
    words = statement.split()
    if words[0] == "INSERT":
        return f"INSERT {words[2]}"
    return f"SELECT {_select_and_from(statement)[1] or 'subqueries'}"


def test_a_booking_reads_only_what_it_checks_with_statements_built_once(db, client, make, login_as):
    """Eight statements on PostgreSQL: the signed-in user, the slot locked with its doctor, the
    slot's holder (one column), the patient's row lock (nothing loaded but the count of their
    recent no-shows), their other appointments (an overlapping one's id and how many lie ahead),
    then the appointment, its audit event and both emails' outbox rows in one INSERT. The reads
    are built once per process: a second patient's booking builds none."""
    from app.repositories import scheduling

    builders = (
        scheduling._slot_with_doctor,
        scheduling._slot_holder,
        scheduling._lock_patient,
        scheduling._patient_bookings,
    )
    doctor = make.doctor()
    slot_ids = [make.slot(doctor=doctor).id for _ in range(2)]
    patients = [make.patient() for _ in range(2)]
    make.appointment(patient=patients[1])  # another of theirs, at another time
    built = None
    for patient, slot_id in zip(patients, slot_ids, strict=True):
        login_as(client, patient.user)
        client.get("/patient/")  # the first page after sign-in stores a CSRF token
        with count_queries(db.engine) as statements:
            response = client.post(f"/booking/slots/{slot_id}", data={"notes": "Knee"})
        assert response.status_code == 302
        built = built or [builder.cache_info().misses for builder in builders]
    assert [builder.cache_info().misses for builder in builders] == built

    outbox_inserts = 1 if db.engine.dialect.name == "postgresql" else 2  # SQLite: one a row
    assert [_verb_and_table(s) for s in statements] == [
        "SELECT users",
        "SELECT availability_slots",
        "SELECT appointments",
        "SELECT patient_profiles",
        "SELECT subqueries",
        "INSERT appointments",
        "INSERT audit_events",
        *["INSERT outbox_messages"] * outbox_inserts,
    ]
    columns = [_select_and_from(s)[0] for s in statements[2:5]]
    assert columns[0] == "SELECT appointments.patient_id"
    assert columns[1].startswith("SELECT patient_profiles.id, (SELECT count(appointments.id)")
    assert columns[2].startswith("SELECT (SELECT appointments.id")
    assert ", (SELECT count(appointments.id)" in columns[2]
    if db.engine.dialect.name == "postgresql":
        assert "FOR UPDATE OF availability_slots" in statements[1]
        assert "FOR UPDATE OF patient_profiles" in statements[3]
