"""Nothing a user can type is a 500: empty, huge and malformed values in every field and id.

Each form is posted once per (field, value) with the other fields valid. The outcome may be a
success or a refusal; it is never a server error.
"""

from datetime import UTC, datetime, timedelta

import pytest

from app.timeutil import local_today

NASTY = [
    "",
    " ",
    "x" * 100_000,
    "9" * 400,
    "-1",
    "0",
    "1e309",
    "NaN",
    "\x00",
    "a\x00b",
    "\u202e\u0000\ufeff",
    "😀" * 300,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%_\\",
    "²",
    "2147483648",
    "2026-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "24:00",
    "23:59:60",
    "00:00",
    "12:00:00",
    ["1", "2"],
    ["2030-01-01", "2030-01-02"],
]


def day(offset: int) -> str:
    return (local_today() + timedelta(days=offset)).isoformat()


def sweep(app, login, form) -> list[tuple[str, str, int]]:
    """Post the form with each field replaced by each nasty value; return the server errors.

    `form(n)` gives a fresh (url, valid data) for attempt n (a new slot, a new email...), so no
    attempt is refused early because an earlier one succeeded.
    """
    failures = []
    fields = list(form(0)[1])
    attempts = [(field, value) for field in fields for value in NASTY]
    for n, (field, value) in enumerate(attempts, start=1):
        url, data = form(n)
        client = app.test_client()
        login(client)
        response = client.post(url, data={**data, field: value})
        if response.status_code >= 500:
            failures.append((field, repr(value)[:20], response.status_code))
    return failures


PASSPHRASE = "a long unusual passphrase"


def forms(make, doctor) -> dict:
    """Form name -> n -> (url, valid data), fresh for each attempt n."""

    def new_slot_url(n: int) -> str:
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        slot = make.slot(doctor=doctor, start_at=start + timedelta(days=2, hours=n))
        return f"/booking/slots/{slot.id}"

    return {
        "slot": lambda n: (
            "/doctor/availability",
            {"date": day(3 + n % 300), "start_time": "10:00", "end_time": "10:30"},
        ),
        "weekly": lambda n: (
            "/doctor/availability/weekly",
            {
                "start_date": day(5 + n % 300),
                "end_date": day(5 + n % 300),
                "weekdays": [str(d) for d in range(7)],
                "day_start": "09:00",
                "day_end": "10:00",
                "slot_minutes": "30",
            },
        ),
        "doctor profile": lambda n: (
            "/doctor/profile",
            {
                "full_name": f"Dr. A{n}",
                "specialization": "Cardiology",
                "years_of_experience": "3",
                "bio": "Kind.",
                "phone": "+1 555",
            },
        ),
        "patient profile": lambda n: (
            "/patient/profile",
            {
                "full_name": f"Pat {n}",
                "date_of_birth": "1990-01-01",
                "phone": "+1 555",
                "address": "1 Road",
                "emergency_contact": "Mum",
            },
        ),
        "booking": lambda n: (new_slot_url(n), {"notes": "Hello"}),
        "doctor signup": lambda n: (
            "/auth/signup/doctor",
            {
                "full_name": "Dr. New",
                "email": f"new.doctor{n}@example.com",
                "password": PASSPHRASE,
                "confirm_password": PASSPHRASE,
                "specialization": "Cardiology",
                "years_of_experience": "4",
                "phone": "",
                "bio": "",
            },
        ),
        "patient signup": lambda n: (
            "/auth/signup/patient",
            {
                "full_name": "New Patient",
                "email": f"new.patient{n}@example.com",
                "password": PASSPHRASE,
                "confirm_password": PASSPHRASE,
                "date_of_birth": "1990-01-01",
                "phone": "",
                "address": "",
                "emergency_contact": "",
            },
        ),
        "login": lambda n: ("/auth/login", {"email": "x@example.com", "password": "whatever1"}),
    }


ROLES = {
    "slot": "doctor",
    "weekly": "doctor",
    "doctor profile": "doctor",
    "patient profile": "patient",
    "booking": "patient",
    "doctor signup": None,
    "patient signup": None,
    "login": None,
}


@pytest.mark.parametrize("form", ROLES)
def test_no_form_value_is_a_server_error(app, db, make, login_as, form):
    doctor, patient = make.doctor(), make.patient()
    users = {"doctor": doctor.user, "patient": patient.user}
    role = ROLES[form]

    def login(client):
        if role:
            login_as(client, users[role])

    assert sweep(app, login, forms(make, doctor)[form]) == []


BAD_IDS = ["0", "-1", "1.5", "1e3", "abc", "%00", "9" * 30, "2147483648", "%2e%2e"]


@pytest.mark.parametrize(
    ("role", "method", "template"),
    [
        ("doctor", "POST", "/doctor/availability/{}/delete"),
        ("patient", "GET", "/patient/doctors/{}"),
        ("patient", "GET", "/booking/slots/{}"),
        ("patient", "POST", "/booking/slots/{}"),
        ("patient", "POST", "/booking/appointments/{}/cancel"),
        ("doctor", "POST", "/booking/appointments/{}/cancel"),
    ],
)
def test_no_id_is_a_server_error(client, db, make, login_as, role, method, template):
    login_as(client, make.doctor().user if role == "doctor" else make.patient().user)
    for bad in BAD_IDS:
        response = client.open(template.format(bad), method=method)
        assert response.status_code in (404, 405, 409), (bad, response.status_code)


FILTERS = ("q", "status", "date_from", "date_to", "page")


@pytest.mark.parametrize(
    ("role", "path", "names"),
    [
        ("patient", "/patient/doctors", ("q", "specialization", "page")),
        ("patient", "/patient/appointments", ("when", "page")),
        ("doctor", "/doctor/appointments", ("when", "page")),
        ("doctor", "/doctor/availability", ("page",)),
        ("admin", "/admin/users", ("q", "role", "status", "page")),
        ("admin", "/admin/appointments", (*FILTERS, "doctor", "patient")),
        ("admin", "/admin/audit", (*FILTERS, "actor", "kind")),
    ],
)
def test_no_query_string_is_a_server_error(client, db, make, login_as, role, path, names):
    users = {"doctor": make.doctor().user, "patient": make.patient().user, "admin": make.admin()}
    login_as(client, users[role])
    for name in names:
        for value in NASTY:
            values = value if isinstance(value, list) else [value]
            response = client.get(path, query_string=[(name, v) for v in values])
            assert response.status_code in (200, 400), (name, str(value)[:20])


@pytest.mark.parametrize("path", ["/auth/login", "/auth/signup/patient", "/patient/profile"])
def test_a_body_over_the_limit_is_413_before_it_is_parsed(app, client, make, login_as, path):
    if path.startswith("/patient"):
        login_as(client, make.patient().user)
    too_big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)

    response = client.post(path, data={"full_name": too_big, "email": "a@example.com"})

    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
