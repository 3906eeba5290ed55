from functools import partial

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.doctor import bp, schedule
from app.blueprints.doctor.forms import (
    DaySheetForm,
    DoctorEmailsForm,
    DoctorProfileForm,
    FollowUpForm,
    InstructionsForm,
    LateForm,
    OutcomeForm,
    PatientSearchForm,
    VisitNotesForm,
)
from app.extensions import db
from app.models import DoctorProfile, FeedbackAnswer
from app.security import owned_or_404
from app.services import (
    Conflict,
    DomainError,
    agenda,
    attendance,
    booking,
    directory,
    feedback,
    profiles,
    visits,
    waitlist,
)
from app.timeutil import format_local, local_today, utcnow
from app.views import (
    ID,
    abort_with,
    appointment_notes_page,
    back_url,
    form_status,
    page_arg,
    profile_page,
)


def _me() -> DoctorProfile:
    """The signed-in doctor's profile (an account without one has nothing to show here)."""
    return owned_or_404(current_user.doctor_profile, True)


@bp.get("/")
def dashboard():
    profile = current_user.doctor_profile
    now = utcnow()
    summary = agenda.doctor_summary(profile, now) if profile else None
    cancellable = agenda.cancellable_ids(summary.upcoming, current_user, now) if summary else set()
    return render_template(
        "doctor/dashboard.html", profile=profile, summary=summary, cancellable=cancellable
    )


def _schedule() -> schedule.Schedule:
    """The signed-in doctor's own schedule page."""
    return schedule.Schedule(
        _me(),
        {
            "page": "doctor.availability",
            "weekly": "doctor.availability_weekly",
            "stop_repeat": "doctor.stop_repeating_hours",
            "clear": "doctor.clear_availability",
            "delete": "doctor.delete_slot",
        },
    )


@bp.route("/availability", methods=["GET", "POST"])
def availability():
    if request.method == "GET":
        return schedule.show(_schedule())
    return schedule.publish(_schedule())


@bp.post("/availability/weekly")
def availability_weekly():
    return schedule.weekly(_schedule())


@bp.post(f"/availability/weekly/<{ID}:standing_id>/stop")
def stop_repeating_hours(standing_id: int):
    return schedule.stop_repeat(_schedule(), standing_id)


@bp.post("/availability/clear")
def clear_availability():
    """Time off: the open slots of a run of days go in one step; booked ones stay."""
    return schedule.clear(_schedule())


@bp.post(f"/availability/<{ID}:slot_id>/delete")
def delete_slot(slot_id: int):
    return schedule.delete(_schedule(), slot_id)


@bp.get("/appointments")
def appointments():
    now = utcnow()
    me = _me()
    when, pagination = agenda.listing(
        request.args.get("when"),
        now=now,
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        doctor=me,
    )
    return render_template(
        "doctor/appointments.html",
        pagination=pagination,
        when=when,
        cancellable=agenda.cancellable_ids(pagination.items, current_user, now),
        outcomes=agenda.outcome_ids(pagination.items, current_user, now),
        first_visits=agenda.first_visit_ids(pagination.items, me),
        writable=visits.notes_writable_ids(pagination.items, now),
    )


@bp.get("/day")
def day_sheet():
    """One clinic-local day (`?date=`, today by default), slot by slot: who comes when, what is
    still open, and the visit's buttons; it prints as a plain list."""
    form = DaySheetForm(formdata=request.args)
    today = local_today()
    if not form.validate():
        return render_template("doctor/day.html", form=form, sheet=None, today=today), 400
    form.date.data = form.date.data or today
    me = _me()
    sheet = agenda.day_sheet(me, form.date.data)
    waiting = waitlist.waiting_on(me.id, sheet.day)
    now = utcnow()
    shown = [row.appointment for row in sheet.rows if row.appointment is not None]
    return render_template(
        "doctor/day.html",
        form=form,
        sheet=sheet,
        today=today,
        waiting=waiting,
        late_minutes=visits.LATE_MINUTES,
        cancellable=agenda.cancellable_ids(shown, current_user, now),
        outcomes=agenda.outcome_ids(shown, current_user, now),
        first_visits=agenda.first_visit_ids(shown, me),
        writable=visits.notes_writable_ids(shown, now),
        check_ins=visits.check_in_ids(shown, now),
        confirmable=attendance.desk_asks_ids(shown, now),
    )


@bp.get("/patients")
def patients():
    """Everyone this doctor has had an appointment with, by name (`?q=` searches it), with their
    last and next appointment: the way into a patient's record without a visit at hand."""
    form = PatientSearchForm(formdata=request.args)
    name = (form.q.data or "").strip() if form.validate() else ""
    pagination = agenda.doctor_patients(
        _me(), name, now=utcnow(), page=page_arg(), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template("doctor/patients.html", form=form, pagination=pagination, name=name), (
        200 if not form.errors else 400
    )


@bp.get(f"/patients/<{ID}:patient_id>")
def patient_record(patient_id: int):
    """A patient seen from this doctor's desk: their details and every appointment they have had
    with this doctor. Any other patient is a 404."""
    me = _me()
    now = utcnow()
    try:
        record = agenda.patient_record(
            me, patient_id, page=page_arg(), per_page=current_app.config["PAGE_SIZE"]
        )
    except DomainError as error:
        abort_with(error)
    shown = record.pagination.items
    return render_template(
        "doctor/patient.html",
        record=record,
        cancellable=agenda.cancellable_ids(shown, current_user, now),
        outcomes=agenda.outcome_ids(shown, current_user, now),
        writable=visits.notes_writable_ids(shown, now),
    )


@bp.post("/day/late")
def running_late():
    """The doctor is behind: the patients still to come today are told by email."""
    form = LateForm()
    if not form.validate_on_submit():
        abort(400, "Choose how late you are running.")
    try:
        told = visits.running_late(_me(), form.minutes.data, actor=current_user)
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    if told:
        people = (
            "patient still to come today has" if told == 1 else "patients still to come today have"
        )
        flash(
            f"{told} {people} been told you are about {form.minutes.data} minutes late.", "success"
        )
    else:
        flash("No patient is still to come today: nobody was told.", "info")
    return redirect(url_for(".day_sheet"))


@bp.post(f"/appointments/<{ID}:appointment_id>/status")
def record_outcome(appointment_id: int):
    """After the start: did the visit happen? (`status` = completed or no_show)"""
    form = OutcomeForm()
    if not form.validate_on_submit():
        abort(400, "Choose completed or no-show.")
    try:
        visits.record_outcome(appointment_id, form.status.data, actor=current_user)
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    label = "completed" if form.status.data == "completed" else "a no-show"
    flash(f"The appointment is recorded as {label}.", "success")
    return redirect(back_url(url_for(".appointments", when="past")))


@bp.route(f"/patients/<{ID}:patient_id>/book", methods=["GET", "POST"])
def book_follow_up(patient_id: int):
    """At the end of a visit: the doctor books their patient's next one, in one of their own
    open times, under every rule of a booking but the patients' own no-show limit."""
    me = _me()
    try:
        patient = agenda.own_patient(me, patient_id)
    except DomainError as error:
        abort_with(error)
    form = FollowUpForm()
    problem = None
    if not patient.user.active:
        problem = f"{patient.full_name}'s account is closed: the front desk can reopen it."
    elif form.validate_on_submit():
        try:
            appointment = booking.book(
                patient, form.slot_id.data, actor=current_user, doctor_id=me.id
            )
            db.session.commit()
        except Conflict as error:
            db.session.rollback()
            problem = error.message
        else:
            when = format_local(appointment.start_at)
            flash(
                f"Booked {patient.full_name} on {when}. Both of you are told by email.", "success"
            )
            return redirect(url_for(".patient_record", patient_id=patient.id))
    days = directory.slots_by_day(directory.open_slots(me.id, utcnow()))
    context = {"patient": patient, "form": form, "days": days, "problem": problem}
    return render_template("doctor/book.html", **context), 409 if problem else form_status(form)


@bp.route(f"/appointments/<{ID}:appointment_id>/visit-notes", methods=["GET", "POST"])
def visit_notes(appointment_id: int):
    """The doctor's own notes of a visit, from its start; they go back to the patient's record."""

    def save(appointment_id, notes, now):
        visits.write_notes(appointment_id, notes, actor=current_user, now=now)

    def done(appointment):
        message = f"Your notes of the visit with {appointment.patient.full_name} are saved."
        return message, url_for(".patient_record", patient_id=appointment.patient_id)

    return appointment_notes_page(
        appointment_id,
        form_class=VisitNotesForm,
        current=lambda appointment: appointment.visit_notes,
        refusal=visits.notes_refusal,
        save=save,
        template="doctor/visit_notes.html",
        done=done,
    )


@bp.route(f"/appointments/<{ID}:appointment_id>/instructions", methods=["GET", "POST"])
def instructions(appointment_id: int):
    """What the doctor asks of the patient after the visit: the patient reads it on their
    appointment's page, told by email that it is there."""

    def save(appointment_id, text, now):
        visits.write_instructions(appointment_id, text, actor=current_user, now=now)

    def done(appointment):
        name = appointment.patient.full_name
        if not appointment.patient_instructions:
            message = f"Your instructions to {name} are removed."
        elif appointment.patient.user.active:
            message = f"Your instructions are saved. {name} is emailed that they are there to read."
        else:  # a closed account: nobody to email, the record keeps them
            message = f"Your instructions are saved. {name}'s account is closed: nobody is emailed."
        return message, url_for(".patient_record", patient_id=appointment.patient_id)

    return appointment_notes_page(
        appointment_id,
        form_class=InstructionsForm,
        current=lambda appointment: appointment.patient_instructions,
        refusal=visits.instructions_refusal,
        save=save,
        template="doctor/instructions.html",
        done=done,
    )


@bp.get("/feedback")
def feedback_page():
    """What the doctor's patients said of their visits in the last SUMMARY_DAYS, without names."""
    now = utcnow()
    me = _me()
    return render_template(
        "doctor/feedback.html",
        figures=feedback.doctor_figures(me, now),
        comments=feedback.comments_page(
            now, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], doctor=me
        ),
        days=feedback.SUMMARY_DAYS,
        answers=list(FeedbackAnswer),
        question=feedback.QUESTION,
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    user = current_user._get_current_object()
    return profile_page(
        DoctorProfileForm,
        "doctor/profile.html",
        profiles.doctor_card(user),
        partial(profiles.update_doctor, user),
        specializations=directory.specializations(),
    )


@bp.route("/emails", methods=["GET", "POST"])
def emails():
    """Which emails about their appointments the doctor wants."""
    doctor = _me()
    initial = {
        "booking_emails": doctor.booking_emails,
        "reminder_emails": doctor.reminder_emails,
        "agenda_emails": doctor.agenda_emails,
        "schedule_emails": doctor.schedule_emails,
    }
    return profile_page(
        DoctorEmailsForm,
        "doctor/emails.html",
        initial,
        partial(profiles.update_doctor_emails, doctor, actor=current_user._get_current_object()),
        saved="Your email settings have been saved.",
        agenda_hour=current_app.config["AGENDA_EMAIL_HOUR"],
        schedule_delay=current_app.config["SCHEDULE_EMAIL_DELAY_MINUTES"],
    )
