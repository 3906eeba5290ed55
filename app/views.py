"""Small helpers every view uses: the status of a form page, domain errors shown on forms,
the page number of a list and the page to return to after an action."""

from collections.abc import Callable
from datetime import datetime
from typing import NoReturn
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request
from flask_login import current_user

from app.extensions import db
from app.models import Appointment
from app.security import is_safe_next
from app.services import DomainError, agenda
from app.timeutil import utcnow


def form_status(form) -> int:
    """GET shows the form (200); a POST that reaches here failed validation (400)."""
    return 400 if request.method == "POST" and form.errors else 200


def show_domain_error(error: DomainError, form, template: str, **context):
    """Roll back, put the message next to its field (or above the form) and answer its status."""
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        context["form_error"] = error.message
    return render_template(template, form=form, **context), error.status_code


MAX_PAGE = 10_000
# Object ids in URLs: bounded like the INTEGER columns, so an absurd id is a plain 404 and never
# reaches the database driver (SQLite cannot even bind integers past 64 bits).
ID = "int(max=2147483647)"


def abort_with(error: DomainError) -> NoReturn:
    """Roll back and answer the error's status; a 409 page shows the error's message."""
    db.session.rollback()
    abort(error.status_code, error.message)


def page_arg() -> int:
    """`?page=` as a page number: junk reads as 1, and a huge number cannot overflow OFFSET."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


def back_url(default: str) -> str:
    """Where to go after an action: the referring page when it is one of ours, else `default`."""
    try:
        parts = urlsplit(request.referrer or "")
    except ValueError:  # e.g. "http://[x": not a URL at all
        return default
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.netloc == request.host and is_safe_next(target):
        return target
    return default


def profile_page(
    form_class,
    template: str,
    initial: dict,
    save,
    *,
    saved: str | Callable[[], str] = "Your profile has been saved.",
    done: str | None = None,
    **context,
):
    """A profile form: filled from `initial` on GET; a valid POST calls `save(**fields)` with the
    form's fields (named like the service's arguments), commits, flashes `saved` (or what it
    returns, called once the change is made) and goes to `done` (by default, back to the page).
    `context` goes to the template as well."""
    form = form_class(data=initial) if request.method == "GET" else form_class()
    if form.validate_on_submit():
        fields = {name: value for name, value in form.data.items() if name != "csrf_token"}
        try:
            save(**fields)
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, template, **context)
        flash(saved() if callable(saved) else saved, "success")
        return redirect(done or request.path)
    return render_template(template, form=form, **context), form_status(form)


def appointment_notes_page(
    appointment_id: int,
    *,
    form_class,
    current: Callable[[Appointment], str | None],
    refusal: Callable[[Appointment, datetime], str | None],
    save: Callable[[int, str | None, datetime], object],
    template: str,
    done: Callable[[Appointment], tuple[str, str]],
):
    """A page changing one text of an appointment (the patient's note, the doctor's visit notes):
    someone else's appointment is a 404; while `refusal` gives a reason, the page shows it with a
    409; a valid POST calls `save(id, text, now)`, commits, flashes and goes where `done` says
    (message, URL); otherwise the form comes back with its errors (400)."""
    now = utcnow()
    try:
        appointment = agenda.appointment_for(appointment_id, current_user)
    except DomainError as error:
        abort_with(error)
    form = form_class(data={"notes": current(appointment)})
    context = {"appointment": appointment, "problem": refusal(appointment, now)}
    if context["problem"] is not None:
        return render_template(template, form=form, **context), 409
    if form.validate_on_submit():
        try:
            save(appointment.id, form.notes.data, now)
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, template, **context)
        message, url = done(appointment)
        flash(message, "success")
        return redirect(url)
    return render_template(template, form=form, **context), form_status(form)
