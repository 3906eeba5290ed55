from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms_common import bounded_int, cancel_reason_field, plain_text
from app.services.booking import MAX_NOTES


def slot_choice(label: str, missing: str) -> RadioField:
    """Any slot id is accepted here; whether it is still open is the service's call (409 if not)."""
    return RadioField(
        label,
        coerce=bounded_int,
        validate_choice=False,
        validators=[InputRequired(message=missing), NumberRange(min=1, max=2**31 - 1)],
    )


def notes_field(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=MAX_NOTES), plain_text],
        render_kw={"maxlength": MAX_NOTES, "rows": 4},
    )


class BookingForm(FlaskForm):
    notes = notes_field("Anything the doctor should know? (optional)")


class FrontDeskBookingForm(FlaskForm):
    """The front desk books for a caller: a time, and what the caller wants the doctor to know."""

    slot_id = slot_choice("Time", "Choose a time.")
    notes = notes_field("The caller's note for the doctor (optional)")


class RescheduleForm(FlaskForm):
    slot_id = slot_choice("New time", "Choose a new time.")


class NoteForm(FlaskForm):
    notes = notes_field("Anything the doctor should know?")


class CancelForm(FlaskForm):
    """The cancel button's form. The browser's dialog asks for the reason; it may stay empty."""

    reason = cancel_reason_field("Reason (optional)")


class CheckInForm(FlaskForm):
    undo = BooleanField()  # a mistaken check-in taken back


class AttendanceForm(FlaskForm):
    """ "I will be there": nothing to fill in but the CSRF token."""
