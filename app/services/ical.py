"""iCalendar files for appointments: the calendar option that needs no Google account.

The UID is stable per appointment and deployment, so importing the file again (after a
reschedule or a cancellation) updates the one entry instead of adding another. Times are
written in UTC, which every calendar application understands without a VTIMEZONE block.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event

from app.models import Appointment, AppointmentStatus, DoctorProfile, PatientProfile, User
from app.timeutil import as_utc, utcnow


def uid_for(appointment: Appointment) -> str:
    host = urlsplit(current_app.config.get("PUBLIC_BASE_URL") or "").hostname or "hms"
    return f"appointment-{appointment.id}@{host}"


def summary_for(viewer: User, doctor: DoctorProfile, patient: PatientProfile) -> str:
    """Each party sees the other's name; an admin sees both."""
    if viewer.id == doctor.user_id:
        return f"Appointment with {patient.user.full_name} ({doctor.specialization})"
    if viewer.id == patient.user_id:
        return f"Appointment with {doctor.user.full_name} ({doctor.specialization})"
    return f"{patient.user.full_name} with {doctor.user.full_name} ({doctor.specialization})"


def description_for(appointment: Appointment) -> str:
    config = current_app.config
    lines = [f"{config['CLINIC_NAME']} · front desk {config['CLINIC_PHONE']}"]
    if appointment.notes:
        lines += ["", f"Notes: {appointment.notes}"]
    return "\n".join(lines)


def _calendar(name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//HMS//Appointments//EN")
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _event(
    appointment: Appointment,
    doctor: DoctorProfile,
    patient: PatientProfile,
    viewer: User,
    now: datetime,
) -> Event:
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    event = Event()
    event.add("uid", uid_for(appointment))
    event.add("dtstamp", as_utc(now))
    event.add("dtstart", as_utc(appointment.start_at))
    event.add("dtend", as_utc(appointment.end_at))
    event.add("summary", summary_for(viewer, doctor, patient))
    event.add("description", description_for(appointment))
    event.add("location", current_app.config["CLINIC_NAME"])
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", 1 if cancelled else 0)
    return event


def appointment_calendar(
    appointment: Appointment,
    doctor: DoctorProfile,
    patient: PatientProfile,
    viewer: User,
    *,
    now: datetime | None = None,
) -> bytes:
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add_component(_event(appointment, doctor, patient, viewer, now or utcnow()))
    return calendar.to_ical()


def feed_calendar(
    appointments: list[Appointment], viewer: User, *, now: datetime | None = None
) -> bytes:
    """A subscription's whole calendar: each appointment with both parties loaded. Calendar
    applications replace what they had with it at each refresh, so an appointment left out
    (cancelled, or moved to another time) leaves their calendar too."""
    now = now or utcnow()
    calendar = _calendar(f"{current_app.config['CLINIC_NAME']} appointments")
    # How often to fetch again: Apple and Google read the first, Outlook the second.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for appointment in appointments:
        calendar.add_component(
            _event(appointment, appointment.doctor, appointment.patient, viewer, now)
        )
    return calendar.to_ical()
