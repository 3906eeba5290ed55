"""The front desk books for a caller: find a doctor, pick an open time, add the caller's note;
registers a caller who has no account yet, and takes down a caller's new details. The
administrator adds the front desk's own accounts here too.

The booking is the patient's own kind in every rule (notice, horizon, overlaps, the race), with
the admin recorded as who made it; both parties are emailed as for any booking.
"""

from functools import partial

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.forms import RegisterDeskForm
from app.blueprints.auth.forms import RegisterPatientForm
from app.blueprints.booking.forms import FrontDeskBookingForm
from app.blueprints.patient.forms import DoctorSearchForm, PatientProfileForm, WaitlistForm
from app.extensions import db
from app.models import User
from app.security import client_ip
from app.services import (
    Conflict,
    DomainError,
    NotFound,
    accounts,
    booking,
    directory,
    new_patients,
    profiles,
    registration,
    waitlist,
)
from app.timeutil import format_local, utcnow
from app.views import ID, abort_with, form_status, page_arg, profile_page, show_domain_error

PAGE = "admin/book.html"


def _chosen_doctor():
    """The doctor named by `?doctor=`, or None while the desk is still searching."""
    doctor_id = request.args.get("doctor", type=int)
    if doctor_id is None:
        return None
    try:
        return directory.bookable_doctor(doctor_id)
    except NotFound:
        abort(404)


def _page(patient, doctor, form, problem=None, waitlist_form=None):
    now = utcnow()
    if doctor is None:
        search = DoctorSearchForm.from_args(request.args)
        doctors = None
        if search.validate():
            doctors = directory.search_doctors(
                **search.filters(),
                page=page_arg(),
                per_page=current_app.config["PAGE_SIZE"],
                now=now,
            )
        context = {"search": search, "doctors": doctors}
    else:
        context = {
            "days": directory.slots_by_day(directory.open_slots(doctor.id, now)),
            # the desk books them anyway, but should know it is the doctor's call
            "newcomer": new_patients.is_newcomer(doctor, patient.id),
            "waitlist_form": waitlist_form or WaitlistForm(formdata=None),
            "waitlist_max_days": waitlist.MAX_DAYS,
        }
    return render_template(
        PAGE, patient=patient, doctor=doctor, form=form, problem=problem, **context
    )


@bp.route(f"/users/<{ID}:user_id>/book", methods=["GET", "POST"])
def book_for(user_id: int):
    try:
        patient = accounts.bookable_patient(user_id)
    except DomainError as error:
        abort_with(error)
    doctor = _chosen_doctor()
    form = FrontDeskBookingForm()
    if doctor is not None and form.validate_on_submit():
        try:
            appointment = booking.book(
                patient, form.slot_id.data, form.notes.data, actor=current_user
            )
            db.session.commit()
        except Conflict as error:
            db.session.rollback()
            return _page(patient, doctor, form, error.message), error.status_code
        flash(
            f"Booked {patient.user.full_name} with {appointment.doctor.user.full_name} on "
            f"{format_local(appointment.start_at)}. Both are told by email.",
            "success",
        )
        return redirect(url_for("admin.appointments", patient=patient.user.email))
    status = 400 if request.method == "POST" else form_status(form)
    return _page(patient, doctor, form), status


@bp.post(f"/users/<{ID}:user_id>/waitlist")
def waitlist_for(user_id: int):
    """No time suits the caller: the desk puts them on the chosen doctor's (`?doctor=`) waitlist
    for a day or a stretch of days, as the patient could online; they are emailed when a place
    frees up, and the day sheet lists them for a phone call."""
    try:
        patient = accounts.bookable_patient(user_id)
    except DomainError as error:
        abort_with(error)
    doctor = _chosen_doctor()
    if doctor is None:
        abort(404)
    form = WaitlistForm()
    if form.validate_on_submit():
        first, last = form.days()
        try:
            waitlist.join(patient, doctor.id, first, last_day=last, actor=current_user)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            form.refused(error)
            return _page(patient, doctor, FrontDeskBookingForm(formdata=None), None, form), (
                error.status_code
            )
        days = f"{first:%a %d %b}" if last == first else f"{first:%a %d %b} to {last:%a %d %b}"
        flash(
            f"{patient.user.full_name} is on {doctor.user.full_name}'s waitlist for {days}: "
            "they are emailed when a place frees up.",
            "success",
        )
        return redirect(url_for("admin.book_for", user_id=user_id, doctor=doctor.id))
    return _page(patient, doctor, FrontDeskBookingForm(formdata=None), None, form), 400


@bp.route("/patients/new", methods=["GET", "POST"])
def register_patient():
    """A caller new to the clinic: their account is made (they are emailed a link to choose a
    password) and the desk goes straight on to book for them."""
    form = RegisterPatientForm()
    if form.validate_on_submit():
        try:
            user = registration.register_patient(
                form.full_name.data,
                form.email.data,
                actor=current_user,
                phone=form.phone.data,
                date_of_birth=form.date_of_birth.data,
                address=form.address.data,
                emergency_contact=form.emergency_contact.data,
                ip_address=client_ip(),
            )
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, "admin/register.html")
        flash(
            f"{user.full_name} is registered. A link to choose a password is on its way to "
            f"{user.email}. Now choose their doctor.",
            "success",
        )
        return redirect(url_for("admin.book_for", user_id=user.id))
    return render_template("admin/register.html", form=form), form_status(form)


@bp.route("/staff/new", methods=["GET", "POST"])
def register_desk():
    """The administrator adds a front-desk account (the desk cannot: DESK_ENDPOINTS); its owner
    is emailed a link to choose the password, as a registered caller is."""
    form = RegisterDeskForm()
    if form.validate_on_submit():
        try:
            user = registration.register_desk(
                form.full_name.data, form.email.data, actor=current_user, ip_address=client_ip()
            )
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, "admin/register_desk.html")
        flash(
            f"{user.full_name} has a front-desk account. A link to choose a password is on its "
            f"way to {user.email}.",
            "success",
        )
        return redirect(url_for("admin.users", q=user.email))
    return render_template("admin/register_desk.html", form=form), form_status(form)


@bp.route(f"/users/<{ID}:user_id>/details", methods=["GET", "POST"])
def patient_details(user_id: int):
    """A caller's new phone number, address or emergency contact, taken down by the desk (the
    patient can change them too, on their own details page). Patients only: a doctor's card
    has its own page (`doctor_profile`)."""
    return card_kept_by_desk(
        user_id,
        "patient_profile",
        PatientProfileForm,
        "admin/patient_details.html",
        profiles.patient_card,
        profiles.update_patient,
        saved=lambda user: f"The details of {user.full_name} are saved.",
    )


def card_kept_by_desk(
    user_id: int, profile: str, form_class, template: str, card, update, *, saved, **context
):
    """The card (`profile`: the account's "patient_profile" or "doctor_profile"; 404 for an
    account without one) the desk keeps for someone, on their own page's form and rules:
    `card(user)` fills the form, `update(user, **fields, actor=the admin)` saves it, then back
    to the users list, filtered to them, saying `saved(user)` (the name may be new)."""
    user = db.session.get(User, user_id)
    if user is None or getattr(user, profile) is None:
        abort(404)
    return profile_page(
        form_class,
        template,
        card(user),
        partial(update, user, actor=current_user._get_current_object()),
        saved=lambda: saved(user),
        done=url_for("admin.users", q=user.email),
        user=user,
        **context,
    )
