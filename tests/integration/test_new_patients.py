"""A doctor not taking new patients: only patients they have taken on book them online."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import Appointment, AuditEvent, OutboxMessage, WaitlistEntry
from app.services import waitlist
from tests.helpers import count_queries, days_from_now, text_of

REFUSAL = (
    "Dr. Jane Full is not taking new patients at the moment: only patients who have had an "
    "appointment with them can book online. Please choose another doctor, or call the front "
    "desk on +1 555 0100."
)


@pytest.fixture
def doctor(make):
    return make.doctor(user__full_name="Dr. Jane Full", closed_to_new_patients=True)


@pytest.fixture
def slot(make, doctor):
    return make.slot(doctor=doctor, start_at=days_from_now(10))


@pytest.fixture
def patient(make):
    return make.patient(user__full_name="Grace Hopper")


def appointments_of(db, patient) -> int:
    db.session.expire_all()
    query = select(func.count(Appointment.id)).where(
        Appointment.patient_id == patient.id, Appointment.status == "booked"
    )
    return db.session.scalar(query)


def test_a_new_patient_is_told_before_confirming_and_refused(client, db, login_as, patient, slot):
    login_as(client, patient.user)

    confirm = client.get(f"/booking/slots/{slot.id}")
    assert confirm.status_code == 409
    page = text_of(confirm)
    assert REFUSAL in page
    assert "Confirm booking" not in page
    # none of this doctor's times would do: the way on is another doctor
    assert "Other open slots" not in page and "no other open slots" not in page
    assert 'href="/patient/doctors">Find another doctor</a>' in page

    response = client.post(f"/booking/slots/{slot.id}", data={"notes": "Please"})
    assert response.status_code == 409
    assert REFUSAL in text_of(response)
    assert appointments_of(db, patient) == 0


@pytest.mark.parametrize("status", ["booked", "completed", "no_show"])
def test_patients_the_doctor_has_taken_on_book_as_before(
    client, db, make, login_as, patient, doctor, slot, status
):
    earlier = days_from_now(-20 if status != "booked" else 5)
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=earlier), patient=patient, status=status
    )
    login_as(client, patient.user)

    assert client.get(f"/booking/slots/{slot.id}").status_code == 200
    assert client.post(f"/booking/slots/{slot.id}").status_code == 302


def test_a_cancelled_appointment_does_not_make_one_theirs(
    client, db, make, login_as, patient, doctor, slot
):
    make.appointment(
        slot=make.slot(doctor=doctor, start_at=days_from_now(4)),
        patient=patient,
        status="cancelled",
    )
    other = make.appointment(patient=patient, status="completed")  # another doctor's patient
    assert other.doctor_id != doctor.id
    login_as(client, patient.user)

    assert client.post(f"/booking/slots/{slot.id}").status_code == 409


def test_the_front_desk_and_the_doctor_book_new_patients(
    client, db, make, login_as, patient, doctor, slot
):
    login_as(client, make.admin())
    desk_page = f"/admin/users/{patient.user.id}/book?doctor={doctor.id}"
    warning = (
        "Dr. Jane Full is not taking new patients, and Grace Hopper has not had an appointment"
    )
    assert warning in " ".join(text_of(client.get(desk_page)).split())  # the desk knows

    by_desk = client.post(
        desk_page, data={"slot_id": str(slot.id), "notes": "Referred by their GP."}
    )
    assert by_desk.status_code == 302
    assert appointments_of(db, patient) == 1
    assert warning not in " ".join(text_of(client.get(desk_page)).split())  # hers now

    # now theirs: the patient books the next one online
    login_as(client, patient.user)
    second = make.slot(doctor=doctor, start_at=days_from_now(12))
    assert client.post(f"/booking/slots/{second.id}").status_code == 302


def test_a_new_patient_cannot_join_the_doctors_waitlist(
    client, db, login_as, patient, doctor, slot
):
    login_as(client, patient.user)
    day = (datetime.now(UTC) + timedelta(days=3)).date()

    response = client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": day.isoformat()})

    assert response.status_code == 409
    assert REFUSAL in text_of(response)
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0


def box(page: str) -> str:
    """The profile's checkbox, as sent."""
    return re.search(r'<input[^>]*name="closed_to_new_patients"[^>]*>', page).group(0)


def test_the_doctor_closes_and_opens_their_list_from_their_profile(
    client, db, make, login_as, patient
):
    doctor = make.doctor(user__full_name="Dr. Jane Full")
    slot = make.slot(doctor=doctor, start_at=days_from_now(10))
    login_as(client, doctor.user)
    form = {
        "full_name": "Dr. Jane Full",
        "specialization": doctor.specialization,
        "years_of_experience": "10",
        "bio": "Experienced and kind.",
    }
    profile = text_of(client.get("/doctor/profile"))
    assert "checked" not in box(profile)
    assert "Not taking new patients for now" in profile

    assert (
        client.post("/doctor/profile", data={**form, "closed_to_new_patients": "y"}).status_code
        == 302
    )
    db.session.expire_all()
    assert doctor.closed_to_new_patients
    assert "checked" in box(text_of(client.get("/doctor/profile")))
    fields = db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.kind == "profile.updated")
    ).one()["fields"]
    assert fields == ["closed_to_new_patients"]

    login_as(client, patient.user)
    assert client.get(f"/booking/slots/{slot.id}").status_code == 409

    login_as(client, doctor.user)
    assert client.post("/doctor/profile", data=form).status_code == 302  # the box left empty
    db.session.expire_all()
    assert not doctor.closed_to_new_patients
    login_as(client, patient.user)
    assert client.get(f"/booking/slots/{slot.id}").status_code == 200


def test_the_directory_says_so(client, db, make, login_as, patient, doctor, slot):
    make.doctor(user__full_name="Dr. Open Door")
    notice = "Not taking new patients at the moment."

    public = text_of(client.get("/doctors"))
    assert public.count("Not taking new patients</span>") == 1
    assert notice in text_of(client.get(f"/doctors/{doctor.id}"))

    login_as(client, patient.user)
    listing = text_of(client.get("/patient/doctors"))
    assert listing.count("Not taking new patients</span>") == 1
    assert listing.index("Dr. Jane Full") < listing.index("Not taking new patients</span>")
    # their page tells a new patient at once, and offers neither the times nor the waitlist
    page = text_of(client.get(f"/patient/doctors/{doctor.id}"))
    assert REFUSAL in page
    assert f"/booking/slots/{slot.id}" not in page and "Join the waitlist" not in page
    assert f"{slot.start_at:%H:%M}</span>" in page  # the times are still shown


def test_a_patient_already_theirs_is_told_they_book_as_usual(
    client, db, make, login_as, patient, doctor, slot
):
    make.appointment(slot=make.slot(doctor=doctor, start_at=days_from_now(-30)), patient=patient)
    login_as(client, patient.user)

    page = text_of(client.get(f"/patient/doctors/{doctor.id}"))

    assert "you have had an appointment with them, so you book as usual" in " ".join(page.split())
    assert f"/booking/slots/{slot.id}" in page and "Join the waitlist" in page


def test_an_open_doctor_costs_the_booking_no_statement(client, db, make, login_as, patient):
    """The check asks the database only for a doctor who closed their list."""
    open_doctor = make.doctor()
    slots = [make.slot(doctor=open_doctor, start_at=days_from_now(d)) for d in (10, 11)]
    closed = make.doctor(closed_to_new_patients=True)
    make.appointment(slot=make.slot(doctor=closed, start_at=days_from_now(3)), patient=patient)
    closed_slots = [make.slot(doctor=closed, start_at=days_from_now(d)) for d in (12, 13)]
    login_as(client, patient.user)
    client.post(f"/booking/slots/{slots[0].id}")
    client.post(f"/booking/slots/{closed_slots[0].id}")

    with count_queries(db.engine) as to_open:
        assert client.post(f"/booking/slots/{slots[1].id}").status_code == 302
    with count_queries(db.engine) as to_closed:
        assert client.post(f"/booking/slots/{closed_slots[1].id}").status_code == 302

    assert len(to_closed) == len(to_open) + 1


def test_a_newcomer_waiting_since_before_the_list_closed_is_not_told_of_places(
    db, make, patient, doctor
):
    day = days_from_now(6).date()
    own = make.patient(user__email="own@example.com")
    make.appointment(slot=make.slot(doctor=doctor, start_at=days_from_now(-20)), patient=own)
    for who in (patient, own):  # the newcomer joined first, when the list was open
        db.session.add(WaitlistEntry(patient_id=who.id, doctor_id=doctor.id, day=day))
    db.session.commit()

    told = waitlist.slot_freed(make.slot(doctor=doctor, start_at=days_from_now(6, hour=10)))
    db.session.commit()

    assert told == 1
    sent = db.session.scalars(select(OutboxMessage.payload)).all()
    assert [(p["action"], p["to"]) for p in sent] == [("WAITLIST_SLOT_OPEN", "own@example.com")]

    doctor.closed_to_new_patients = False  # open again: the newcomer's place is there still
    db.session.commit()
    assert waitlist.slot_freed(make.slot(doctor=doctor, start_at=days_from_now(6, 11))) == 2
