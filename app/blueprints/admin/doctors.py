"""The front desk approves new doctors before patients can find them (`doctor_review`).

The page shows what the doctor wrote about themselves, so the desk can check it (their
registration, who they are) first; declining one is deactivating the account.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.forms import ApproveDoctorForm
from app.errors import render_error
from app.extensions import db
from app.security import client_ip, is_safe_next
from app.services import DomainError, doctor_review
from app.views import ID, abort_with, form_status


@bp.route(f"/users/<{ID}:user_id>/approve", methods=["GET", "POST"])
def approve_doctor(user_id: int):
    try:
        user = doctor_review.applicant(user_id)
    except DomainError as error:
        abort_with(error)
    form = ApproveDoctorForm()
    if form.validate_on_submit():
        try:
            doctor_review.approve(
                user_id, actor=current_user._get_current_object(), ip_address=client_ip()
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            return render_error(error.status_code, error.message)
        flash(
            f"{user.full_name} is approved: patients can find and book them now, "
            "and they have been emailed.",
            "success",
        )
        back = form.next.data
        return redirect(back if is_safe_next(back) else url_for("admin.users"))
    refusal = doctor_review.approval_refusal(user.doctor_profile)
    if refusal is not None:
        return render_error(409, refusal)
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    back = form.next.data if is_safe_next(form.next.data) else url_for("admin.users")
    return render_template(
        "admin/approve_doctor.html", form=form, user=user, back=back
    ), form_status(form)
