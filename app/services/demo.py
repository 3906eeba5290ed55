"""Demo data for `flask seed-demo` and `make run`: safe to run again, it only fills gaps."""

from datetime import date, time, timedelta

from sqlalchemy import exists, select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, AvailabilitySlot, Role, User
from app.services import Conflict, accounts, availability, booking, directory
from app.timeutil import local_to_utc, to_local, utcnow

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed to the developer on purpose

DOCTORS = [
    ("Dr. Amara Okafor", "amara.okafor@example.com", "Cardiology", 14),
    ("Dr. Lucas Meyer", "lucas.meyer@example.com", "Dermatology", 8),
    ("Dr. Sofia Rossi", "sofia.rossi@example.com", "Pediatrics", 11),
    ("Dr. Kenji Tanaka", "kenji.tanaka@example.com", "Orthopedics", 19),
    ("Dr. Priya Raman", "priya.raman@example.com", "General practice", 6),
]
PATIENTS = [  # name, email, date of birth, phone: what a doctor sees beside each booking
    ("Noah Williams", "noah.patient@example.com", date(1958, 3, 14), "+1 555 0120"),
    ("Emma Johnson", "emma.patient@example.com", date(1991, 7, 2), "+1 555 0121"),
    ("Liam Brown", "liam.patient@example.com", date(2004, 11, 30), "+1 555 0122"),
    ("Olivia Garcia", "olivia.patient@example.com", date(1984, 1, 19), "+1 555 0123"),
    ("Mateo Martinez", "mateo.patient@example.com", date(1976, 9, 8), "+1 555 0124"),
    ("Ava Davis", "ava.patient@example.com", date(2001, 4, 25), "+1 555 0125"),
    ("Ethan Wilson", "ethan.patient@example.com", date(1949, 12, 5), "+1 555 0126"),
    ("Mia Anderson", "mia.patient@example.com", date(1995, 6, 21), "+1 555 0127"),
    ("Lucas Thomas", "lucas.patient@example.com", date(1968, 2, 11), "+1 555 0128"),
    ("Isabella Moore", "isabella.patient@example.com", date(2007, 8, 16), "+1 555 0129"),
]
# A doctor who signed up and waits for the front desk's approval, whatever the clinic's setting:
# the admin's dashboard and Users list show them, and patients cannot find them until approved.
APPLICANT = ("Dr. Ines Novak", "ines.novak@example.com", "Neurology", 9)
ADMIN_EMAIL = "admin@example.com"
DESK_EMAIL = "desk@example.com"  # the front desk: booking and schedules, not the admin's powers


def logins() -> list[tuple[str, str]]:
    """The demo logins as (role, email), for printing whether or not this run seeded them."""
    return [
        (Role.ADMIN.value, ADMIN_EMAIL),
        (Role.DESK.value, DESK_EMAIL),
        *((Role.DOCTOR.value, email) for _, email, _, _ in DOCTORS),
        (Role.DOCTOR.value, APPLICANT[1]),
        *((Role.PATIENT.value, email) for _, email, _, _ in PATIENTS),
    ]


def seed() -> list[tuple[str, str]]:
    """Create what is missing and return the demo logins as (role, email)."""
    logins: list[tuple[str, str]] = []
    if accounts.find_by_email(ADMIN_EMAIL) is None:
        accounts.create_admin(ADMIN_EMAIL, DEMO_PASSWORD, "Clinic Administrator")
    logins.append((Role.ADMIN.value, ADMIN_EMAIL))
    if accounts.find_by_email(DESK_EMAIL) is None:
        accounts.create_admin(DESK_EMAIL, DEMO_PASSWORD, "Olivia Desk", role=Role.DESK)
    logins.append((Role.DESK.value, DESK_EMAIL))

    doctors = [_doctor(*doctor, approved=True) for doctor in DOCTORS]
    applicant = _doctor(*APPLICANT, approved=False)
    logins += [(Role.DOCTOR.value, user.email) for user in (*doctors, applicant)]

    patients = []
    for name, email, born, phone in PATIENTS:
        user = accounts.find_by_email(email)
        if user is None:
            user = accounts.sign_up_patient(
                accounts.NewUser(name, email, DEMO_PASSWORD, phone), date_of_birth=born
            )
        patients.append(user)
        logins.append((Role.PATIENT.value, email))
    db.session.flush()
    seed_schedule(doctors, patients)
    _publish_week(applicant, utcnow())  # her times: bookable once the front desk approves her
    return logins


# Each demo doctor's past: the first patient booked with them came for a check-up three weeks
# ago (so their coming visit is not a first one), another missed a visit a fortnight ago.
# Fields: days ago, clinic-local hour, status, the patient's note, the doctor's visit notes.
# (days ago, hour, outcome, the patient's note, the doctor's visit notes, their instructions)
DEMO_HISTORY = (
    (
        21,
        10,
        AppointmentStatus.COMPLETED,
        "Check-up.",
        "Well. BP 128/82. Review in a month.",
        "Measure your blood pressure each morning for two weeks and bring the readings.\n"
        "Book a review with me in about a month.",
    ),
    (14, 11, AppointmentStatus.NO_SHOW, None, "Phoned twice, no answer.", None),
)
DEMO_WEEKDAYS = [0, 1, 2, 3, 4]
DEMO_DAY = (time(9), time(12))
DEMO_SLOT_MINUTES = 30
DEMO_BOOKINGS_PER_DOCTOR = 2


def seed_schedule(doctors, patients) -> None:
    """A week of slots per doctor (weekdays 09:00-12:00, from tomorrow), a few bookings and a
    little history (DEMO_HISTORY).

    The slots and bookings go through the availability and booking services, so demo data obeys
    the real rules. A doctor who already has slots is left alone: running the seed again changes
    nothing.
    """
    now = utcnow()
    patient_turns = iter(patients)
    for user in doctors:
        doctor = user.doctor_profile
        if not _publish_week(user, now):
            continue
        # Every other open slot, each to the next demo patient: nobody books twice.
        booked = [
            _book_for_next_free_patient(slot.id, patient_turns, now)
            for slot in directory.open_slots(doctor.id, now)[1::2][:DEMO_BOOKINGS_PER_DOCTOR]
        ]
        first = booked[0] if booked else None
        missed = patients[(patients.index(first) + 5) % len(patients)] if first else None
        _seed_history(doctor, [first, missed], now)


def _doctor(name: str, email: str, specialization: str, years: int, *, approved: bool) -> User:
    """The demo doctor's account, made (listed or waiting for approval) if missing."""
    user = accounts.find_by_email(email)
    if user is None:
        user = accounts.sign_up_doctor(
            accounts.NewUser(name, email, DEMO_PASSWORD),
            specialization=specialization,
            years_of_experience=years,
            bio=f"{name} has practised {specialization.lower()} for {years} years.",
            approved=approved,
        )
    return user


def _publish_week(user: User, now) -> bool:
    """Publish the doctor's demo week (weekdays 09:00-12:00, from tomorrow), unless they have
    slots already; whether it did."""
    doctor = user.doctor_profile
    if db.session.scalar(select(exists().where(AvailabilitySlot.doctor_id == doctor.id))):
        return False
    tomorrow = to_local(now).date() + timedelta(days=1)
    availability.create_weekly(
        doctor,
        start_date=tomorrow,
        end_date=tomorrow + timedelta(days=6),
        hours=availability.WeeklyHours.checked(DEMO_WEEKDAYS, *DEMO_DAY, DEMO_SLOT_MINUTES),
        actor=user,
        now=now,
    )
    return True


def _book_for_next_free_patient(slot_id: int, patient_turns, now) -> User | None:
    """Book for the next demo patient, and return them; one already busy at that time is passed
    over (None when every patient was)."""
    for user in patient_turns:
        try:
            with db.session.begin_nested():  # a refusal leaves the demo's transaction usable
                booking.book(user.patient_profile, slot_id, "Demo booking.", actor=user, now=now)
            return user
        except Conflict:
            continue
    return None


def _seed_history(doctor, patients: list[User | None], now) -> None:
    """DEMO_HISTORY's visits, one per patient given, written directly: the services refuse
    times in the past, and a past visit sends no email and is not an event of today."""
    today = to_local(now).date()
    for user, (days_ago, hour, status, note, visit_notes, instructions) in zip(
        patients, DEMO_HISTORY, strict=True
    ):
        if user is None:
            continue
        start = local_to_utc(today - timedelta(days=days_ago), time(hour))
        end = start + timedelta(minutes=DEMO_SLOT_MINUTES)
        slot = AvailabilitySlot(doctor_id=doctor.id, start_at=start, end_at=end)
        db.session.add(slot)
        db.session.flush()
        db.session.add(
            Appointment(
                slot_id=slot.id,
                doctor_id=doctor.id,
                patient_id=user.patient_profile.id,
                start_at=start,
                end_at=end,
                notes=note,
                status=status,
                created_at=start - timedelta(days=7),
                outcome_recorded_at=end,
                visit_notes=visit_notes,
                patient_instructions=instructions,
                instructions_at=end if instructions else None,
            )
        )
    db.session.flush()
