"""A doctor's schedule page (one slot, a weekly template, time off, the list of slots) and its
actions, for the doctor themselves and for the front desk keeping that doctor's schedule.

Both blueprints call these with the doctor whose schedule it is and a `Schedule` naming where
the page's forms post; the rules are the availability service's whoever acts, and the audit
trail records who did.
"""

from dataclasses import dataclass, field
from functools import partial

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.doctor.forms import WEEKDAYS, ClearSlotsForm, SlotForm, WeeklyForm
from app.extensions import db
from app.models import DoctorProfile
from app.services import DomainError, agenda, closures, standing_hours, waitlist
from app.services import availability as availability_service
from app.timeutil import local_today, utcnow
from app.views import abort_with, back_url, page_arg, show_domain_error

TEMPLATE = "doctor/availability.html"
FORMS = {"slot_form": SlotForm, "weekly_form": WeeklyForm, "clear_form": ClearSlotsForm}


@dataclass(frozen=True)
class Schedule:
    """Whose schedule a page shows and where its forms post: `endpoints` maps "page" (GET, and
    POST one slot), "weekly", "stop_repeat", "clear" and "delete" to endpoint names, `args`
    fills their URLs."""

    doctor: DoctorProfile
    endpoints: dict[str, str]
    args: dict = field(default_factory=dict)
    for_desk: bool = False

    def url(self, name: str, **values) -> str:
        return url_for(self.endpoints[name], **self.args, **values)


def page(schedule: Schedule, posted: str | None = None, **forms) -> dict:
    """The page's context: its three forms (blank, but for the one `posted` and passed in), the
    doctor's slots, the clinic's coming closures and the days patients wait for."""
    doctor = schedule.doctor
    slots = agenda.doctor_slots_page(
        doctor, now=utcnow(), page=page_arg(), per_page=current_app.config["PAGE_SIZE"]
    )
    blank = {name: form(formdata=None) for name, form in FORMS.items()}
    return {
        **blank,
        **forms,
        "schedule": schedule,
        "slots": slots,
        "posted": posted,
        "standing": standing_hours.of_doctor(doctor),
        "weekday_names": [choice.label[:3] for choice in WEEKDAYS],
        "closures": closures.upcoming(),
        "waiting": waitlist.waiting(doctor.id, local_today()),
    }


def show(schedule: Schedule):
    return render_template(TEMPLATE, **page(schedule))


def _act(schedule: Schedule, form, posted: str, act):
    """One of the page's forms ("slot", "weekly", "clear"): a valid one runs `act(doctor,
    form)`, which returns the (message, category) to flash, commits and comes back to the page;
    otherwise the page is shown again with the form's errors next to its fields."""
    context = partial(page, schedule, posted, **{f"{posted}_form": form})
    if form.validate_on_submit():
        try:
            message, category = act(schedule.doctor, form)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()  # before the page reads the slots: some may have been added
            return show_domain_error(error, form, TEMPLATE, **context())
        flash(message, category)
        return redirect(schedule.url("page"))
    return render_template(TEMPLATE, **context()), 400


def publish(schedule: Schedule):
    def create(doctor, form):
        availability_service.create_slot(
            doctor, form.date.data, form.start_time.data, form.end_time.data, actor=current_user
        )
        return "Slot published.", "success"

    return _act(schedule, SlotForm(), "slot", create)


def weekly(schedule: Schedule):
    def fill(doctor, form):
        hours = availability_service.WeeklyHours.checked(
            form.weekdays.data,
            form.day_start.data,
            form.day_end.data,
            form.slot_minutes.data,
            form.break_start.data,
            form.break_end.data,
        )
        result = availability_service.create_weekly(
            doctor,
            start_date=form.start_date.data,
            end_date=form.end_date.data,
            hours=hours,
            actor=current_user,
        )
        created = f"Created {result.created} slots, skipped {result.skipped}"
        message = f"{created} (overlapping or in the past)."
        if result.closed_days:
            days = ", ".join(f"{day:%a %d %b}" for day in result.closed_days)
            message += f" The clinic is closed on {days}: nothing was published then."
        if form.repeat.data:
            standing_hours.keep(
                doctor, hours, published_through=form.end_date.data, actor=current_user
            )
            message += (
                f" These hours now repeat every week: the days after {form.end_date.data:%a %d %b}"
                ", as far ahead as patients can book, follow within a minute, then each new day"
                " as it opens."
            )
        return message, "success"

    return _act(schedule, WeeklyForm(), "weekly", fill)


def stop_repeat(schedule: Schedule, standing_id: int):
    """These weekly hours stop repeating; the slots already published stay."""
    return _button(
        schedule,
        lambda: standing_hours.stop(schedule.doctor, standing_id, actor=current_user),
        "Those weekly hours no longer repeat. The slots already published stay.",
    )


def _cleared(result: availability_service.ClearResult) -> str:
    removed = (
        f"Removed {result.removed} open slot{'s' if result.removed != 1 else ''}."
        if result.removed
        else "There were no open slots to remove on those days."
    )
    if result.cancelled:
        n = result.cancelled
        removed += (
            f" Cancelled {n} booked appointment{'s' if n != 1 else ''} first; "
            f"{'each patient has' if n != 1 else 'the patient has'} been emailed."
        )
    if not result.kept_booked:
        return removed
    kept = result.kept_booked
    which = "The booked appointment" if kept == 1 else f"The {kept} booked appointments"
    return (
        f"{removed} {which} on those days still {'stands' if kept == 1 else 'stand'}: cancel "
        "any that cannot be kept under Appointments, and the patient is emailed."
    )


def clear(schedule: Schedule):
    """Time off: the open slots of a run of days go in one step; booked ones stay."""

    def remove(doctor, form):
        result = availability_service.clear_open_slots(
            doctor,
            first_day=form.first_day.data,
            last_day=form.last_day.data,
            actor=current_user,
            cancel_booked=form.cancel_booked.data,
            reason=form.reason.data,
        )
        return _cleared(result), "success" if result.removed or result.cancelled else "info"

    return _act(schedule, ClearSlotsForm(), "clear", remove)


def delete(schedule: Schedule, slot_id: int):
    return _button(
        schedule,
        lambda: availability_service.delete_slot(schedule.doctor, slot_id, actor=current_user),
        "Slot deleted.",
    )


def _button(schedule: Schedule, act, done: str):
    """One of the page's buttons: `act()` under the service's rules, committed, and back to the
    page (at the list's page it was on) saying `done`; a refusal answers its status."""
    try:
        act()
        db.session.commit()
    except DomainError as error:
        abort_with(error)
    flash(done, "success")
    return redirect(back_url(schedule.url("page")))
