import datetime as dt

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.blueprints.auth.forms import current_password_field
from app.forms_common import PHONE_PATTERN, SelectField, date_in_past, plain_text
from app.models import FEEDBACK_COMMENT_MAX, FeedbackAnswer
from app.services import DomainError, directory, feedback, profiles
from app.timeutil import utcnow

MAX_QUERY = 100


class DoctorSearchForm(FlaskForm):
    """The GET search on the doctor list: no CSRF (nothing changes), choices set by the view."""

    class Meta:
        csrf = False

    q = StringField("Doctor's name", validators=[Optional(), Length(max=MAX_QUERY), plain_text])
    # An unknown specialization (say, from an old link) simply matches no doctor.
    specialization = SelectField("Specialization", validate_choice=False, validators=[plain_text])
    day = DateField(
        "Free on (optional)",
        validators=[Optional()],
        invalid_value_message="Use the format YYYY-MM-DD.",
    )

    def filters(self) -> dict:
        """The search as `directory.search_doctors` takes it."""
        return {
            "name": (self.q.data or "").strip(),
            "specialization": self.specialization.data,
            "day": self.day.data,
        }

    def validate_day(self, field) -> None:
        if field.data is None:
            return
        first, last = directory.searchable_days(utcnow())
        if field.data < first:
            raise ValidationError("That day has passed: choose today or later.")
        if field.data > last:
            raise ValidationError(f"Bookings open up to {last:%d %B %Y}: choose an earlier day.")

    @classmethod
    def from_args(cls, args) -> "DoctorSearchForm":
        """Filled from the query string, with today's specializations to choose from."""
        form = cls(args)
        form.specialization.choices = [SelectChoice("", "All specializations")] + [
            SelectChoice(name) for name in directory.specializations()
        ]
        return form


class PatientProfileForm(FlaskForm):
    full_name = StringField(
        "Full name", validators=[DataRequired(), Length(max=profiles.MAX_NAME), plain_text]
    )
    date_of_birth = DateField(
        "Date of birth",
        validators=[Optional(), date_in_past],
        invalid_value_message="Use the format YYYY-MM-DD.",
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
    address = StringField(
        "Address", validators=[Optional(), Length(max=profiles.MAX_ADDRESS), plain_text]
    )
    emergency_contact = StringField(
        "Emergency contact",
        validators=[Optional(), Length(max=profiles.MAX_EMERGENCY_CONTACT), plain_text],
    )


class WaitlistForm(FlaskForm):
    date = DateField(
        "Day you would like",
        validators=[
            InputRequired(message="Choose a day.")
        ],  # DataRequired would hide a format error
        invalid_value_message="Use the format YYYY-MM-DD.",
    )
    last_date = DateField(
        "Or any day until (optional)",
        validators=[Optional()],
        invalid_value_message="Use the format YYYY-MM-DD.",
    )

    def days(self) -> tuple[dt.date, dt.date]:
        """The first and the last day asked for: the same day when no last one is given."""
        return self.date.data, self.last_date.data or self.date.data

    def refused(self, error: DomainError) -> None:
        """Show why joining was refused next to the field it is about."""
        field = self.last_date if error.field == "last_date" else self.date
        field.errors = [*field.errors, error.message]


class CloseAccountForm(FlaskForm):
    current_password = current_password_field()


class FeedbackForm(FlaskForm):
    """The Friends and Family Test, for one visit: an answer, and why if they like."""

    answer = RadioField(
        feedback.QUESTION,
        choices=[SelectChoice(a.value, a.label) for a in FeedbackAnswer],
        validators=[InputRequired(message="Choose one of the answers.")],
    )
    comment = TextAreaField(
        "Please can you tell us why you gave your answer? (optional)",
        validators=[Optional(), Length(max=FEEDBACK_COMMENT_MAX), plain_text],
        render_kw={"maxlength": FEEDBACK_COMMENT_MAX, "rows": 4},
    )
