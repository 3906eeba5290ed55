"""The admin console. The blueprint's guard has already refused everyone but admins."""

from datetime import timedelta
from functools import partial

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app.blueprints.admin import DESK_SERVES, bp, charts, csv_export
from app.blueprints.admin.forms import (
    AppointmentFilterForm,
    AuditFilterForm,
    ChangeEmailForm,
    ClosureForm,
    DeactivateForm,
    UserFilterForm,
)
from app.errors import render_error
from app.extensions import db
from app.repositories import admin as lists
from app.repositories import outbox as outbox_lists
from app.security import client_ip, is_safe_next
from app.services import (
    DomainError,
    accounts,
    attendance,
    closures,
    email_recovery,
    feedback,
    password_reset,
    stats,
    two_step,
    visits,
)
from app.timeutil import local_today, utcnow
from app.views import ID, abort_with, form_status, page_arg, show_domain_error
from app.web_security import talisman

# The SVG is its own document: it may use the styles pygal writes inside it, and nothing else.
CHART_CSP = {"default-src": "'none'", "style-src": "'unsafe-inline'", "frame-ancestors": "'none'"}


def _paginate(query):
    """Like every list: junk `?page=` reads as 1 and a huge one cannot overflow OFFSET."""
    per_page = current_app.config["PAGE_SIZE"]
    return db.paginate(
        query, page=page_arg(), per_page=per_page, max_per_page=per_page, error_out=False
    )


def _list_page(template: str, form, search, **context):
    """Validate the filters; run the search only when they make sense (400 otherwise)."""
    if not form.validate():
        return render_template(template, form=form, pagination=None, **context), 400
    pagination = _paginate(search(**form.filters()))
    return render_template(template, form=form, pagination=pagination, **context)


@bp.get("/")
def dashboard():
    now = utcnow()
    days = stats.daily_bookings(now)
    return render_template(
        "admin/dashboard.html",
        overview=stats.overview(now),
        days=days,
        window=stats.window_total(days),
        utilisation=stats.slot_utilisation(now),
        specializations=stats.busiest_specializations(now),
        utilisation_days=stats.UTILISATION_DAYS,
        email=stats.email_queue(now),
    )


@bp.get("/charts/<any(bookings, cancellations, utilisation, specializations):name>.svg")
@talisman(content_security_policy=CHART_CSP)
def chart(name: str):
    response = Response(charts.render(name), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/users")
def users():
    form = UserFilterForm(formdata=request.args)
    search = lists.user_search
    if current_user.is_desk:  # the patients and doctors it serves, not the staff's accounts
        form.role.choices = [c for c in form.role.choices if c.value in ("", *DESK_SERVES)]
        search = partial(lists.user_search, roles=DESK_SERVES)
    return _list_page("admin/users.html", form, search)


def _act_on_user(change, user_id: int, done: str):
    """Run an account action, then go back to the list it was clicked on; `done` is formatted
    with the account as `user`."""
    try:
        user = change(user_id, actor=current_user._get_current_object(), ip_address=client_ip())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return render_error(error.status_code, error.message)
    flash(done.format(user=user), "success")
    back = request.form.get("next")
    return redirect(back if is_safe_next(back) else url_for("admin.users"))


@bp.route(f"/users/<{ID}:user_id>/deactivate", methods=["GET", "POST"])
def deactivate_user(user_id: int):
    """The page says what the account still has booked ahead, and offers to cancel it too; the
    POST alone (no `cancel_upcoming`) switches the account off and leaves its bookings be."""
    try:
        user = accounts.account(user_id)
    except DomainError as error:
        abort_with(error)
    form = DeactivateForm()
    if form.validate_on_submit():
        try:
            done = accounts.deactivate(
                user_id,
                actor=current_user._get_current_object(),
                ip_address=client_ip(),
                cancel_upcoming=form.cancel_upcoming.data,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            return render_error(error.status_code, error.message)
        flash(_deactivated_message(done), "success")
        back = form.next.data
        return redirect(back if is_safe_next(back) else url_for("admin.users"))
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    refusal = accounts.deactivation_refusal(user, current_user)
    if refusal is not None:
        return render_error(409, refusal)
    ahead = accounts.still_booked(user)
    which = "it" if ahead.total == 1 else f"all {ahead.total}"
    freed = ", and the freed times go to the waitlists" if user.is_patient else ""
    form.cancel_upcoming.label.text = (
        f"Also cancel {which}: each patient and doctor is emailed{freed}"
    )
    back = form.next.data if is_safe_next(form.next.data) else url_for("admin.users")
    return render_template(
        "admin/deactivate.html", form=form, user=user, ahead=ahead, back=back, today=local_today()
    ), form_status(form)


def _deactivated_message(done: accounts.Deactivated) -> str:
    message = f"{done.user.full_name} ({done.user.email}) is deactivated and signed out."
    if done.cancelled:
        message += f" {_appointments(done.cancelled, 'was', 'were')} cancelled with the account,"
        message += " and both sides of each emailed."
    if done.still_booked:
        message += f" {_appointments(done.still_booked, 'stands', 'stand')} as booked."
    return message


def _appointments(count: int, one: str, more: str) -> str:
    return (
        f"{count} upcoming appointment {one}"
        if count == 1
        else (f"{count} upcoming appointments {more}")
    )


@bp.post(f"/users/<{ID}:user_id>/activate")
def activate_user(user_id: int):
    return _act_on_user(
        accounts.activate, user_id, "{user.full_name} ({user.email}) can sign in again."
    )


@bp.route(f"/users/<{ID}:user_id>/email", methods=["GET", "POST"])
def change_email(user_id: int):
    """For a caller who lost their mailbox, or gave a mistyped one: the desk checks who is
    calling, then gives the account its new address; both addresses are told."""
    try:
        user = accounts.account(user_id)
    except DomainError as error:
        abort_with(error)
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            accounts.change_email(
                user_id,
                form.email.data,
                actor=current_user._get_current_object(),
                ip_address=client_ip(),
            )
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, "admin/change_email.html", user=user)
        flash(
            f"{user.full_name} now signs in with {user.email}. Both addresses have been told.",
            "success",
        )
        return redirect(url_for("admin.users", q=user.email))
    return render_template("admin/change_email.html", form=form, user=user), form_status(form)


@bp.post(f"/users/<{ID}:user_id>/password-reset")
def send_password_reset(user_id: int):
    """For a caller who has forgotten their password: the link goes to the account's own
    address, so the front desk never sets or learns a password."""
    done = "A link to set a new password has been emailed to {user.email}."
    return _act_on_user(password_reset.send_link_for, user_id, done)


@bp.post(f"/users/<{ID}:user_id>/two-step/off")
def turn_off_two_step(user_id: int):
    """For a caller who lost both their phone and their recovery codes, once the desk knows it
    is them: they sign in with their password again, and are emailed that it happened."""
    done = "Two-step sign-in is off for {user.email}: they sign in with their password alone."
    return _act_on_user(two_step.turn_off_for, user_id, done)


@bp.get("/appointments")
def appointments():
    form = AppointmentFilterForm(formdata=request.args)
    now = utcnow()
    return _list_page(
        "admin/appointments.html",
        form,
        lists.appointment_search,
        now=now,
        today=local_today().isoformat(),
        tomorrow=(local_today() + timedelta(days=1)).isoformat(),
        can_check_in=lambda appointment: visits.check_in_refusal(appointment, now) is None,
        asked=lambda appointment: attendance.desk_asks(appointment, now),
    )


@bp.get("/appointments.csv")
def appointments_csv():
    form = AppointmentFilterForm(formdata=request.args)
    return _csv_download(form, lists.appointment_search, csv_export.to_csv, "appointments")


def _csv_download(form, search, to_csv, name: str) -> Response:
    """A list's rows as a CSV attachment, under the same filters as its page (400 as text)."""
    if not form.validate():
        errors = "; ".join(f"{field}: {' '.join(e)}" for field, e in form.errors.items())
        return Response(errors + "\n", status=400, mimetype="text/plain")
    rows = db.session.scalars(search(**form.filters()).execution_options(yield_per=500))
    filename = f"{name}-{local_today().isoformat()}.csv"
    return Response(
        to_csv(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",  # names, emails, IP addresses: keep out of caches
        },
    )


@bp.get("/audit")
def audit():
    form = AuditFilterForm(formdata=request.args)
    return _list_page("admin/audit.html", form, lists.audit_search)


@bp.get("/audit.csv")
def audit_csv():
    """The trail under the page's filters, for a compliance review or an incident's timeline."""
    form = AuditFilterForm(formdata=request.args)
    return _csv_download(form, lists.audit_search, csv_export.audit_to_csv, "audit")


@bp.route("/closures", methods=["GET", "POST"])
def clinic_closures():
    """Days the whole clinic is shut: closing one removes every doctor's open slots on it (and,
    when asked, cancels its bookings); doctors cannot publish slots on it afterwards."""
    form = ClosureForm()
    if form.validate_on_submit():
        try:
            done = closures.close(
                form.day.data,
                form.reason.data,
                actor=current_user._get_current_object(),
                cancel_booked=form.cancel_booked.data,
            )
            db.session.commit()
        except DomainError as error:
            return show_domain_error(
                error, form, "admin/closures.html", closures=closures.upcoming()
            )
        flash(_closed_message(done), "success")
        return redirect(url_for("admin.clinic_closures"))
    return render_template(
        "admin/closures.html", form=form, closures=closures.upcoming()
    ), form_status(form)


def _closed_message(done: closures.Closed) -> str:
    day = done.closure.day
    removed, cancelled = done.removed, done.cancelled
    message = f"The clinic is closed on {day:%A %d %B %Y}. Removed {removed} open slot"
    message += "" if removed == 1 else "s"
    if cancelled:
        message += f" and cancelled {cancelled} booked appointment{'' if cancelled == 1 else 's'}"
        message += " (both sides emailed)"
    message += "."
    if done.kept_booked:
        message += (
            f" {_appointments(done.kept_booked, 'stands', 'stand')} as booked that day: "
            "cancel from Appointments any that must go."
        )
    return message


@bp.post(f"/closures/<{ID}:closure_id>/reopen")
def reopen_clinic(closure_id: int):
    try:
        closure = closures.reopen(closure_id, actor=current_user._get_current_object())
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    flash(
        f"The clinic is open again on {closure.day:%A %d %B %Y}: doctors can publish slots.",
        "success",
    )
    return redirect(url_for("admin.clinic_closures"))


@bp.get("/feedback")
def feedback_page():
    """Patients' answers after their visits, by doctor, over the last SUMMARY_DAYS; the
    comments with their doctor, never their author."""
    now = utcnow()
    return render_template(
        "admin/feedback.html",
        doctors=feedback.clinic_figures(now),
        comments=feedback.comments_page(
            now, page=page_arg(), per_page=current_app.config["PAGE_SIZE"]
        ),
        days=feedback.SUMMARY_DAYS,
        question=feedback.QUESTION,
    )


@bp.get("/emails")
def given_up_emails():
    pagination = _paginate(outbox_lists.given_up_emails())
    emails = email_recovery.describe(pagination.items)
    return render_template("admin/emails.html", pagination=pagination, emails=emails)


@bp.post("/emails/send-again")
def send_given_up_emails_again():
    done = email_recovery.send_again(current_user._get_current_object())
    db.session.commit()
    message = f"{done.queued} email{'' if done.queued == 1 else 's'} queued to be sent again."
    if done.too_late:
        message += f" {done.too_late} too late to send stay listed."
    flash(message, "success" if done.queued else "info")
    return redirect(url_for("admin.given_up_emails"))


@bp.post(f"/emails/<{ID}:message_id>/send-again")
def send_given_up_email_again(message_id: int):
    try:
        email_recovery.send_again(current_user._get_current_object(), message_id=message_id)
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    flash("Queued to be sent again.", "success")
    return redirect(url_for("admin.given_up_emails"))
