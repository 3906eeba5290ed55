"""Moving an appointment to another open slot of the same doctor (patients and admins)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from app.blueprints.booking import bp
from app.blueprints.booking.forms import RescheduleForm
from app.extensions import db
from app.models import STAFF_ROLES, Role
from app.security import roles_allowed
from app.services import DomainError, NotFound, agenda, directory
from app.services.reschedule import move_refusal, reschedule
from app.timeutil import utcnow
from app.views import ID, abort_with, form_status

CHOICES = 30
PAGE = "booking/reschedule.html"


@bp.route(f"/appointments/<{ID}:appointment_id>/reschedule", methods=["GET", "POST"])
@roles_allowed(Role.PATIENT, *STAFF_ROLES)
def reschedule_appointment(appointment_id: int):
    now = utcnow()
    try:
        appointment = agenda.appointment_for(appointment_id, current_user)
    except NotFound as error:
        abort_with(error)
    form = RescheduleForm()
    slots = directory.open_slots(appointment.doctor_id, now, limit=CHOICES)
    form.slot_id.choices = [SelectChoice(slot.id, str(slot.id)) for slot in slots]
    problem = move_refusal(appointment, current_user, now)
    if problem is None and form.validate_on_submit():
        try:
            reschedule(appointment.id, form.slot_id.data, actor=current_user, now=now)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            slots = directory.open_slots(appointment.doctor_id, now, limit=CHOICES)
            context = {"appointment": appointment, "slots": slots, "problem": error.message}
            return render_template(PAGE, form=form, **context), error.status_code
        if current_user.role == Role.PATIENT:
            flash("Your appointment has been moved. Both of you will get an email.", "success")
            return redirect(url_for("patient.appointments"))
        flash("The appointment has been moved. The patient and the doctor are emailed.", "success")
        return redirect(url_for("admin.appointments"))
    status = 409 if problem else form_status(form)
    context = {"appointment": appointment, "slots": slots, "problem": problem}
    return render_template(PAGE, form=form, **context), status
