"""The front desk approves new doctors before patients can find them (`doctor_review`), and
keeps a doctor's profile for them.

The review page shows what the doctor wrote about themselves, so the desk can check it (their
registration, who they are) first, then approves them or declines them (the account is switched
off and they are told, with the desk's reason if it gives one).
"""

from functools import partial

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.forms import ApproveDoctorForm, DeclineDoctorForm, DeskDoctorProfileForm
from app.blueprints.admin.frontdesk import card_kept_by_desk
from app.errors import render_error
from app.extensions import db
from app.security import client_ip, is_safe_next
from app.services import DomainError, directory, doctor_review, profiles
from app.views import ID, abort_with, form_status


def _applicant_or_404(user_id: int):
    try:
        return doctor_review.applicant(user_id)
    except DomainError as error:
        abort_with(error)


def _back(form) -> str:
    return form.next.data if is_safe_next(form.next.data) else url_for("admin.users")


def _decide(user, form, decision, done: str):
    """Approve or decline (`decision`, a doctor_review function of the account's id), commit,
    and go back to the list the desk came from saying so; 404 or 409 when it cannot be done
    (another admin decided first)."""
    try:
        decision(user.id, actor=current_user._get_current_object(), ip_address=client_ip())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return render_error(error.status_code, error.message)
    flash(f"{user.full_name} {done}", "success")
    return redirect(_back(form))


@bp.route(f"/users/<{ID}:user_id>/approve", methods=["GET", "POST"])
def approve_doctor(user_id: int):
    user = _applicant_or_404(user_id)
    form = ApproveDoctorForm()
    if form.validate_on_submit():
        done = "is approved: patients can find and book them now, and they have been emailed."
        return _decide(user, form, doctor_review.approve, done)
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    decline = DeclineDoctorForm(formdata=None, next=form.next.data)
    return _review_page(user, form, decline, form_status(form))


@bp.post(f"/users/<{ID}:user_id>/decline")
def decline_doctor(user_id: int):
    user = _applicant_or_404(user_id)
    form = DeclineDoctorForm()
    if not form.validate_on_submit():  # a reason past its length
        approve = ApproveDoctorForm(formdata=None, next=form.next.data)
        return _review_page(user, approve, form, 400)
    done = "is declined: the account is switched off and they have been emailed."
    return _decide(user, form, partial(doctor_review.decline, reason=form.reason.data), done)


def _review_page(user, approve_form, decline_form, status: int):
    refusal = doctor_review.approval_refusal(user.doctor_profile)
    if refusal is not None:
        return render_error(409, refusal)
    return render_template(
        "admin/approve_doctor.html",
        form=approve_form,
        decline_form=decline_form,
        user=user,
        back=_back(approve_form),
    ), status


@bp.route(f"/users/<{ID}:user_id>/profile", methods=["GET", "POST"])
def doctor_profile(user_id: int):
    """A doctor's profile, kept by the desk for them with the rules of their own page: a list
    closed to new patients while they are away, a biography sent in by email, a phone number
    that changed. Doctors only (404 otherwise); the audit trail records the desk's doing."""
    return card_kept_by_desk(
        user_id,
        "doctor_profile",
        DeskDoctorProfileForm,
        "admin/doctor_profile.html",
        profiles.doctor_card,
        profiles.update_doctor,
        saved=lambda user: f"The profile of {user.full_name} is saved.",
        specializations=directory.specializations(),
    )
