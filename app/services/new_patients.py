"""A doctor whose list is full takes no new patients online.

While `DoctorProfile.closed_to_new_patients` is on, a patient who never had an appointment with
the doctor (one cancelled does not count) cannot book them or wait for a place with them from
their own account; the patients the doctor has taken on book as before, and the front desk and
the doctor book anyone. One rule for the booking, its confirm page and the waitlist.
"""

from flask import current_app

from app.models import DoctorProfile
from app.repositories import scheduling as repo


def is_newcomer(doctor: DoctorProfile, patient_id: int) -> bool:
    """Whether the doctor's list is closed to this patient. Asks the database only when the
    doctor's list is closed."""
    return doctor.closed_to_new_patients and not repo.had_appointment_with(patient_id, doctor.id)


def refusal(doctor: DoctorProfile, patient_id: int) -> str | None:
    """Why this patient may not book `doctor` online, or None."""
    if not is_newcomer(doctor, patient_id):
        return None
    return (
        f"{doctor.full_name} is not taking new patients at the moment: only patients who have "
        f"had an appointment with them can book online. Please choose another doctor, or call "
        f"the front desk on {current_app.config['CLINIC_PHONE']}."
    )
