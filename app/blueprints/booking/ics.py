"""Downloading an appointment as an iCalendar file (linked from the confirmation email)."""

from flask import Response
from flask_login import current_user

from app.blueprints.booking import bp
from app.extensions import db
from app.models import Appointment, DoctorProfile, PatientProfile
from app.security import owned_or_404
from app.services import ical
from app.services.access import can_manage
from app.views import ID


@bp.get(f"/appointments/<{ID}:appointment_id>.ics")
def appointment_ics(appointment_id: int):
    appointment = db.session.get(Appointment, appointment_id)
    owned_or_404(appointment, appointment is not None and can_manage(appointment, current_user))
    doctor = db.session.get(DoctorProfile, appointment.doctor_id)
    patient = db.session.get(PatientProfile, appointment.patient_id)
    body = ical.appointment_calendar(appointment, doctor, patient, current_user)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="appointment-{appointment.id}.ics"',
            "Cache-Control": "private, no-store",
        },
    )
