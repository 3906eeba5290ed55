"""The reminder email's "I will be there" link: no session, the signed link is the credential
(app.services.attendance). Opening it shows the appointment and changes nothing; its button
confirms. Cancelling or moving asks the patient to sign in."""

from flask import current_app, flash, redirect, render_template, url_for

from app.blueprints.booking.forms import AttendanceForm
from app.blueprints.main import bp
from app.extensions import db, limiter
from app.services import DomainError, attendance
from app.timeutil import utcnow

TEMPLATE = "main/attendance.html"


def _refused(error: DomainError):
    """A broken or expired link (400), or an appointment moved, cancelled or begun (409)."""
    db.session.rollback()
    return render_template(
        TEMPLATE, visit=None, problem=error.message, phone=current_app.config["CLINIC_PHONE"]
    ), error.status_code


@bp.route("/attendance/<string(maxlength=200):token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def attendance_link(token: str):
    form = AttendanceForm()
    try:
        if form.validate_on_submit():
            attendance.confirm_from_link(token)
            db.session.commit()
            flash("Thank you. The clinic knows you will come.", "success")
            return redirect(url_for("main.attendance_link", token=token))
        visit = attendance.visit_for_token(token)
    except DomainError as error:
        return _refused(error)
    problem = attendance.refusal(visit.appointment, utcnow())
    return render_template(
        TEMPLATE,
        visit=visit,
        form=form,
        problem=problem,
        phone=current_app.config["CLINIC_PHONE"],
    ), 409 if problem else 200
