"""The patient's pages: the doctor directory, a doctor's page, dashboard, appointments, profile."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AuditEvent, PatientProfile, Role, User
from app.timeutil import to_local
from tests.helpers import text_of


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def patient(make, client, login_as):
    patient = make.patient(
        user__full_name="Grace Hopper",
        user__email="grace@example.com",
        user__phone="+1 555 0199",
        date_of_birth=date(1906, 12, 9),
        emergency_contact="Vincent +1 555 0142",
    )
    login_as(client, patient.user)
    return patient


# -- the doctor directory ----------------------------------------------------------------------


def test_doctor_list_shows_name_specialization_experience_and_next_open_slot(
    client, db, patient, make
):
    doctor = make.doctor(
        user__full_name="Dr. Ada Lovelace", specialization="Cardiology", years_of_experience=14
    )
    booked = make.slot(doctor=doctor, start_at=hours_from_now(20))
    make.appointment(slot=booked)
    make.slot(doctor=doctor, start_at=hours_from_now(-3))  # past
    make.slot(doctor=doctor, start_at=hours_from_now(0.5))  # inside the notice period
    next_open = make.slot(doctor=doctor, start_at=hours_from_now(26))
    make.slot(doctor=doctor, start_at=hours_from_now(30))
    idle = make.doctor(user__full_name="Dr. Idle", specialization="Dermatology")

    page = text_of(client.get("/patient/doctors"))

    assert "Dr. Ada Lovelace" in page and "Cardiology" in page and "14 years" in page
    assert f'href="/patient/doctors/{doctor.id}"' in page
    assert f'href="/patient/doctors/{idle.id}"' in page
    assert to_local(next_open.start_at).strftime("%a %d %b %Y, %H:%M") in page
    assert "None at the moment" in page  # Dr. Idle


def test_doctor_list_searches_names_case_insensitively(client, db, patient, make):
    make.doctor(user__full_name="Dr. Ada Lovelace")
    make.doctor(user__full_name="Dr. Alan Turing")
    make.doctor(user__full_name="Dr. 100% Sure")

    assert "Lovelace" in text_of(client.get("/patient/doctors?q=LOVE"))
    assert "Turing" not in text_of(client.get("/patient/doctors?q=LOVE"))
    both = text_of(client.get("/patient/doctors?q=dr."))
    assert "Lovelace" in both and "Turing" in both
    percent = text_of(client.get("/patient/doctors?q=%25"))  # a literal %, not a wildcard
    assert "100% Sure" in percent and "Turing" not in percent
    assert "No doctors match" in text_of(client.get("/patient/doctors?q=_"))
    make.doctor(user__full_name="Dr. Under_Score/Slash")
    assert "Under_Score" in text_of(client.get("/patient/doctors?q=r_s"))  # a literal _
    assert "Under_Score" in text_of(client.get("/patient/doctors?q=e/s"))  # the escape itself
    assert "No doctors match" in text_of(client.get("/patient/doctors?q=r/_s"))


def test_doctor_list_filters_by_specialization(client, db, patient, make):
    make.doctor(user__full_name="Dr. Heart", specialization="Cardiology")
    make.doctor(user__full_name="Dr. Skin", specialization="Dermatology")
    make.doctor(user__full_name="Dr. Gone", specialization="Oncology", user__active=False)

    page = text_of(client.get("/patient/doctors?specialization=Cardiology"))
    assert "Dr. Heart" in page and "Dr. Skin" not in page
    # the select offers the specializations of active doctors only
    assert '<option value="Dermatology">' in page and "Oncology" not in page
    assert '<option selected value="Cardiology">' in page
    unknown = client.get("/patient/doctors?specialization=Alchemy")
    assert unknown.status_code == 200 and "No doctors match" in text_of(unknown)


def test_doctor_list_hides_deactivated_doctors(client, db, patient, make):
    make.doctor(user__full_name="Dr. Gone", user__active=False)
    assert "Dr. Gone" not in text_of(client.get("/patient/doctors?q=gone"))


def test_doctor_list_paginates(client, db, patient, make):
    for n in range(25):
        make.doctor(user__full_name=f"Dr. Number {n:02d}")

    first = text_of(client.get("/patient/doctors"))
    second = text_of(client.get("/patient/doctors?page=2"))

    assert "Dr. Number 00" in first and "Dr. Number 19" in first and "Dr. Number 20" not in first
    assert "Dr. Number 20" in second and "Dr. Number 24" in second
    assert 'href="/patient/doctors?page=2"' in first
    filtered = text_of(client.get("/patient/doctors?q=number&page=1"))
    assert 'href="/patient/doctors?page=2&amp;q=number"' in filtered


@pytest.mark.parametrize(
    ("name", "specialization"),
    [(None, None), ("same", None), (None, "Cardiology"), ("same", "Cardiology")],
    ids=["browsing", "by name", "by specialization", "both"],
)
@pytest.mark.parametrize("lateral", [True, False], ids=["lateral", "plain join"])
@pytest.mark.parametrize("free", [False, True], ids=["any", "free in the window"])
def test_directory_rows_follow_names_then_ids_across_pages(
    db, make, monkeypatch, name, specialization, lateral, free
):
    """Each kind of search has its own statement (on PostgreSQL the listing joins profiles
    LATERAL when no specialization is asked for; SQLite joins them plainly): every one returns
    the matching doctors, each once, by name and then id even for equal names, each with its own
    next open slot, page after page; kept, when asked, to those free in the window."""
    from app.repositories import doctors as doctor_repo

    if lateral and db.engine.dialect.name != "postgresql":
        pytest.skip("LATERAL: PostgreSQL only")
    monkeypatch.setattr(doctor_repo, "_joins_lateral", lambda: lateral)

    now = datetime.now(UTC)
    doctors = []
    for n in range(45):  # three doctors for each name, across two specializations
        doctor = make.doctor(
            user__full_name=f"Dr. Same {n % 15:02d}",
            specialization="Cardiology" if n % 5 else "Dermatology",
        )
        doctors.append((doctor, make.slot(doctor=doctor, start_at=hours_from_now(48 + n)).start_at))
    doctors.append((make.doctor(user__full_name="Other", specialization="Cardiology"), None))
    make.doctor(user__full_name="Dr. Same 00", user__active=False, specialization="Cardiology")
    # one slot each, 48 to 92 hours from now: the narrow window holds doctors 12 to 32's
    window = (hours_from_now(59.5), hours_from_now(80.5)) if free else (now, now + timedelta(90))
    expected = sorted(
        (doctor.user.full_name, doctor.id, next_open)
        for doctor, next_open in doctors
        if (name is None or name in doctor.user.full_name.lower())
        and specialization in (None, doctor.specialization)
        and (not free or (next_open is not None and window[0] <= next_open <= window[1]))
    )

    got = []
    for offset in (0, 20, 40):
        rows = doctor_repo.listing(
            name, specialization, *window, limit=20, offset=offset, open_only=free
        )
        got += [(row.full_name, row.id, row.next_open) for row in rows]

    assert got == expected
    assert doctor_repo.count(name, specialization, window if free else None) == len(expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [("q=" + "x" * 101, "longer than 100"), ("q=a%00b", "special characters")],
)
def test_bad_searches_are_400(client, db, patient, query, message):
    response = client.get(f"/patient/doctors?{query}")
    assert response.status_code == 400
    assert message in text_of(response)


# -- a doctor's page ----------------------------------------------------------------------------


def test_doctor_page_groups_open_slots_by_clinic_day(client, db, patient, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "CLINIC_TIMEZONE", "America/New_York")
    doctor = make.doctor(user__full_name="Dr. Ada Lovelace", bio="Numbers & nerves.")
    base = hours_from_now(24 * 3).replace(hour=3, minute=0)  # 22:00 or 23:00 the day before, NY
    evening = make.slot(doctor=doctor, start_at=base)
    morning = make.slot(doctor=doctor, start_at=base + timedelta(hours=12))
    booked = make.slot(doctor=doctor, start_at=base + timedelta(hours=13))
    make.appointment(slot=booked)
    too_soon = make.slot(doctor=doctor, start_at=hours_from_now(0.5))
    too_far = make.slot(doctor=doctor, start_at=hours_from_now(24 * 91))

    page = text_of(client.get(f"/patient/doctors/{doctor.id}"))

    assert "Dr. Ada Lovelace" in page and "Numbers &amp; nerves." in page
    for slot in (evening, morning):  # each link says its start in clinic time
        assert f'href="/booking/slots/{slot.id}">{to_local(slot.start_at):%H:%M}</a>' in page
    for slot in (booked, too_soon, too_far):
        assert f'href="/booking/slots/{slot.id}"' not in page
    day_before = to_local(evening.start_at).date()
    assert day_before != to_local(morning.start_at).date()
    headings = [f"{d:%A %d %B %Y}</h3>" for d in (day_before, day_before + timedelta(days=1))]
    positions = [page.index(h) for h in headings]
    assert positions == sorted(positions)
    assert positions[0] < page.index(f"/booking/slots/{evening.id}") < positions[1]
    assert positions[1] < page.index(f"/booking/slots/{morning.id}")


def test_doctor_page_without_open_slots_says_so(client, db, patient, make):
    doctor = make.doctor(user__full_name="Dr. Busy")
    assert "has no open slots at the moment" in text_of(client.get(f"/patient/doctors/{doctor.id}"))


@pytest.mark.parametrize("which", ["missing", "inactive", "huge", "negative", "text"])
def test_unknown_or_inactive_doctor_is_404(client, db, patient, make, which):
    inactive = make.doctor(user__active=False)
    target = {
        "missing": inactive.id + 50,
        "inactive": inactive.id,
        "huge": "9" * 40,
        "negative": "-1",
        "text": "abc",
    }[which]
    assert client.get(f"/patient/doctors/{target}").status_code == 404


# -- dashboard, appointments, profile -----------------------------------------------------------


def test_dashboard_shows_the_patient_card_and_upcoming_appointments(client, db, patient, make):
    doctor = make.doctor(user__full_name="Dr. Ada Lovelace", specialization="Cardiology")
    upcoming = make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(30)), patient=patient
    )
    make.appointment(
        slot=make.slot(start_at=hours_from_now(40)), patient=patient, status="cancelled"
    )
    make.appointment(slot=make.slot(start_at=hours_from_now(50)))  # someone else's

    page = text_of(client.get("/patient/"))

    for text in ("Grace Hopper", "grace@example.com", "+1 555 0199", "09 December 1906"):
        assert text in page
    assert "Vincent +1 555 0142" in page
    assert "Dr. Ada Lovelace" in page and "Cardiology" in page
    assert to_local(upcoming.start_at).strftime("%a %d %b %Y, %H:%M") in page
    assert page.count("/cancel") == 1
    assert f"/booking/appointments/{upcoming.id}/cancel" in page


def test_patient_appointments_page_lists_upcoming_and_past(client, db, patient, make):
    soon = make.appointment(slot=make.slot(start_at=hours_from_now(30)), patient=patient)
    past = make.appointment(slot=make.slot(start_at=hours_from_now(-30)), patient=patient)
    make.appointment(slot=make.slot(start_at=hours_from_now(31)))  # someone else's

    upcoming_page = text_of(client.get("/patient/appointments"))
    past_page = text_of(client.get("/patient/appointments?when=past"))

    assert f"/booking/appointments/{soon.id}/cancel" in upcoming_page
    assert upcoming_page.count("/cancel") == 1
    assert to_local(past.start_at).strftime("%a %d %b %Y, %H:%M") in past_page
    assert "/cancel" not in past_page
    assert "Booked" in past_page


def test_a_past_or_cancelled_visit_offers_to_book_the_doctor_again(client, db, patient, make):
    seen, gone, busy = make.doctor(), make.doctor(), make.doctor()
    make.appointment(slot=make.slot(doctor=seen, start_at=hours_from_now(-50)), status="completed")
    done = make.appointment(
        slot=make.slot(doctor=seen, start_at=hours_from_now(-30)),
        patient=patient,
        status="completed",
    )
    make.appointment(
        slot=make.slot(doctor=gone, start_at=hours_from_now(-40)), patient=patient, status="no_show"
    )
    gone.user.active = False  # the doctor has left: nothing to book
    dropped = make.appointment(
        slot=make.slot(doctor=busy, start_at=hours_from_now(40)),
        patient=patient,
        status="cancelled",
    )
    make.appointment(slot=make.slot(doctor=busy, start_at=hours_from_now(50)), patient=patient)
    db.session.commit()

    past = text_of(client.get("/patient/appointments?when=past"))
    upcoming = text_of(client.get("/patient/appointments"))

    assert past.count(">Book again</a>") == 1
    assert f'href="/patient/doctors/{done.doctor_id}">Book again</a>' in past
    assert upcoming.count(">Book again</a>") == 1  # the cancelled one, not the booked one
    assert f'href="/patient/doctors/{dropped.doctor_id}">Book again</a>' in upcoming


def test_the_dashboard_tells_of_a_coming_visit_someone_else_cancelled(client, db, patient, make):
    from app.services import booking

    doctor = make.doctor(user__full_name="Dr. Ada Byron")

    def mine(hours: float):
        return make.appointment(
            slot=make.slot(doctor=doctor, start_at=hours_from_now(hours)), patient=patient
        )

    by_doctor, by_clinic, by_me, long_ago = mine(30), mine(50), mine(70), mine(90)
    booking.cancel(by_doctor.id, actor=doctor.user, reason="Called to theatre")
    booking.cancel(by_clinic.id, actor=make.admin())
    booking.cancel(by_me.id, actor=patient.user)
    booking.cancel(long_ago.id, actor=doctor.user, now=datetime.now(UTC) - timedelta(days=8))
    db.session.commit()

    page = " ".join(text_of(client.get("/patient/")).split())

    when = to_local(by_doctor.start_at).strftime("%a %d %b %Y, %H:%M")
    told = f"Dr. Ada Byron cancelled your appointment on <strong>{when}</strong>"
    assert told + ": <q>Called to theatre</q>." in page
    assert "The clinic cancelled your appointment with Dr. Ada Byron on" in page
    assert page.count("cancelled your appointment") == 2  # not the patient's own, nor old news
    assert f'href="/patient/doctors/{doctor.id}">Book another time</a>' in page


def test_patients_see_the_note_they_left_and_nobody_else_s(client, db, patient, make):
    make.appointment(slot=make.slot(start_at=hours_from_now(30)), patient=patient, notes="Knee")
    make.appointment(slot=make.slot(start_at=hours_from_now(31)), notes="Someone else's note")

    for path in ("/patient/", "/patient/appointments"):
        page = text_of(client.get(path))
        assert "Your note" in page and '<span class="keep-lines">Knee</span></td>' in page, path
        assert "Someone else" not in page, path


def test_patient_profile_is_prefilled_and_saves(client, db, patient):
    page = text_of(client.get("/patient/profile"))
    assert 'value="Grace Hopper"' in page and 'value="1906-12-09"' in page

    response = client.post(
        "/patient/profile",
        data={
            "full_name": "Grace B. Hopper",
            "date_of_birth": "1906-12-09",
            "phone": "",
            "address": "Arlington, Virginia",
            "emergency_contact": "",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    profile = db.session.get(PatientProfile, patient.id)
    assert profile.user.full_name == "Grace B. Hopper" and profile.user.phone is None
    assert profile.address == "Arlington, Virginia" and profile.emergency_contact is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "profile.updated"))
    assert event.details["fields"] == ["address", "emergency_contact", "full_name", "phone"]


PATIENT_PROFILE = {
    "full_name": "Grace",
    "date_of_birth": "",
    "phone": "",
    "address": "",
    "emergency_contact": "",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "This field is required"),
        ("full_name", "x" * 121, "longer than 120"),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("date_of_birth", "1066-10-14", "check the year"),
        ("date_of_birth", "14/10/1990", "YYYY-MM-DD"),
        ("phone", "<script>", "Digits, spaces"),
        ("address", "x" * 301, "longer than 300"),
        ("emergency_contact", "x" * 201, "longer than 200"),
        ("emergency_contact", "\x00", "special characters"),
    ],
)
def test_bad_patient_profile_input_is_400(client, db, patient, field, value, message):
    response = client.post("/patient/profile", data={**PATIENT_PROFILE, field: value})

    assert response.status_code == 400
    assert message in text_of(response)
    assert f'id="{field}-error"' in text_of(response)
    db.session.expire_all()
    assert db.session.get(PatientProfile, patient.id).user.full_name == "Grace Hopper"


def test_a_patient_account_without_a_profile(client, db, make, login_as):
    user = make.user(role=Role.PATIENT, full_name="No Card")
    login_as(client, user)

    assert client.get("/patient/").status_code == 200
    assert client.get("/patient/appointments").status_code == 404
    assert client.get("/booking/slots/1").status_code == 404
    assert client.post("/patient/profile", data=PATIENT_PROFILE).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).patient_profile is not None
    assert client.get("/patient/appointments").status_code == 200


def test_the_directory_finds_who_is_free_on_a_day(client, db, patient, make):
    day = (datetime.now(UTC) + timedelta(days=3)).date()  # the suite's clinic is UTC

    def at(doctor, days: int, hour: int):
        midnight = datetime.combine(day + timedelta(days=days), datetime.min.time(), UTC)
        return make.slot(doctor=doctor, start_at=midnight + timedelta(hours=hour))

    free = make.doctor(user__full_name="Dr. Free", specialization="Cardiology")
    for days, hour in ((0, 15), (0, 10), (-1, 9)):  # the day's first is the one shown
        at(free, days, hour)
    other_day = make.doctor(user__full_name="Dr. Tomorrow", specialization="Cardiology")
    at(other_day, 1, 9)
    full = make.doctor(user__full_name="Dr. Full", specialization="Cardiology")
    make.appointment(slot=at(full, 0, 11))

    response = client.get(f"/patient/doctors?day={day.isoformat()}&specialization=Cardiology")

    page = text_of(response)
    assert response.status_code == 200
    assert "Dr. Free" in page and "Dr. Tomorrow" not in page and "Dr. Full" not in page
    assert "1 doctor found." in page
    assert f"First open time {day:%a %d %b}" in page and ">10:00</td>" in page
    assert f'href="/patient/doctors/{free.id}#day-{day.isoformat()}"' in page  # to that day
    assert f'id="day-{day.isoformat()}"' in text_of(client.get(f"/patient/doctors/{free.id}"))

    empty = text_of(client.get(f"/patient/doctors?day={day.isoformat()}&q=tomorrow"))
    assert f"with an open time on {day:%A %d %B}: try another day" in empty


@pytest.mark.parametrize(
    ("days", "message"),
    [(-1, "That day has passed"), (91, "Bookings open up to"), (None, "Use the format")],
)
def test_a_day_outside_the_booking_window_is_a_400(client, patient, days, message):
    day = "soon" if days is None else (datetime.now(UTC) + timedelta(days=days)).date()
    response = client.get(f"/patient/doctors?day={day}")
    assert response.status_code == 400
    assert message in text_of(response)


def test_the_front_desk_finds_who_is_free_on_a_day_too(client, make, login_as):
    login_as(client, make.admin())
    caller = make.patient()
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    busy_day = make.doctor(user__full_name="Dr. Elsewhere")
    make.slot(
        doctor=busy_day,
        start_at=datetime.combine(day, datetime.min.time(), UTC) - timedelta(hours=3),
    )
    free = make.doctor(user__full_name="Dr. Free")
    make.slot(
        doctor=free, start_at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
    )

    page = text_of(client.get(f"/admin/users/{caller.user.id}/book?day={day.isoformat()}"))

    assert "Dr. Free" in page and "Dr. Elsewhere" not in page
