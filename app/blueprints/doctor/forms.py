from datetime import time, timedelta

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.blueprints.booking.forms import slot_choice
from app.forms_common import (
    PHONE_PATTERN,
    SPECIALIZATION_CHOICES,
    SelectField,
    SmallIntegerField,
    bounded_int,
    cancel_reason_field,
    plain_text,
    reasonable_day,
)
from app.services import availability, profiles, visits
from app.timeutil import local_today

WEEKDAYS = [
    SelectChoice(number, name)
    for number, name in enumerate(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    )
]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes (the forms macro renders it as a fieldset)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def date_field(label: str, default=None) -> DateField:
    return DateField(
        label,
        validators=[InputRequired()],
        default=default,
        invalid_value_message="Use the format YYYY-MM-DD.",
    )


def time_field(label: str, default: time | None = None, required: bool = True) -> TimeField:
    """HH:MM, or HH:MM:SS as some browsers send it."""
    return TimeField(
        label,
        validators=[InputRequired() if required else Optional()],
        default=default,
        format=["%H:%M", "%H:%M:%S"],
        invalid_value_message="Use the format HH:MM (24-hour clock).",
    )


def _tomorrow():
    return local_today() + timedelta(days=1)


def _week_from_tomorrow():
    return local_today() + timedelta(days=7)


class SlotForm(FlaskForm):
    date = date_field("Date")
    start_time = time_field("Start time")
    end_time = time_field("End time")


class WeeklyForm(FlaskForm):
    start_date = date_field("From", default=_tomorrow)
    end_date = date_field("To (inclusive)", default=_week_from_tomorrow)
    weekdays = MultiCheckboxField(
        "Weekdays",
        choices=WEEKDAYS,
        coerce=bounded_int,
        default=[0, 1, 2, 3, 4],
        validators=[DataRequired(message="Choose at least one weekday.")],
    )
    day_start = time_field("Day starts at", default=time(9))
    day_end = time_field("Day ends at", default=time(17))
    break_start = time_field("Break starts at (optional)", required=False)
    break_end = time_field("Break ends at (optional)", required=False)
    slot_minutes = SmallIntegerField(
        "Minutes per slot",
        default=30,
        validators=[
            InputRequired(),
            NumberRange(min=availability.MIN_SLOT_MINUTES, max=availability.MAX_SLOT_MINUTES),
        ],
    )
    repeat = BooleanField("Repeat every week: publish these hours on each new day as it opens")


class ClearSlotsForm(FlaskForm):
    """Time off. Its own field names: the page also holds the weekly form's start/end dates."""

    first_day = date_field("First day")
    last_day = date_field("Last day (inclusive)")
    cancel_booked = BooleanField(
        "Also cancel the booked appointments on those days (each patient is emailed)"
    )
    reason = cancel_reason_field("Reason given to those patients (optional)")


class DoctorProfileForm(FlaskForm):
    full_name = StringField(
        "Full name", validators=[DataRequired(), Length(max=profiles.MAX_NAME), plain_text]
    )
    specialization = StringField(
        "Specialization",
        validators=[DataRequired(), Length(max=profiles.MAX_SPECIALIZATION), plain_text],
        render_kw=SPECIALIZATION_CHOICES,
    )
    years_of_experience = SmallIntegerField(
        "Years of experience",
        validators=[InputRequired(), NumberRange(min=0, max=profiles.MAX_YEARS)],
    )
    bio = TextAreaField(
        "Short biography", validators=[Optional(), Length(max=profiles.MAX_BIO), plain_text]
    )
    phone = StringField(
        "Phone",
        validators=[
            Optional(),
            Length(max=profiles.MAX_PHONE),
            Regexp(PHONE_PATTERN, message="Digits, spaces and + ( ) - . only."),
        ],
        render_kw={"autocomplete": "tel"},
    )
    closed_to_new_patients = BooleanField(
        "Not taking new patients for now: only patients who have had an appointment with me "
        "can book online"
    )


class DoctorEmailsForm(FlaskForm):
    """Checkboxes: one left out is off."""

    booking_emails = BooleanField("An email for each booking, cancellation and move")
    reminder_emails = BooleanField("A reminder before each appointment")
    agenda_emails = BooleanField("Each morning, the day's appointments in one email")
    schedule_emails = BooleanField("When the front desk changes my schedule")


class OutcomeForm(FlaskForm):
    status = SelectField(
        "Outcome",
        choices=[SelectChoice("completed", "Completed"), SelectChoice("no_show", "No-show")],
        validators=[InputRequired()],
    )


class VisitNotesForm(FlaskForm):
    notes = TextAreaField(
        "Visit notes",
        validators=[Optional(), Length(max=visits.MAX_VISIT_NOTES), plain_text],
        render_kw={"maxlength": visits.MAX_VISIT_NOTES, "rows": 8},
    )


class InstructionsForm(FlaskForm):
    notes = TextAreaField(
        "Instructions for the patient",
        validators=[Optional(), Length(max=visits.MAX_VISIT_NOTES), plain_text],
        render_kw={"maxlength": visits.MAX_VISIT_NOTES, "rows": 8},
    )


class LateForm(FlaskForm):
    minutes = SelectField(
        "Running late by",
        choices=[SelectChoice(n, f"about {n} minutes") for n in visits.LATE_MINUTES],
        coerce=bounded_int,
        validators=[InputRequired()],
    )


class FollowUpForm(FlaskForm):
    slot_id = slot_choice("Time", "Choose a time.")


class DaySheetForm(FlaskForm):
    """`?date=` of the day sheet, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    date = DateField(
        "Day",
        validators=[Optional(), reasonable_day],
        invalid_value_message="Use the format YYYY-MM-DD.",
    )


class PatientSearchForm(FlaskForm):
    """`?q=` on the doctor's patient list, from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField("Patient's name", validators=[Optional(), Length(max=100), plain_text])
