"""New doctors wait for the front desk's approval where the clinic asks for it
(`DOCTOR_APPROVAL_REQUIRED`): they sign in and set up at once, but patients cannot find, book or
wait for them until an admin approves the account."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import Appointment, AuditEvent, DoctorProfile, User, WaitlistEntry
from app.services import Conflict, doctor_review
from app.services.audit import AuditKind
from app.timeutil import local_today, utcnow
from tests.helpers import count_queries, table_rows
from tests.integration.outbox_helpers import messages
from tests.integration.races import run_together

SIGN_UP = {
    "full_name": "Dr. Ines Novak",
    "email": "ines@example.com",
    "password": "a long unusual passphrase",
    "confirm_password": "a long unusual passphrase",
    "specialization": "Neurology",
    "years_of_experience": "9",
    "bio": "Headaches and sleep.",
}


@pytest.fixture
def approval(app, monkeypatch):
    monkeypatch.setitem(app.config, "DOCTOR_APPROVAL_REQUIRED", True)


def said(response) -> str:
    """The page's text with its line breaks and indents as single spaces."""
    return " ".join(response.get_data(as_text=True).split())


def emails(action: str) -> list:
    return [m for m in messages(_db) if m.payload["action"] == action]


def waiting_doctor(make, **user):
    """A doctor who signed up and waits, with an open slot tomorrow."""
    doctor = make.doctor(approved_at=None, specialization="Neurology", **user)
    slot = make.slot(doctor=doctor, start_at=utcnow().replace(microsecond=0) + timedelta(days=1))
    return doctor, slot


def test_a_doctor_signing_up_where_approval_is_asked_waits_and_is_told_so(client, db, approval):
    response = client.post("/auth/signup/doctor", data=SIGN_UP)

    assert response.status_code == 302
    profile = db.session.scalar(select(DoctorProfile))
    assert profile.approved_at is None and not profile.bookable
    (welcome,) = emails("SIGNUP_WELCOME")
    assert welcome.payload["data"]["review_phone"] == "+1 555 0100"
    dashboard = said(client.get("/doctor/"))
    assert "Your account is waiting for the clinic's approval." in dashboard
    assert "waiting for the clinic's approval" in said(client.get("/doctor/availability"))
    # meanwhile they set up: a time published now is bookable once they are approved
    day = (local_today() + timedelta(days=2)).isoformat()
    published = client.post(
        "/doctor/availability", data={"date": day, "start_time": "09:00", "end_time": "09:30"}
    )
    assert published.status_code == 302


def test_where_approval_is_not_asked_a_doctor_is_listed_as_they_sign_up(client, db):
    assert client.post("/auth/signup/doctor", data=SIGN_UP).status_code == 302

    profile = db.session.scalar(select(DoctorProfile))
    assert profile.approved_at is not None and profile.bookable
    (welcome,) = emails("SIGNUP_WELCOME")
    assert "review_phone" not in welcome.payload["data"]
    assert "approval" not in said(client.get("/doctor/"))


def test_patients_cannot_find_book_or_wait_for_a_doctor_not_approved(client, db, make, login_as):
    doctor, slot = waiting_doctor(make, user__full_name="Dr. Ines Novak")
    listed = make.doctor(user__full_name="Dr. Listed Lee", specialization="Cardiology")
    patient = make.patient()
    login_as(client, patient.user)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()

    directory = said(client.get("/patient/doctors"))
    assert "Dr. Listed Lee" in directory and "Ines Novak" not in directory
    assert "1 doctor" in directory
    assert "Ines Novak" not in said(client.get("/patient/doctors?q=novak"))
    assert "Neurology" not in said(client.get("/patient/doctors"))  # not a filter choice
    assert "Ines Novak" not in said(client.get(f"/patient/doctors?day={tomorrow}"))
    assert client.get(f"/patient/doctors/{doctor.id}").status_code == 404
    page = client.get(f"/booking/slots/{slot.id}")
    assert page.status_code == 409
    assert "not taking bookings" in said(page)
    booked = client.post(f"/booking/slots/{slot.id}", data={"notes": ""})
    assert booked.status_code == 409
    joined = client.post(f"/patient/doctors/{doctor.id}/waitlist", data={"date": tomorrow})
    assert joined.status_code == 404
    assert db.session.scalar(select(func.count(Appointment.id))) == 0
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 0
    assert client.get(f"/patient/doctors/{listed.id}").status_code == 200


def test_nor_can_the_front_desk_book_them_before_approving_them(client, db, make, login_as):
    doctor, slot = waiting_doctor(make)
    patient = make.patient()
    login_as(client, make.admin())

    search = said(client.get(f"/admin/users/{patient.user.id}/book?q=&specialization="))
    assert doctor.user.full_name not in search
    assert client.get(f"/admin/users/{patient.user.id}/book?doctor={doctor.id}").status_code == 404
    booked = client.post(
        f"/admin/users/{patient.user.id}/book?doctor={doctor.id}", data={"slot_id": slot.id}
    )
    assert booked.status_code == 404
    assert db.session.scalar(select(func.count(Appointment.id))) == 0


def test_the_desk_finds_them_reviews_and_approves_them_and_patients_can_then_book(
    client, db, make, login_as
):
    doctor, slot = waiting_doctor(
        make, user__full_name="Dr. Ines Novak", user__email="ines@example.com"
    )
    make.doctor(user__full_name="Dr. Listed Lee")
    admin = make.admin()
    login_as(client, admin)

    dashboard = said(client.get("/admin/"))
    assert "1 new doctor is waiting for approval." in dashboard
    assert "/admin/users?role=doctor&amp;status=waiting" in dashboard
    listing = client.get("/admin/users?role=doctor&status=waiting")
    rows = table_rows(listing.get_data(as_text=True), "data-table", "users")
    assert [row[0] for row in rows[1:]] == ["Dr. Ines Novak"]
    assert "Awaiting approval" in rows[1][3]
    review = client.get(f"/admin/users/{doctor.user.id}/approve")
    assert review.status_code == 200
    for detail in ("ines@example.com", "Neurology", "10 years", "Experienced and kind."):
        assert detail in said(review)

    response = client.post(
        f"/admin/users/{doctor.user.id}/approve", data={"next": "/admin/users?status=waiting"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?status=waiting"
    db.session.expire_all()
    assert db.session.get(DoctorProfile, doctor.id).approved_at is not None
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == AuditKind.DOCTOR_APPROVED)
    ).all()
    assert (event.actor_id, event.target_id) == (admin.id, doctor.user.id)
    assert event.details == {"specialization": "Neurology"}
    (approved,) = emails("DOCTOR_APPROVED")
    assert approved.payload["to"] == "ines@example.com"
    assert approved.payload["data"]["full_name"] == "Dr. Ines Novak"
    assert "is approved" in said(client.get("/admin/users"))
    assert "waiting for approval" not in said(client.get("/admin/"))
    assert _names(client, "?status=waiting") == []

    patient = make.patient()
    login_as(client, patient.user)
    assert "Dr. Ines Novak" in said(client.get("/patient/doctors?q=novak"))
    assert client.post(f"/booking/slots/{slot.id}", data={"notes": ""}).status_code == 302


def _names(client, query: str) -> list[str]:
    rows = table_rows(
        client.get("/admin/users" + query).get_data(as_text=True), "data-table", "users"
    )
    return [row[0] for row in rows[1:]]


def test_approving_twice_a_deactivated_account_or_someone_not_a_doctor_is_refused(
    client, db, make, login_as
):
    doctor, _ = waiting_doctor(make)
    declined, _ = waiting_doctor(make, user__active=False)
    listed = make.doctor()
    patient = make.patient()
    login_as(client, make.admin())

    assert client.post(f"/admin/users/{doctor.user.id}/approve").status_code == 302
    again = client.post(f"/admin/users/{doctor.user.id}/approve")
    assert again.status_code == 409
    assert "already approved" in said(again)
    assert client.get(f"/admin/users/{listed.user.id}/approve").status_code == 409
    refused = client.post(f"/admin/users/{declined.user.id}/approve")
    assert refused.status_code == 409
    assert "reactivate the account first" in said(refused)
    assert client.get(f"/admin/users/{declined.user.id}/approve").status_code == 409
    assert client.get(f"/admin/users/{patient.user.id}/approve").status_code == 404
    assert client.post(f"/admin/users/{patient.user.id}/approve").status_code == 404
    assert client.post("/admin/users/999999/approve").status_code == 404
    db.session.expire_all()
    assert db.session.get(DoctorProfile, declined.id).approved_at is None
    assert len(emails("DOCTOR_APPROVED")) == 1


def test_the_desk_declines_an_applicant_who_is_told_why_and_signed_out(
    client, db, make, login_as, app
):
    doctor, _ = waiting_doctor(make, user__full_name="Dr. Ines Novak")
    applicant = login_as(app.test_client(), doctor.user)
    assert applicant.get("/doctor/").status_code == 200
    login_as(client, make.admin())
    review = client.get(f"/admin/users/{doctor.user.id}/approve?next=/admin/users?status%3Dwaiting")
    assert f'action="/admin/users/{doctor.user.id}/decline"' in review.get_data(as_text=True)

    response = client.post(
        f"/admin/users/{doctor.user.id}/decline",
        data={
            "reason": "We could not verify your registration.",
            "next": "/admin/users?status=waiting",
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users?status=waiting"
    assert "Dr. Ines Novak is declined" in said(client.get("/admin/users?status=waiting"))
    db.session.expire_all()
    user = db.session.get(User, doctor.user.id)
    assert not user.active and user.doctor_profile.approved_at is None
    (email,) = emails("DOCTOR_DECLINED")
    assert email.payload["to"] == user.email
    assert email.payload["data"] == {
        "full_name": "Dr. Ines Novak",
        "help_phone": "+1 555 0100",
        "decline_reason": "We could not verify your registration.",
    }
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.kind, e.details.get("reason_given")) for e in events] == [
        (AuditKind.ACCOUNT_DEACTIVATED, None),
        (AuditKind.DOCTOR_DECLINED, True),
    ]
    assert applicant.get("/doctor/").status_code == 302  # signed out at their next page
    assert "waiting for approval" not in said(client.get("/admin/"))
    assert _names(client, "?status=waiting") == []
    listed = table_rows(
        client.get("/admin/users?role=doctor").get_data(as_text=True), "data-table", "users"
    )
    assert "Deactivated" in listed[1][3] and "Never approved" in listed[1][3]
    # reactivated later, they wait for approval again rather than going straight to patients
    assert client.post(f"/admin/users/{doctor.user.id}/activate").status_code == 302
    assert _names(client, "?status=waiting") == ["Dr. Ines Novak"]


def test_declining_without_a_reason_or_with_too_long_a_one(client, db, make, login_as):
    doctor, _ = waiting_doctor(make)
    login_as(client, make.admin())

    too_long = client.post(f"/admin/users/{doctor.user.id}/decline", data={"reason": "x" * 201})

    assert too_long.status_code == 400
    assert "Field cannot be longer than 200 characters." in said(too_long)
    assert "Approve and list them" in said(too_long)  # the review page, with its error
    db.session.expire_all()
    assert db.session.get(User, doctor.user.id).active
    assert client.post(f"/admin/users/{doctor.user.id}/decline").status_code == 302
    (email,) = emails("DOCTOR_DECLINED")
    assert "decline_reason" not in email.payload["data"]


def test_declining_someone_approved_deactivated_or_not_a_doctor_is_refused(
    client, db, make, login_as
):
    listed = make.doctor()
    declined, _ = waiting_doctor(make, user__active=False)
    patient = make.patient()
    login_as(client, make.admin())

    approved = client.post(f"/admin/users/{listed.user.id}/decline")
    assert approved.status_code == 409
    assert "already approved" in said(approved)
    assert client.post(f"/admin/users/{declined.user.id}/decline").status_code == 409
    assert client.post(f"/admin/users/{patient.user.id}/decline").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, listed.user.id).active
    assert emails("DOCTOR_DECLINED") == []


def test_the_users_list_reads_who_waits_without_a_query_per_row(client, db, make, login_as):
    login_as(client, make.admin())
    waiting_doctor(make)
    with count_queries(db.engine) as few:
        assert client.get("/admin/users").status_code == 200
    for _ in range(5):  # 12 accounts in all: one page
        waiting_doctor(make)
        make.doctor()
    with count_queries(db.engine) as many:
        page = client.get("/admin/users")
    assert page.status_code == 200
    assert said(page).count('text-bg-warning">Awaiting approval<') == 6  # not the filter
    assert len(many) == len(few)


@pytest.mark.postgres
def test_two_admins_approving_at_once_approve_once(race_app, db, make):
    doctor, _ = waiting_doctor(make)
    admins = [make.admin() for _ in range(2)]
    user_id, admin_ids = doctor.user.id, [a.id for a in admins]

    def attempt(i: int, barrier) -> str:
        with race_app.test_request_context():
            admin = _db.session.get(User, admin_ids[i])
            # as the page does: the account and its unapproved profile read first, and held
            shown = doctor_review.applicant(user_id)
            try:
                barrier.wait()
                doctor_review.approve(user_id, actor=admin)
                assert shown.doctor_profile.approved_at is not None
                _db.session.commit()
                return "approved"
            except Conflict:
                _db.session.rollback()
                return "refused"
            finally:
                _db.session.remove()

    assert sorted(run_together(2, attempt)) == ["approved", "refused"]
    db.session.expire_all()
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert kinds.count(AuditKind.DOCTOR_APPROVED) == 1
    assert len(emails("DOCTOR_APPROVED")) == 1


@pytest.mark.postgres
def test_one_admin_approving_as_another_declines_decides_once(race_app, db, make):
    doctor, _ = waiting_doctor(make)
    admins = [make.admin() for _ in range(2)]
    user_id, admin_ids = doctor.user.id, [a.id for a in admins]

    def attempt(i: int, barrier) -> str:
        with race_app.test_request_context():
            admin = _db.session.get(User, admin_ids[i])
            shown = doctor_review.applicant(user_id)  # both pages read it waiting, and hold it
            assert shown.active and shown.doctor_profile.approved_at is None
            try:
                barrier.wait()
                if i == 0:
                    doctor_review.approve(user_id, actor=admin)
                else:
                    doctor_review.decline(user_id, "Not verified.", actor=admin)
                _db.session.commit()
                return "approved" if i == 0 else "declined"
            except Conflict:
                _db.session.rollback()
                return "refused"
            finally:
                _db.session.remove()

    outcome = run_together(2, attempt)
    assert outcome.count("refused") == 1
    db.session.expire_all()
    user = db.session.get(User, user_id)
    if "approved" in outcome:
        assert user.active and user.doctor_profile.approved_at is not None
        assert (len(emails("DOCTOR_APPROVED")), len(emails("DOCTOR_DECLINED"))) == (1, 0)
    else:
        assert not user.active and user.doctor_profile.approved_at is None
        assert (len(emails("DOCTOR_APPROVED")), len(emails("DOCTOR_DECLINED"))) == (0, 1)


def test_a_doctor_declined_reactivated_and_declined_again_is_told_each_time(
    client, db, make, login_as
):
    """They sent their papers, the desk gave them another look, and still could not approve."""
    doctor, _ = waiting_doctor(make)
    login_as(client, make.admin())
    decline = f"/admin/users/{doctor.user.id}/decline"
    for reason in ("We could not verify your registration.", "Your registration has lapsed."):
        assert client.post(decline, data={"reason": reason}).status_code == 302
        assert client.post(f"/admin/users/{doctor.user.id}/activate").status_code == 302

    told = [email.payload["data"]["decline_reason"] for email in emails("DOCTOR_DECLINED")]
    assert told == ["We could not verify your registration.", "Your registration has lapsed."]
