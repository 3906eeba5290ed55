"""Profile updates for doctors and patients: one rule for both.

Text is trimmed, empty optional text becomes NULL, lengths are bounded here as well as in the
forms (the database columns are bounded, and a service may be called without a form), and an
audit event names the fields that changed, never their values (they are personal data).
"""

from datetime import date

from app.extensions import db
from app.models import DoctorProfile, PatientProfile, User
from app.repositories import doctors as doctor_repo
from app.services import DomainError, doctor_review
from app.services.audit import AuditKind, record
from app.timeutil import utcnow

MAX_NAME = 120
MAX_PHONE = 32
MAX_SPECIALIZATION = 100
MAX_BIO = 2000
MAX_ADDRESS = 300
MAX_EMERGENCY_CONTACT = 200
MAX_YEARS = 70


def _clean(value: str | None, field: str, limit: int, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise DomainError("This field is required.", field=field)
    if len(text) > limit:
        raise DomainError(f"At most {limit} characters.", field=field)
    return text or None


def listed_specialization(typed: str | None, *, profile_id: int | None = None) -> str:
    """One specialty, one spelling: what a doctor types is matched, whatever its case and spacing,
    to how other doctors already spell it ("cardiology " becomes "Cardiology"), so patients
    filtering by it find every one of them. A new one keeps the doctor's spelling, with a
    capital first letter when it is all lowercase."""
    text = " ".join(_clean(typed, "specialization", MAX_SPECIALIZATION, required=True).split())
    listed = doctor_repo.specialization_spelled(text, besides=profile_id)
    if listed is not None:
        return listed
    return text[0].upper() + text[1:] if text.islower() else text


def _apply(obj, changes: dict, changed: list[str]) -> None:
    for name, value in changes.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)


def _update_person(user: User, full_name: str, phone: str | None, changed: list[str]) -> None:
    _apply(
        user,
        {
            "full_name": _clean(full_name, "full_name", MAX_NAME, required=True),
            "phone": _clean(phone, "phone", MAX_PHONE),
        },
        changed,
    )


def _finish(user: User, profile, changed: list[str], actor: User | None = None) -> None:
    if changed:
        db.session.flush()
        record(
            AuditKind.PROFILE_UPDATED, actor=actor or user, target=profile, fields=sorted(changed)
        )


def update_doctor(
    user: User,
    *,
    full_name: str,
    specialization: str,
    years_of_experience: int,
    bio: str | None,
    phone: str | None,
    closed_to_new_patients: bool = False,
    actor: User | None = None,
) -> DoctorProfile:
    """Update the doctor's card; creates the profile if an account somehow lacks one. `actor`
    is the front desk when it keeps the card for the doctor (the audit trail says who)."""
    if not 0 <= years_of_experience <= MAX_YEARS:
        raise DomainError(f"Between 0 and {MAX_YEARS}.", field="years_of_experience")
    changed: list[str] = []
    _update_person(user, full_name, phone, changed)
    profile = user.doctor_profile
    listed = listed_specialization(specialization, profile_id=profile.id if profile else None)
    if profile is None:
        profile = DoctorProfile(user=user, approved_at=doctor_review.approved_on_sign_up())
        db.session.add(profile)
    _apply(
        profile,
        {
            "specialization": listed,
            "years_of_experience": years_of_experience,
            "bio": _clean(bio, "bio", MAX_BIO),
            "closed_to_new_patients": bool(closed_to_new_patients),
        },
        changed,
    )
    _finish(user, profile, changed, actor)
    return profile


def doctor_card(user: User) -> dict:
    """The doctor's card as update_doctor() takes it: what their profile form starts from."""
    doctor = user.doctor_profile
    return {
        "full_name": user.full_name,
        "phone": user.phone,
        "specialization": doctor.specialization if doctor else "",
        "years_of_experience": doctor.years_of_experience if doctor else 0,
        "bio": doctor.bio if doctor else "",
        "closed_to_new_patients": doctor.closed_to_new_patients if doctor else False,
    }


def patient_card(user: User) -> dict:
    """The patient's card as update_patient() takes it: what their details form starts from."""
    patient = user.patient_profile
    return {
        "full_name": user.full_name,
        "phone": user.phone,
        "date_of_birth": patient.date_of_birth if patient else None,
        "address": patient.address if patient else "",
        "emergency_contact": patient.emergency_contact if patient else "",
    }


def update_patient(
    user: User,
    *,
    full_name: str,
    date_of_birth: date | None,
    phone: str | None,
    address: str | None,
    emergency_contact: str | None,
    actor: User | None = None,
) -> PatientProfile:
    """Update the patient's card; creates the profile if an account somehow lacks one. `actor`
    is the front desk when it updates the card for a caller (the audit trail says who)."""
    if date_of_birth is not None and date_of_birth > utcnow().date():
        raise DomainError("The date of birth cannot be in the future.", field="date_of_birth")
    changed: list[str] = []
    _update_person(user, full_name, phone, changed)
    profile = user.patient_profile
    if profile is None:
        profile = PatientProfile(user=user)
        db.session.add(profile)
    _apply(
        profile,
        {
            "date_of_birth": date_of_birth,
            "address": _clean(address, "address", MAX_ADDRESS),
            "emergency_contact": _clean(
                emergency_contact, "emergency_contact", MAX_EMERGENCY_CONTACT
            ),
        },
        changed,
    )
    _finish(user, profile, changed, actor)
    return profile


def update_doctor_emails(
    doctor: DoctorProfile,
    *,
    booking_emails: bool,
    reminder_emails: bool,
    agenda_emails: bool = False,
    schedule_emails: bool = True,
    actor: User,
) -> DoctorProfile:
    """Which emails about their appointments the doctor wants; the patients' are not theirs to
    turn off."""
    changed: list[str] = []
    wanted = {
        "booking_emails": bool(booking_emails),
        "reminder_emails": bool(reminder_emails),
        "agenda_emails": bool(agenda_emails),
        "schedule_emails": bool(schedule_emails),
    }
    _apply(doctor, wanted, changed)
    _finish(actor, doctor, changed)
    return doctor
