from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms_common import bounded_int, plain_text
from app.services.booking import MAX_NOTES


class BookingForm(FlaskForm):
    notes = TextAreaField(
        "Anything the doctor should know? (optional)",
        validators=[Optional(), Length(max=MAX_NOTES), plain_text],
        render_kw={"maxlength": MAX_NOTES, "rows": 4},
    )


class RescheduleForm(FlaskForm):
    # Any slot id is accepted here; whether it is still open is the service's call (409 if not).
    slot_id = RadioField(
        "New time",
        coerce=bounded_int,
        validate_choice=False,
        validators=[InputRequired(message="Choose a new time."), NumberRange(min=1, max=2**31 - 1)],
    )
