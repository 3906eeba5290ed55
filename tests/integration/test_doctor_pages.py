"""The doctor's dashboard, appointment list and profile."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.models import AuditEvent, DoctorProfile, Role, User
from app.timeutil import local_today
from tests.helpers import text_of


@pytest.fixture
def doctor(make, client, login_as):
    doctor = make.doctor(user__full_name="Dr. Ada Lovelace", specialization="Cardiology")
    login_as(client, doctor.user)
    return doctor


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def test_dashboard_shows_upcoming_appointments_and_counts(client, db, doctor, make):
    soon = make.slot(doctor=doctor, start_at=hours_from_now(3))
    booked = make.appointment(slot=soon, notes="Chest pain", patient__user__full_name="Grace H")
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(5)),
        status="cancelled",
        patient__user__full_name="Cancelled Carl",
    )
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(-30)),
        patient__user__full_name="Past Pat",
    )
    for hours in (24 * 3, 24 * 4):
        make.slot(doctor=doctor, start_at=hours_from_now(hours))
    make.slot(doctor=doctor, start_at=hours_from_now(-2))  # past: not an open future slot
    make.slot(start_at=hours_from_now(7))  # another doctor's

    page = text_of(client.get("/doctor/"))

    assert "Grace H" in page and "Chest pain" in page
    assert "Cancelled Carl" not in page and "Past Pat" not in page
    assert f"/booking/appointments/{booked.id}/cancel" in page
    counts = [
        page.split(label)[1].split("</a>")[0].rsplit(">", 1)[1]
        for label in ("Upcoming appointments</p>", "Open future slots</p>")
    ]
    # the cancelled appointment's slot is open again: 2 free future slots + that one
    assert counts == ["1", "3"]
    assert "Appointments this week" in page


def test_appointments_this_week_counts_the_clinic_week(client, db, doctor, make, app):
    from app.services import agenda

    monday = datetime(2030, 3, 4, 9, tzinfo=UTC)  # a Monday
    for start in (monday, monday + timedelta(days=6, hours=14), monday + timedelta(days=7)):
        make.appointment(slot=make.slot(doctor=doctor, start_at=start))
    make.appointment(slot=make.slot(doctor=doctor, start_at=monday + timedelta(days=2)))
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=monday + timedelta(days=3)), status="cancelled"
    )

    summary = agenda.doctor_summary(doctor, monday + timedelta(days=2))

    # Monday, Wednesday and Sunday 23:00; next Monday and the cancelled one do not count
    assert summary.this_week == 3
    assert summary.week == (date(2030, 3, 4), date(2030, 3, 10))


def test_today_counts_the_days_appointments_and_who_arrived(client, db, doctor, make):
    from app.services import agenda

    now = datetime(2030, 3, 6, 11, tzinfo=UTC)  # the suite's clinic is UTC
    arrived = now - timedelta(hours=2)
    for hour, status, checked_in in (
        (8, "completed", arrived),  # seen
        (10, "booked", arrived),  # in the waiting room
        (15, "booked", None),  # not here yet
        (16, "cancelled", None),  # does not count
    ):
        slot = make.slot(doctor=doctor, start_at=now.replace(hour=hour))
        make.appointment(slot=slot, status=status, checked_in_at=checked_in)
    make.appointment(slot=make.slot(doctor=doctor, start_at=now + timedelta(days=1)))

    summary = agenda.doctor_summary(doctor, now)

    assert (summary.today, summary.arrived) == (3, 2)


def test_the_dashboard_shows_today_and_links_the_day_sheet(client, login_as, doctor, make):
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    make.appointment(slot=make.slot(doctor=doctor, start_at=noon + timedelta(hours=2)))

    with time_machine.travel(noon, tick=False):
        login_as(client, doctor.user)  # a session of that moment
        page = " ".join(text_of(client.get("/doctor/")).split())

    today = page.split('mb-1">Today</p>')[1]
    assert today.startswith(' <p class="display-6 mb-0"><a href="/doctor/day"')
    assert ">1</a>" in today.split("</div>")[0] and "0 of 1 arrived" in today


@pytest.fixture
def a_sunday():
    """Sunday 10 March 2030. Requested before `doctor`, so the sign-in happens then too."""
    with time_machine.travel(datetime(2030, 3, 10, 12, tzinfo=UTC), tick=True):
        yield


def test_doctor_dashboard_names_the_week_it_counts(a_sunday, client, db, doctor):
    # On a Sunday "this week" is the one ending today, which a doctor looking ahead to Monday
    # might not expect: the card says which days it counts
    page = text_of(client.get("/doctor/"))

    assert "Mon 04 Mar – Sun 10 Mar" in page


def test_doctor_appointments_page_lists_upcoming_and_past_with_status(client, db, doctor, make):
    upcoming = make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(48)),
        patient__user__full_name="Future Fay",
    )
    cancelled = make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(72)),
        status="cancelled",
        patient__user__full_name="Cancelled Cid",
    )
    past = make.appointment(
        slot=make.slot(doctor=doctor, start_at=hours_from_now(-48)),
        status="completed",
        patient__user__full_name="Past Pam",
    )
    make.appointment(patient__user__full_name="Not Mine")

    page = text_of(client.get("/doctor/appointments"))
    assert "Future Fay" in page and "Cancelled Cid" in page and "Past Pam" not in page
    assert "Not Mine" not in page
    assert "Booked" in page and "Cancelled" in page
    assert f"/booking/appointments/{upcoming.id}/cancel" in page
    assert f"/booking/appointments/{cancelled.id}/cancel" not in page

    history = text_of(client.get("/doctor/appointments?when=past"))
    assert "Past Pam" in history and "Completed" in history and "Future Fay" not in history
    assert f"/booking/appointments/{past.id}/cancel" not in history
    assert client.get("/doctor/appointments?when=<script>&page=x").status_code == 200


def test_doctor_can_cancel_inside_the_patient_cutoff(client, db, doctor, make):
    appointment = make.appointment(slot=make.slot(doctor=doctor, start_at=hours_from_now(1)))

    assert f"/booking/appointments/{appointment.id}/cancel" in text_of(client.get("/doctor/"))


def test_profile_form_is_prefilled_and_saves(client, db, doctor):
    page = text_of(client.get("/doctor/profile"))
    assert 'value="Dr. Ada Lovelace"' in page and 'value="Cardiology"' in page

    response = client.post(
        "/doctor/profile",
        data={
            "full_name": "  Dr. Ada King ",
            "specialization": "Neurology",
            "years_of_experience": "21",
            "bio": "Numbers and nerves.",
            "phone": "+44 20 7946 0001",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/doctor/profile"
    db.session.expire_all()
    profile = db.session.get(DoctorProfile, doctor.id)
    assert (profile.user.full_name, profile.specialization, profile.years_of_experience) == (
        "Dr. Ada King",
        "Neurology",
        21,
    )
    assert (profile.bio, profile.user.phone) == ("Numbers and nerves.", "+44 20 7946 0001")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "profile.updated"))
    assert event.actor_id == doctor.user_id
    assert event.details["fields"] == [
        "bio",
        "full_name",
        "phone",
        "specialization",
        "years_of_experience",
    ]
    assert "Your profile has been saved." in text_of(client.get("/doctor/profile"))


def test_saving_an_unchanged_profile_records_nothing(client, db, doctor):
    data = {
        "full_name": "Dr. Ada Lovelace",
        "specialization": "Cardiology",
        "years_of_experience": "10",
        "bio": "Experienced and kind.",
        "phone": "",
    }
    assert client.post("/doctor/profile", data=data).status_code == 302
    assert db.session.scalar(select(AuditEvent)) is None


PROFILE = {
    "full_name": "Dr. A",
    "specialization": "Cardiology",
    "years_of_experience": "5",
    "bio": "",
    "phone": "",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "This field is required"),
        ("full_name", "   ", "This field is required"),
        ("full_name", "x" * 121, "longer than 120"),
        ("full_name", "Ada\x00", "special characters"),
        ("specialization", "", "This field is required"),
        ("specialization", "x" * 101, "longer than 100"),
        ("years_of_experience", "", "This field is required"),
        ("years_of_experience", "-1", "between 0 and 70"),
        ("years_of_experience", "71", "between 0 and 70"),
        ("years_of_experience", "1e3", "Not a valid integer"),
        ("years_of_experience", "9" * 400, "too large"),
        ("bio", "x" * 2001, "longer than 2000"),
        ("phone", "call me", "Digits, spaces"),
        ("phone", "1" * 33, "longer than 32"),
    ],
)
def test_bad_profile_input_is_400(client, db, doctor, field, value, message):
    response = client.post("/doctor/profile", data={**PROFILE, field: value})

    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert f'id="{field}-error"' in page
    db.session.expire_all()
    assert db.session.get(DoctorProfile, doctor.id).specialization == "Cardiology"


def test_a_doctor_account_without_a_profile_can_create_it(client, db, make, login_as):
    user = make.user(role=Role.DOCTOR, full_name="Dr. New")
    login_as(client, user)

    assert "fill it in" in text_of(client.get("/doctor/"))
    assert client.get("/doctor/availability").status_code == 404
    response = client.post("/doctor/profile", data={**PROFILE, "full_name": "Dr. New"})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).doctor_profile.specialization == "Cardiology"
    assert client.get("/doctor/availability").status_code == 200


def test_doctors_see_each_patients_date_of_birth_age_and_phone(client, db, doctor, make):
    """To tell two patients of one name apart, and to call one when the clinic runs late."""
    today = local_today()
    birthday_today = today.replace(year=today.year - 36)  # 36 is a multiple of 4: 29 Feb stays
    tomorrow = today + timedelta(days=1)
    birthday_tomorrow = tomorrow.replace(year=tomorrow.year - 36)
    for name, born, phone in (
        ("Grace Hopper", birthday_today, "+1 (555) 010-2030"),
        ("Ada Byron", birthday_tomorrow, None),
        ("Alan Turing", None, None),
    ):
        make.appointment(
            slot=make.slot(doctor=doctor, start_at=hours_from_now(30 + len(name))),
            patient__user__full_name=name,
            patient__user__phone=phone,
            patient__date_of_birth=born,
        )

    for page in (client.get("/doctor/"), client.get("/doctor/appointments")):
        html = page.get_data(as_text=True)
        grace, ada, alan = (
            html.split(name)[1].split("</td>")[0]
            for name in ("Grace Hopper", "Ada Byron", "Alan Turing")
        )
        assert f"Born {birthday_today:%-d %B %Y} (36)" in grace
        assert 'href="tel:+15550102030">+1 (555) 010-2030</a>' in grace
        assert f"Born {birthday_tomorrow:%-d %B %Y} (35)" in ada and "tel:" not in ada
        assert "Born" not in alan and "tel:" not in alan  # nothing given, nothing shown
