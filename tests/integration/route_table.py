"""Every route of the app, with what each actor of the security world gets from it.

One row per (rule, method). `expected` maps each actor to a status, or to LOGIN (302 to
/auth/login?next=…); `args` fills the URL from the world (the first patient's and first doctor's
objects, so the second ones are strangers); `data` is a valid form for POSTs; `changes` names the
actors whose request must change the database; for everyone else it must change nothing.
test_authorization_matrix.py fails when a route exists without a row here, or a row without a
route; test_csrf.py posts every POST row without its token.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pyotp

from app.services import attendance, calendar_feed, email_change, password_reset, two_step
from app.timeutil import local_today
from tests.factories import PASSWORD
from tests.helpers import url_rules
from tests.integration.security_world import (
    ACTORS,
    ADMINS,
    ANON,
    DOCTOR,
    DOCTOR2,
    DOCTORS,
    PATIENT,
    PATIENT2,
    PATIENTS,
    SIGNED_IN,
    STAFF,
    World,
)

LOGIN = "login"  # 302 to the sign-in page, with ?next=
NEW_PASSWORD = "a long unusual passphrase"
IGNORED_ENDPOINTS = {"static", "bootstrap.static"}


def everyone(status: int) -> dict:
    return dict.fromkeys(ACTORS, status)


def anonymous_only(status: int) -> dict:
    """Sign-in and sign-up pages: a signed-in user is sent to their dashboard (302)."""
    return {ANON: status, **dict.fromkeys(SIGNED_IN, 302)}


def signed_in(status: int) -> dict:
    return {ANON: LOGIN, **dict.fromkeys(SIGNED_IN, status)}


def only(roles: tuple, status: int, strangers: tuple = ()) -> dict:
    """`roles` get `status`, other signed-in users 403, anonymous visitors the sign-in page;
    `strangers` (of the right role, but not the object's owners) get 404."""
    return {
        ANON: LOGIN,
        **dict.fromkeys(SIGNED_IN, 403),
        **dict.fromkeys(roles, status),
        **dict.fromkeys(strangers, 404),
    }


def day(offset: int) -> str:
    return (local_today() + timedelta(days=offset)).isoformat()


def signup(role: str) -> Callable[[World], dict]:
    common = {
        "full_name": f"New {role.title()}",
        "email": f"new.{role}@example.com",
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    if role == "doctor":
        return lambda w: {**common, "specialization": "Neurology", "years_of_experience": "3"}
    return lambda w: {**common, "date_of_birth": "1990-01-01", "address": "1 Road"}


@dataclass(frozen=True)
class Row:
    method: str
    rule: str  # as in url_map, converters left out: /booking/slots/<slot_id>
    expected: dict
    args: Callable[[World], dict] = lambda w: {}
    data: Callable[[World], dict] | None = None
    changes: tuple = ()
    query: str | Callable[[World], str] = ""

    def url(self, world: World) -> str:
        url = self.rule
        for name, value in self.args(world).items():
            url = url.replace(f"<{name}>", str(value))
        return url + (self.query(world) if callable(self.query) else self.query)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


APPOINTMENT = {"args": lambda w: {"appointment_id": w.appointment.id}}
PARTIES = (PATIENT, DOCTOR, *STAFF)  # the appointment's own patient and doctor, and the staff
FREE_SLOT = {"args": lambda w: {"slot_id": w.free_slot.id}}
FIRST_DOCTOR = {"args": lambda w: {"doctor_id": w.doctor.id}}
RESET_LINK = {"args": lambda w: {"token": password_reset.make_token(w.patient.user)}}
ATTENDANCE_LINK = {"args": lambda w: {"token": attendance.make_token(w.appointment)}}
EMAIL_LINK = {
    "args": lambda w: {"token": email_change.make_token(w.patient.user, "confirmed@example.com")}
}


def two_step_setup(w: World) -> dict:
    """A set-up page's form, filled in by the first patient's phone: any other account's is
    refused (400), the page being theirs."""
    setup = two_step.begin(w.patient.user)
    code = pyotp.TOTP(setup.secret).now()
    return {"setup_token": setup.token, "code": code, "current_password": PASSWORD}


ROWS = [
    # public pages
    Row("GET", "/", anonymous_only(200)),
    Row("GET", "/healthz", everyone(200)),
    # the public doctor directory (a patient is sent to their own)
    Row("GET", "/doctors", {**everyone(200), **dict.fromkeys(PATIENTS, 302)}, query="?q=&page=1"),
    Row(
        "GET",
        "/doctors/<doctor_id>",
        {**everyone(200), **dict.fromkeys(PATIENTS, 302)},
        args=lambda w: {"doctor_id": w.doctor.id},
    ),
    # accounts
    Row("GET", "/auth/login", anonymous_only(200)),
    Row(
        "POST",
        "/auth/login",
        anonymous_only(302),
        data=lambda w: {"email": w.patient.user.email, "password": PASSWORD},
        changes=(ANON,),
    ),
    Row("GET", "/auth/signup/doctor", anonymous_only(200)),
    Row("POST", "/auth/signup/doctor", anonymous_only(302), data=signup("doctor"), changes=(ANON,)),
    Row("GET", "/auth/signup/patient", anonymous_only(200)),
    Row(
        "POST", "/auth/signup/patient", anonymous_only(302), data=signup("patient"), changes=(ANON,)
    ),
    Row("POST", "/auth/logout", signed_in(302), changes=SIGNED_IN),
    Row("GET", "/auth/password", signed_in(200)),
    Row(
        "POST",
        "/auth/password",
        signed_in(302),
        data=lambda w: {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        changes=SIGNED_IN,
    ),
    # two-step sign-in: the code after the password (no password given here: back to sign-in),
    # and the page of one's own; the first doctor has it on, the others not
    Row("GET", "/auth/login/code", everyone(302)),
    Row("POST", "/auth/login/code", everyone(302), data=lambda w: {"code": "123456"}),
    Row("GET", "/auth/two-step", signed_in(200)),
    Row("GET", "/auth/activity", signed_in(200)),
    Row(
        "POST",
        "/auth/two-step",
        {ANON: LOGIN, **dict.fromkeys(SIGNED_IN, 400), PATIENT: 200, DOCTOR: 302},  # 302: on
        data=two_step_setup,
        changes=(PATIENT,),
    ),
    Row(
        "POST",
        "/auth/two-step/recovery-codes",
        {ANON: LOGIN, **dict.fromkeys(SIGNED_IN, 302), DOCTOR: 200},  # 302: not on, told so
        data=lambda w: {"current_password": PASSWORD},
        changes=(DOCTOR,),
    ),
    Row(
        "POST",
        "/auth/two-step/off",
        signed_in(302),
        data=lambda w: {"current_password": PASSWORD},
        changes=(DOCTOR,),
    ),
    # password recovery: anyone may ask, and whoever holds a link may use it (it is the proof)
    Row("GET", "/auth/password/forgot", everyone(200)),
    Row(
        "POST",
        "/auth/password/forgot",
        everyone(302),
        data=lambda w: {"email": w.patient.user.email},
        changes=ACTORS,  # the request's audit event, and the email to an existing account
    ),
    Row("GET", "/auth/password/reset/<token>", everyone(200), **RESET_LINK),
    Row(
        "POST",
        "/auth/password/reset/<token>",
        everyone(302),
        **RESET_LINK,
        data=lambda w: {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        changes=ACTORS,
    ),
    # one's own sign-in email: asked for signed in, confirmed by whoever holds the link
    Row("GET", "/auth/email", signed_in(200)),
    Row(
        "POST",
        "/auth/email",
        signed_in(302),
        data=lambda w: {"new_email": "changed@example.com", "current_password": PASSWORD},
        changes=SIGNED_IN,
    ),
    Row("GET", "/auth/email/confirm/<token>", everyone(200), **EMAIL_LINK),
    Row("POST", "/auth/email/confirm/<token>", everyone(302), **EMAIL_LINK, changes=ACTORS),
    # Google Calendar (the matrix runs with Google configured against the loopback provider)
    Row("GET", "/auth/google/connect", only(DOCTORS + PATIENTS, 302)),
    Row("GET", "/auth/google/callback", only(DOCTORS + PATIENTS, 302), query="?code=c&state=s"),
    Row("POST", "/auth/google/disconnect", only(DOCTORS + PATIENTS, 302)),
    # the calendar subscription: its page for doctors and patients, the feed for whoever holds
    # the address (a calendar application, with no session)
    Row("GET", "/auth/calendar", only(DOCTORS + PATIENTS, 200)),
    Row("POST", "/auth/calendar/feed", only(DOCTORS + PATIENTS, 302), changes=DOCTORS + PATIENTS),
    Row("POST", "/auth/calendar/feed/off", only(DOCTORS + PATIENTS, 302), changes=(PATIENT,)),
    Row(
        "GET",
        "/calendar/<feed_token>.ics",
        everyone(200),
        args=lambda w: {"feed_token": calendar_feed.token(w.patient.user)},
    ),
    # the reminder's "I will be there" link: whoever holds it, signed in or not
    Row("GET", "/attendance/<token>", everyone(200), **ATTENDANCE_LINK),
    Row("POST", "/attendance/<token>", everyone(302), **ATTENDANCE_LINK, changes=ACTORS),
    # the doctor's pages
    Row("GET", "/doctor/", only(DOCTORS, 200)),
    Row("GET", "/doctor/appointments", only(DOCTORS, 200)),
    Row("GET", "/doctor/day", only(DOCTORS, 200)),
    Row("GET", "/doctor/patients", only(DOCTORS, 200)),
    Row(
        "POST",
        "/doctor/day/late",
        only(DOCTORS, 302),
        data=lambda w: {"minutes": "30"},
        changes=DOCTORS,  # the audit trail records it, whoever was still to come
    ),
    Row(
        "GET",
        "/doctor/patients/<patient_id>",
        only(DOCTORS, 200, (DOCTOR2,)),  # the second doctor has never seen the first patient
        args=lambda w: {"patient_id": w.patient.id},
    ),
    Row("GET", "/doctor/availability", only(DOCTORS, 200)),
    Row(
        "POST",
        "/doctor/availability",
        only(DOCTORS, 302),
        data=lambda w: {"date": day(10), "start_time": "10:00", "end_time": "10:30"},
        changes=DOCTORS,
    ),
    Row(
        "POST",
        "/doctor/availability/weekly",
        only(DOCTORS, 302),
        data=lambda w: {
            "start_date": day(20),
            "end_date": day(20),
            "weekdays": [str(d) for d in range(7)],
            "day_start": "09:00",
            "day_end": "10:00",
            "slot_minutes": "30",
        },
        changes=DOCTORS,
    ),
    Row(
        "POST",
        "/doctor/availability/weekly/<standing_id>/stop",
        only((DOCTOR,), 302, (DOCTOR2,)),  # the first doctor's hours: not the second's to stop
        args=lambda w: {"standing_id": w.standing.id},
        changes=(DOCTOR,),
    ),
    Row(
        "POST",
        "/doctor/availability/clear",
        only(DOCTORS, 302),
        data=lambda w: {"first_day": day(1), "last_day": day(3)},
        changes=(DOCTOR,),  # the second doctor has only a booked slot on those days: it stays
    ),
    Row(
        "POST",
        "/doctor/availability/<slot_id>/delete",
        only(DOCTORS, 302, (DOCTOR2,)),
        **FREE_SLOT,
        changes=(DOCTOR,),
    ),
    Row(
        "POST",
        "/doctor/appointments/<appointment_id>/status",
        only(DOCTORS, 302, (DOCTOR2,)),
        args=lambda w: {"appointment_id": w.past_appointment.id},
        data=lambda w: {"status": "completed"},
        changes=(DOCTOR,),
    ),
    Row(
        "GET",
        "/doctor/patients/<patient_id>/book",
        only(DOCTORS, 200, (DOCTOR2,)),
        args=lambda w: {"patient_id": w.patient.id},
    ),
    Row(
        "POST",
        "/doctor/patients/<patient_id>/book",
        only(DOCTORS, 302, (DOCTOR2,)),
        args=lambda w: {"patient_id": w.patient.id},
        data=lambda w: {"slot_id": str(w.free_slot.id)},
        changes=(DOCTOR,),
    ),
    Row(
        "GET",
        "/doctor/appointments/<appointment_id>/visit-notes",
        only(DOCTORS, 200, (DOCTOR2,)),
        args=lambda w: {"appointment_id": w.past_appointment.id},
    ),
    Row(
        "POST",
        "/doctor/appointments/<appointment_id>/visit-notes",
        only(DOCTORS, 302, (DOCTOR2,)),
        args=lambda w: {"appointment_id": w.past_appointment.id},
        data=lambda w: {"notes": "Blood pressure fine."},
        changes=(DOCTOR,),
    ),
    Row(
        "GET",
        "/doctor/appointments/<appointment_id>/instructions",
        only(DOCTORS, 200, (DOCTOR2,)),
        args=lambda w: {"appointment_id": w.past_appointment.id},
    ),
    Row(
        "POST",
        "/doctor/appointments/<appointment_id>/instructions",
        only(DOCTORS, 302, (DOCTOR2,)),
        args=lambda w: {"appointment_id": w.past_appointment.id},
        data=lambda w: {"notes": "Rest for two days."},
        changes=(DOCTOR,),
    ),
    Row("GET", "/doctor/feedback", only(DOCTORS, 200)),
    Row("GET", "/doctor/profile", only(DOCTORS, 200)),
    Row(
        "POST",
        "/doctor/profile",
        only(DOCTORS, 302),
        data=lambda w: {
            "full_name": "Dr. Renamed",
            "specialization": "Neurology",
            "years_of_experience": "11",
            "bio": "New bio.",
            "phone": "+1 555 0101",
        },
        changes=DOCTORS,
    ),
    Row("GET", "/doctor/emails", only(DOCTORS, 200)),
    Row(
        "POST",
        "/doctor/emails",
        only(DOCTORS, 302),
        data=lambda w: {"booking_emails": "y"},  # reminders turned off
        changes=DOCTORS,
    ),
    # the patient's pages
    Row("GET", "/patient/", only(PATIENTS, 200)),
    Row("GET", "/patient/appointments", only(PATIENTS, 200)),
    Row(
        "GET",
        "/patient/appointments/<appointment_id>",
        only(PATIENTS, 200, (PATIENT2,)),
        args=lambda w: {"appointment_id": w.past_appointment.id},
    ),
    Row(
        "POST",
        "/patient/appointments/<appointment_id>/feedback",
        only(PATIENTS, 302, (PATIENT2,)),
        args=lambda w: {"appointment_id": w.visited.id},
        data=lambda w: {"answer": "good", "comment": "Kind and quick."},
        changes=(PATIENT,),
    ),
    Row("GET", "/patient/doctors", only(PATIENTS, 200)),
    Row("GET", "/patient/doctors/<doctor_id>", only(PATIENTS, 200), **FIRST_DOCTOR),
    Row(
        "POST",
        "/patient/doctors/<doctor_id>/waitlist",
        only(PATIENTS, 302),
        **FIRST_DOCTOR,
        data=lambda w: {"date": day(5)},
        changes=PATIENTS,
    ),
    Row(
        "POST",
        "/patient/waitlist/<entry_id>/leave",
        only(PATIENTS, 302, (PATIENT2,)),
        args=lambda w: {"entry_id": w.entry.id},
        changes=(PATIENT,),
    ),
    Row("GET", "/patient/account/data.json", only(PATIENTS, 200)),
    Row("GET", "/patient/account/close", only(PATIENTS, 200)),
    Row(
        "POST",
        "/patient/account/close",
        # the first patient's visit starts within the cut-off: only the front desk can cancel it
        {**only(PATIENTS, 302), PATIENT: 409},
        data=lambda w: {"current_password": PASSWORD},
        changes=(PATIENT2,),
    ),
    Row("GET", "/patient/profile", only(PATIENTS, 200)),
    Row(
        "POST",
        "/patient/profile",
        only(PATIENTS, 302),
        data=lambda w: {
            "full_name": "Renamed Patient",
            "date_of_birth": "1980-02-03",
            "phone": "+1 555 0102",
            "address": "2 Road",
            "emergency_contact": "Sam",
        },
        changes=PATIENTS,
    ),
    # booking and the appointment's actions
    Row("GET", "/booking/slots/<slot_id>", only(PATIENTS, 200), **FREE_SLOT),
    Row(
        "POST",
        "/booking/slots/<slot_id>",
        only(PATIENTS, 302),
        **FREE_SLOT,
        data=lambda w: {"notes": "First visit."},
        changes=PATIENTS,
    ),
    Row(
        "POST",
        "/booking/appointments/<appointment_id>/cancel",
        only(PARTIES, 302, (PATIENT2, DOCTOR2)),
        **APPOINTMENT,
        changes=PARTIES,
    ),
    Row(
        "POST",
        "/booking/appointments/<appointment_id>/attendance",
        only(PARTIES, 302, (PATIENT2, DOCTOR2)),
        **APPOINTMENT,
        changes=PARTIES,
    ),
    Row(
        "POST",
        "/booking/appointments/<appointment_id>/check-in",
        only(DOCTORS + STAFF, 302, (DOCTOR2,)),
        args=lambda w: {"appointment_id": w.arriving.id},
        changes=(DOCTOR, *STAFF),
    ),
    Row(
        "GET",
        "/booking/appointments/<appointment_id>.ics",
        only(PARTIES, 200, (PATIENT2, DOCTOR2)),
        **APPOINTMENT,
    ),
    Row(
        "GET",
        "/booking/appointments/<appointment_id>/reschedule",
        only(PATIENTS + STAFF, 200, (PATIENT2,)),
        **APPOINTMENT,
    ),
    Row(
        "POST",
        "/booking/appointments/<appointment_id>/reschedule",
        only(PATIENTS + STAFF, 302, (PATIENT2,)),
        **APPOINTMENT,
        data=lambda w: {"slot_id": str(w.spare_slot.id)},
        changes=(PATIENT, *STAFF),
    ),
    Row(
        "GET",
        "/booking/appointments/<appointment_id>/note",
        only(PATIENTS, 200, (PATIENT2,)),
        **APPOINTMENT,
    ),
    Row(
        "POST",
        "/booking/appointments/<appointment_id>/note",
        only(PATIENTS, 302, (PATIENT2,)),
        **APPOINTMENT,
        data=lambda w: {"notes": "The pain is worse at night."},
        changes=(PATIENT,),
    ),
    # the admin console
    Row("GET", "/admin/", only(ADMINS, 200)),
    Row("GET", "/admin/users", only(STAFF, 200)),
    Row("GET", "/admin/appointments", only(STAFF, 200)),
    Row("GET", "/admin/appointments.csv", only(ADMINS, 200)),
    Row("GET", "/admin/audit", only(ADMINS, 200)),
    Row("GET", "/admin/audit.csv", only(ADMINS, 200)),
    Row("GET", "/admin/staff/new", only(ADMINS, 200)),
    Row(
        "POST",
        "/admin/staff/new",
        only(ADMINS, 302),
        data=lambda w: {"full_name": "New Receptionist", "email": "new.desk@example.com"},
        changes=ADMINS,
    ),
    Row("GET", "/admin/patients/new", only(STAFF, 200)),
    Row(
        "POST",
        "/admin/patients/new",
        only(STAFF, 302),
        data=lambda w: {"full_name": "Caller New", "email": "caller@example.com"},
        changes=STAFF,
    ),
    Row("GET", "/admin/closures", only(ADMINS, 200)),
    Row(
        "POST",
        "/admin/closures",
        only(ADMINS, 302),
        data=lambda w: {"day": (local_today() + timedelta(days=20)).isoformat(), "reason": "Audit"},
        changes=ADMINS,
    ),
    Row(
        "POST",
        "/admin/closures/<closure_id>/reopen",
        only(ADMINS, 302),
        args=lambda w: {"closure_id": w.closure.id},
        changes=ADMINS,
    ),
    Row("GET", "/admin/emails", only(ADMINS, 200)),
    Row("GET", "/admin/feedback", only(ADMINS, 200)),
    Row("POST", "/admin/emails/send-again", only(ADMINS, 302), changes=ADMINS),
    Row(
        "POST",
        "/admin/emails/<message_id>/send-again",
        only(ADMINS, 302),
        args=lambda w: {"message_id": w.given_up.id},
        changes=ADMINS,
    ),
    Row("GET", "/admin/charts/<name>.svg", only(ADMINS, 200), args=lambda w: {"name": "bookings"}),
    Row(
        "GET",
        "/admin/users/<user_id>/deactivate",
        only(ADMINS, 200),
        args=lambda w: {"user_id": w.patient.user.id},
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/deactivate",
        only(ADMINS, 302),
        args=lambda w: {"user_id": w.patient.user.id},
        changes=ADMINS,
    ),
    Row(
        "GET",
        "/admin/users/<user_id>/book",
        only(STAFF, 200),
        args=lambda w: {"user_id": w.patient.user.id},
        query="?q=&specialization=",
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/book",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.patient.user.id},
        query=lambda w: f"?doctor={w.doctor.id}",
        data=lambda w: {"slot_id": str(w.free_slot.id), "notes": "Called in."},
        changes=STAFF,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/waitlist",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.patient2.user.id},
        query=lambda w: f"?doctor={w.doctor.id}",
        data=lambda w: {"date": day(5), "last_date": day(6)},
        changes=STAFF,
    ),
    Row(
        "GET",
        "/admin/users/<user_id>/email",
        only(ADMINS, 200),
        args=lambda w: {"user_id": w.patient.user.id},
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/email",
        only(ADMINS, 302),
        args=lambda w: {"user_id": w.patient.user.id},
        data=lambda w: {"email": "new.address@example.com"},
        changes=ADMINS,
    ),
    Row(
        "GET",
        "/admin/users/<user_id>/details",
        only(STAFF, 200),
        args=lambda w: {"user_id": w.patient.user.id},
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/details",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.patient.user.id},
        data=lambda w: {"full_name": "Called The Desk", "phone": "+1 555 0177"},
        changes=STAFF,
    ),
    Row(
        "GET",
        "/admin/users/<user_id>/profile",
        only(STAFF, 200),
        args=lambda w: {"user_id": w.doctor.user.id},
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/profile",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.doctor.user.id},
        data=lambda w: {
            "full_name": w.doctor.user.full_name,
            "specialization": w.doctor.specialization,
            "years_of_experience": "9",
            "closed_to_new_patients": "y",
        },
        changes=STAFF,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/two-step/off",
        only(ADMINS, 302),
        args=lambda w: {"user_id": w.doctor.user.id},
        changes=ADMINS,
    ),
    Row(
        "GET",
        "/admin/users/<user_id>/availability",
        only(STAFF, 200),
        args=lambda w: {"user_id": w.doctor.user.id},
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/availability",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.doctor.user.id},
        data=lambda w: {"date": day(10), "start_time": "10:00", "end_time": "10:30"},
        changes=STAFF,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/availability/weekly",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.doctor.user.id},
        data=lambda w: {
            "start_date": day(20),
            "end_date": day(20),
            "weekdays": [str(d) for d in range(7)],
            "day_start": "09:00",
            "day_end": "10:00",
            "slot_minutes": "30",
        },
        changes=STAFF,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/availability/weekly/<standing_id>/stop",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.doctor.user.id, "standing_id": w.standing.id},
        changes=STAFF,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/availability/clear",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.doctor.user.id},
        data=lambda w: {"first_day": day(1), "last_day": day(3)},
        changes=STAFF,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/availability/<slot_id>/delete",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.doctor.user.id, "slot_id": w.free_slot.id},
        changes=STAFF,
    ),
    Row(
        "GET",
        "/admin/users/<user_id>/approve",
        only(ADMINS, 200),
        args=lambda w: {"user_id": w.applicant.user.id},
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/approve",
        only(ADMINS, 302),
        args=lambda w: {"user_id": w.applicant.user.id},
        changes=ADMINS,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/decline",
        only(ADMINS, 302),
        args=lambda w: {"user_id": w.applicant.user.id},
        changes=ADMINS,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/password-reset",
        only(STAFF, 302),
        args=lambda w: {"user_id": w.patient.user.id},
        changes=STAFF,
    ),
    Row(
        "POST",
        "/admin/users/<user_id>/activate",
        only(ADMINS, 302),
        args=lambda w: {"user_id": w.inactive.id},
        changes=ADMINS,
    ),
]

_CONVERTER = re.compile(r"<(?:[^<>]*:)?(\w+)>")


def plain_rule(rule: str) -> str:
    """/booking/slots/<int(max=2147483647):slot_id> -> /booking/slots/<slot_id>"""
    return _CONVERTER.sub(r"<\1>", rule)


def app_routes() -> set[tuple[str, str]]:
    """(rule, method) for every route of the app, minus static files."""
    return {
        (plain_rule(rule.rule), method)
        for rule in url_rules()
        if rule.endpoint not in IGNORED_ENDPOINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def table_routes() -> set[tuple[str, str]]:
    return {(row.rule, row.method) for row in ROWS}
