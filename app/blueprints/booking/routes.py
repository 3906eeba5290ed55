from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.booking import bp
from app.blueprints.booking.forms import (
    AttendanceForm,
    BookingForm,
    CancelForm,
    CheckInForm,
    NoteForm,
)
from app.blueprints.main.routes import dashboard_url
from app.errors import render_error
from app.extensions import db
from app.models import STAFF_ROLES, Role
from app.security import owned_or_404, roles_allowed, same_site_referrer
from app.services import Conflict, DomainError, attendance, booking, directory, visits
from app.timeutil import format_local, utcnow
from app.views import ID, abort_with, appointment_notes_page, back_url

CONFIRM = "booking/confirm.html"


@bp.route(f"/slots/<{ID}:slot_id>", methods=["GET", "POST"])
@roles_allowed(Role.PATIENT)
def slot(slot_id: int):
    """Confirm and book. Whatever stops the booking answers 409 with the reason and, when the
    doctor is known, their other open slots."""
    patient = owned_or_404(current_user.patient_profile, True)
    form = BookingForm()
    now = utcnow()
    if form.validate_on_submit():
        try:
            booking.book(patient, slot_id, form.notes.data, actor=current_user, now=now)
            db.session.commit()
        except Conflict as error:
            db.session.rollback()
            offer = directory.offer(slot_id, patient.id, now)
            return render_template(CONFIRM, form=form, offer=offer, problem=error.message), 409
        flash("Your appointment is booked. A confirmation is on its way by email.", "success")
        return redirect(url_for("patient.dashboard"))
    offer = directory.offer(slot_id, patient.id, now)
    if offer.problem:
        status = 409
    else:
        status = 400 if request.method == "POST" else 200
    return render_template(CONFIRM, form=form, offer=offer, problem=offer.problem), status


@bp.post(f"/appointments/<{ID}:appointment_id>/cancel")
def cancel(appointment_id: int):
    """By the appointment's patient, its doctor or an admin; anyone else meets a 404. An
    optional `reason` goes to both sides."""
    form = CancelForm()
    if not form.validate_on_submit():  # a reason past the field's maxlength, or a broken one
        problem = f"Nothing was cancelled. The reason: {' '.join(form.reason.errors)}"
        return render_error(400, problem, back=same_site_referrer())
    try:
        booking.cancel(appointment_id, actor=current_user, reason=form.reason.data)
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    flash("The appointment has been cancelled and its time is open for booking again.", "success")
    return redirect(back_url(dashboard_url(current_user)))


@bp.post(f"/appointments/<{ID}:appointment_id>/check-in")
@roles_allowed(Role.DOCTOR, *STAFF_ROLES)
def check_in(appointment_id: int):
    """The patient has arrived: the front desk (or the doctor) checks them in, or takes a
    mistaken check-in back (`undo`)."""
    form = CheckInForm()
    if not form.validate_on_submit():
        abort_with(DomainError("That request was not right."))
    try:
        visits.check_in(appointment_id, actor=current_user, undo=form.undo.data)
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    done = "The check-in is taken back." if form.undo.data else "The patient is checked in."
    flash(done, "success")
    return redirect(back_url(dashboard_url(current_user)))


@bp.post(f"/appointments/<{ID}:appointment_id>/attendance")
def confirm_attendance(appointment_id: int):
    """The patient says they will come; the doctor or the front desk records that the patient
    told them so. Saying it twice is no error."""
    if not AttendanceForm().validate_on_submit():
        abort_with(DomainError("That request was not right."))
    try:
        appointment = attendance.confirm(appointment_id, actor=current_user)
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    if current_user.is_patient:
        flash("Thank you. The clinic knows you will come.", "success")
    else:
        when = format_local(appointment.start_at, "%a %d %b, %H:%M")
        flash(f"Noted: the patient will come on {when}.", "success")
    return redirect(back_url(dashboard_url(current_user)))


@bp.route(f"/appointments/<{ID}:appointment_id>/note", methods=["GET", "POST"])
@roles_allowed(Role.PATIENT)
def change_note(appointment_id: int):
    """The patient's note for the doctor, changed up to the appointment's start."""

    def save(appointment_id, notes, now):
        booking.change_note(appointment_id, notes, actor=current_user, now=now)

    def done(appointment):
        message = f"Your note for {appointment.doctor.user.full_name} is saved."
        return message, url_for("patient.appointments")

    return appointment_notes_page(
        appointment_id,
        form_class=NoteForm,
        current=lambda appointment: appointment.notes,
        refusal=lambda appointment, now: booking.note_refusal(appointment, current_user, now),
        save=save,
        template="booking/note.html",
        done=done,
    )
