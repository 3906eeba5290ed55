"""Who may act on an appointment. A leaf module, importing no service: booking imports the
notifications, so anything the notifications use cannot import booking without a cycle."""

from app.models import Appointment, Role, User


def can_manage(appointment: Appointment, user: User) -> bool:
    """The appointment's doctor or patient, or the clinic's staff (an admin, the front desk)."""
    if user.is_staff:
        return True
    if user.role == Role.DOCTOR:
        return user.doctor_profile is not None and appointment.doctor_id == user.doctor_profile.id
    if user.role == Role.PATIENT:
        return (
            user.patient_profile is not None and appointment.patient_id == user.patient_profile.id
        )
    return False
