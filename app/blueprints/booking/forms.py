from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms_common import bounded_int, plain_text
from app.services.booking import MAX_NOTES


def slot_choice(label: str, missing: str) -> RadioField:
    """Any slot id is accepted here; whether it is still open is the service's call (409 if not)."""
    return RadioField(
        label,
        coerce=bounded_int,
        validate_choice=False,
        validators=[InputRequired(message=missing), NumberRange(min=1, max=2**31 - 1)],
    )


class BookingForm(FlaskForm):
    notes = TextAreaField(
        "Anything the doctor should know? (optional)",
        validators=[Optional(), Length(max=MAX_NOTES), plain_text],
        render_kw={"maxlength": MAX_NOTES, "rows": 4},
    )


class FrontDeskBookingForm(BookingForm):
    """The front desk books for a caller: a time, and the caller's note."""

    slot_id = slot_choice("Time", "Choose a time.")


class RescheduleForm(FlaskForm):
    slot_id = slot_choice("New time", "Choose a new time.")
