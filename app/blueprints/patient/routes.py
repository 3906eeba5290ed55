import json
from functools import partial

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.blueprints.patient import bp
from app.blueprints.patient.forms import (
    CloseAccountForm,
    DoctorSearchForm,
    FeedbackForm,
    PatientProfileForm,
    WaitlistForm,
)
from app.extensions import db, limiter
from app.models import PatientProfile
from app.security import client_ip, owned_or_404, user_or_ip
from app.services import (
    DomainError,
    NotFound,
    account_closure,
    accounts,
    agenda,
    attendance,
    data_export,
    directory,
    feedback,
    google_account,
    new_patients,
    profiles,
    waitlist,
)
from app.timeutil import utcnow
from app.views import (
    ID,
    abort_with,
    back_url,
    form_status,
    page_arg,
    profile_page,
    show_domain_error,
)
from app.web_security import end_session


def _me() -> PatientProfile:
    """The signed-in patient's profile (an account without one has nothing to show here)."""
    return owned_or_404(current_user.patient_profile, True)


@bp.get("/")
def dashboard():
    profile = current_user.patient_profile
    now = utcnow()
    upcoming = agenda.patient_upcoming(profile, now) if profile else []
    return render_template(
        "patient/dashboard.html",
        profile=profile,
        upcoming=upcoming,
        cancellable=agenda.cancellable_ids(upcoming, current_user, now),
        movable=agenda.movable_ids(upcoming, current_user, now),
        notable=agenda.note_editable_ids(upcoming, current_user, now),
        confirmable=attendance.asked_ids(upcoming, now),
        waiting=waitlist.entries_for(profile) if profile else [],
        cancelled=agenda.cancelled_by_others(profile, now) if profile else [],
        to_rate=feedback.waiting_for(profile, now) if profile else None,
    )


@bp.get("/doctors")
def doctors():
    form = DoctorSearchForm.from_args(request.args)
    if not form.validate():
        return render_template("patient/doctors.html", form=form, doctors=None), 400
    doctors = directory.search_doctors(
        **form.filters(),
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        now=utcnow(),
    )
    return render_template("patient/doctors.html", form=form, doctors=doctors)


@bp.get(f"/doctors/<{ID}:doctor_id>")
def doctor_detail(doctor_id: int):
    return render_doctor(doctor_id, WaitlistForm(formdata=None))


def render_doctor(doctor_id: int, waitlist_form: WaitlistForm, status: int = 200):
    """The doctor's page: profile, open slots by day, and the waitlist form (shown again with its
    errors when joining failed)."""
    try:
        doctor = directory.bookable_doctor(doctor_id)
    except NotFound:
        abort(404)
    days = directory.slots_by_day(directory.open_slots(doctor.id, utcnow()))
    page = render_template(
        "patient/doctor_detail.html",
        doctor=doctor,
        days=days,
        waitlist_form=waitlist_form,
        refusal=new_patients.refusal(doctor, _me().id),  # asks only when the list is closed
        waitlist_max_days=waitlist.MAX_DAYS,
    )
    return page, status


@bp.get("/appointments")
def appointments():
    now = utcnow()
    when, pagination = agenda.listing(
        request.args.get("when"),
        now=now,
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        patient=_me(),
    )
    return render_template(
        "patient/appointments.html",
        pagination=pagination,
        when=when,
        cancellable=agenda.cancellable_ids(pagination.items, current_user, now),
        movable=agenda.movable_ids(pagination.items, current_user, now),
        notable=agenda.note_editable_ids(pagination.items, current_user, now),
        confirmable=attendance.asked_ids(pagination.items, now),
    )


@bp.get(f"/appointments/<{ID}:appointment_id>")
def appointment(appointment_id: int):
    """One appointment of the patient's: when, with whom, what became of it, the doctor's
    instructions after the visit (the VISIT_INSTRUCTIONS email links here), and the question of
    how it went."""
    return render_appointment(appointment_id, FeedbackForm(formdata=None))


@bp.post(f"/appointments/<{ID}:appointment_id>/feedback")
def give_feedback(appointment_id: int):
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            feedback.give(
                _me(),
                appointment_id,
                form.answer.data,
                form.comment.data,
                actor=current_user,
            )
            db.session.commit()
        except NotFound:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            return render_appointment(appointment_id, form, error)
        flash("Thank you for telling us how your visit went.", "success")
        return redirect(url_for(".appointment", appointment_id=appointment_id))
    return render_appointment(appointment_id, form)


def render_appointment(appointment_id: int, form: FeedbackForm, error: DomainError | None = None):
    """The appointment's page; its feedback form comes back with its own errors (400), or with
    `error`: next to its field (400), or instead of the form (409: not to be answered now)."""
    try:
        appointment = agenda.appointment_for(appointment_id, current_user)
    except DomainError as not_found:
        abort_with(not_found)
    now = utcnow()
    given = feedback.for_appointment(appointment.id)
    if error is not None and error.field is not None:
        field = getattr(form, error.field)
        field.errors = [*field.errors, error.message]
    problem = error.message if error is not None and error.field is None else None
    refusal = problem or feedback.refusal(appointment, given is not None, now)
    page = render_template(
        "patient/appointment.html",
        appointment=appointment,
        now=now,
        feedback=given,
        feedback_form=form,
        feedback_refusal=refusal,
        feedback_asked=request.method == "POST",
    )
    if request.method == "POST" and refusal is not None:
        return page, 409  # whatever else was wrong, this visit is not to be answered now
    return page, error.status_code if error is not None else form_status(form)


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    initial = profiles.patient_card(current_user)
    save = partial(profiles.update_patient, current_user._get_current_object())
    return profile_page(PatientProfileForm, "patient/profile.html", initial, save)


@bp.post(f"/doctors/<{ID}:doctor_id>/waitlist")
def join_waitlist(doctor_id: int):
    form = WaitlistForm()
    if not form.validate_on_submit():
        return render_doctor(doctor_id, form, 400)
    first, last = form.days()
    try:
        waitlist.join(_me(), doctor_id, first, last_day=last, actor=current_user)
        db.session.commit()
    except NotFound as error:
        abort_with(error)
    except DomainError as error:
        db.session.rollback()
        form.refused(error)
        return render_doctor(doctor_id, form, error.status_code)
    days = (
        f"{first:%A %d %B}"
        if last == first
        else f"every day from {first:%A %d %B} to {last:%A %d %B}"
    )
    flash(
        f"You are on the waitlist for {days}. We will email you if a place frees up or the "
        "doctor adds one; the first to book it gets it.",
        "success",
    )
    return redirect(url_for(".doctor_detail", doctor_id=doctor_id))


@bp.post(f"/waitlist/<{ID}:entry_id>/leave")
def leave_waitlist(entry_id: int):
    try:
        waitlist.leave(_me(), entry_id, actor=current_user)
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    flash("You have left the waitlist for that day.", "info")
    return redirect(back_url(url_for(".dashboard")))


@bp.route("/account/close", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], key_func=user_or_ip)  # it checks the password
def close_account():
    now = utcnow()
    form = CloseAccountForm()
    context = {
        "ahead": accounts.still_booked(current_user, now),
        "soon": account_closure.soon_to_start(current_user, now),
    }
    if form.validate_on_submit():
        try:
            closed = account_closure.close(
                current_user._get_current_object(),
                form.current_password.data,
                ip_address=client_ip(),
                now=now,
            )
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, "patient/close_account.html", **context)
        if closed.google_token:
            google_account.revoke(closed.google_token)  # after commit: nothing waits on Google
        end_session()
        flash(
            "Your account is closed and you are signed out. To reopen it, call the front desk.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("patient/close_account.html", form=form, **context), form_status(form)


@bp.get("/account/data.json")
def my_data():
    """The patient's own data to keep, as a download (never cached, as every signed-in page)."""
    _me()
    now = utcnow()
    body = json.dumps(data_export.patient_data(current_user, now=now), indent=2, ensure_ascii=False)
    return Response(
        body + "\n",
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="hms-my-data-{now.date().isoformat()}.json"'
            ),
        },
    )
