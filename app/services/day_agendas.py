"""Each morning, the day's appointments by email to the doctors who asked for it (DAILY_AGENDA).

From AGENDA_EMAIL_HOUR (clinic-local) the outbox worker, with its reminder scan, queues one
email for each doctor who turned it on (`/doctor/emails`) and has appointments that day, and
notes the day in `agenda_sent_on`, so each day's goes once and the scan reads only the doctors
still due. A worker that was down at that hour sends it when it is back, the same day.

Several workers may run this at once: each takes the doctors' rows with SKIP LOCKED, and the
outbox's unique key (which names the doctor and the day) refuses a second copy anywhere.
"""

from collections import defaultdict
from datetime import date, datetime

from flask import current_app
from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager

from app.extensions import db
from app.models import Appointment, AppointmentStatus, DoctorProfile, PatientProfile, User
from app.services import notifications
from app.timeutil import clinic_zone, local_day_bounds, to_local, utcnow

# The email service takes 2,000 characters a field: room for the line saying what is left out.
MAX_AGENDA_CHARS = 1900


def queue_due(now: datetime | None = None) -> int:
    """Queue today's agenda for every doctor due one; returns how many were queued. The caller
    commits."""
    now = now or utcnow()
    local = to_local(now)
    if local.hour < current_app.config["AGENDA_EMAIL_HOUR"]:
        return 0
    today = local.date()
    doctors = db.session.scalars(
        select(DoctorProfile)
        .join(DoctorProfile.user)
        .options(contains_eager(DoctorProfile.user))
        .where(
            DoctorProfile.agenda_emails.is_(True),
            DoctorProfile.approved_at.is_not(None),
            User.active.is_(True),
            or_(DoctorProfile.agenda_sent_on.is_(None), DoctorProfile.agenda_sent_on < today),
        )
        .order_by(DoctorProfile.id)
        .with_for_update(of=DoctorProfile, skip_locked=True)
    ).all()
    if not doctors:
        return 0
    days = _appointments(today, [doctor.id for doctor in doctors])
    queued = 0
    for doctor in doctors:
        doctor.agenda_sent_on = today
        rows = days.get(doctor.id)
        if not rows:  # a free day: no email to say so
            continue
        try:
            with db.session.begin_nested():
                notifications.daily_agenda(doctor, today, agenda_text(rows), len(rows))
            queued += 1
        except IntegrityError:
            pass  # queued already (another worker, or the day's noted date was reset)
    db.session.flush()
    return queued


def _appointments(day: date, doctor_ids: list[int]) -> dict[int, list]:
    """The day's appointments that were not cancelled, of each of these doctors, in order, each
    saying whether it is the patient's first visit to the doctor (no completed one with them
    started earlier): one statement for them all."""
    start, end = local_day_bounds(day)
    earlier = aliased(Appointment)
    seen_before = exists().where(
        earlier.doctor_id == Appointment.doctor_id,
        earlier.patient_id == Appointment.patient_id,
        earlier.status == AppointmentStatus.COMPLETED,
        earlier.start_at < Appointment.start_at,
    )
    rows = db.session.execute(
        select(
            Appointment.doctor_id,
            Appointment.start_at,
            Appointment.end_at,
            User.full_name,
            (~seen_before).label("first_visit"),
        )
        .join(PatientProfile, PatientProfile.id == Appointment.patient_id)
        .join(User, User.id == PatientProfile.user_id)
        .where(
            Appointment.doctor_id.in_(doctor_ids),
            Appointment.status != AppointmentStatus.CANCELLED,
            Appointment.start_at >= start,
            Appointment.start_at < end,
        )
        .order_by(Appointment.doctor_id, Appointment.start_at)
    )
    by_doctor: dict[int, list] = defaultdict(list)
    for row in rows:
        by_doctor[row.doctor_id].append(row)
    return by_doctor


def agenda_text(rows: list) -> str:
    """One line per appointment ("09:00–09:30  Grace Hopper (first visit)"), as many as fit."""
    zone = clinic_zone()
    lines: list[str] = []
    used = 0
    for row in rows:
        start, end = to_local(row.start_at, zone), to_local(row.end_at, zone)
        first = " (first visit)" if row.first_visit else ""
        line = f"{start:%H:%M}–{end:%H:%M}  {row.full_name}{first}"
        if used + len(line) + 1 > MAX_AGENDA_CHARS:
            lines.append(f"… and {len(rows) - len(lines)} more: see your day sheet.")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)
