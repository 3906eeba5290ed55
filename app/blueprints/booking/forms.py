from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from app.forms_common import plain_text
from app.services.booking import MAX_NOTES


class BookingForm(FlaskForm):
    notes = TextAreaField(
        "Anything the doctor should know? (optional)",
        validators=[Optional(), Length(max=MAX_NOTES), plain_text],
        render_kw={"maxlength": MAX_NOTES, "rows": 4},
    )
