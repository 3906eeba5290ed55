"""The filter forms of the admin's lists. They are read from the query string (GET, no CSRF:
they change nothing), so a filtered list is a link an admin can bookmark or share."""

from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, StringField, ValidationError
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.blueprints.auth.forms import email_field
from app.blueprints.doctor.forms import DoctorProfileForm
from app.forms_common import SelectField, cancel_reason_field, plain_text, reasonable_day
from app.models import AppointmentStatus, Role
from app.services import closures
from app.services.audit import AuditKind
from app.timeutil import local_day_bounds

ANY = SelectChoice("", "Any")


MAX_EMAIL = 254  # users.email: a whole address fits in the doctor and patient filters


def search_field(label: str, max_length: int = 100) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=max_length), plain_text])


class FilterForm(FlaskForm):
    class Meta:
        csrf = False


class DateRangeForm(FilterForm):
    """Clinic-local days, both included."""

    date_from = DateField("From", validators=[Optional(), reasonable_day])
    date_to = DateField("To", validators=[Optional(), reasonable_day])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must not be before the start date.")

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The UTC instants the chosen days start and end at."""
        start = local_day_bounds(self.date_from.data)[0] if self.date_from.data else None
        end = local_day_bounds(self.date_to.data)[1] if self.date_to.data else None
        return start, end


class ChangeEmailForm(FlaskForm):
    email = email_field("New sign-in email")


class UserFilterForm(FilterForm):
    q = search_field("Name or email")
    role = SelectField(
        "Role", choices=[ANY] + [SelectChoice(r.value, r.label) for r in Role], default=""
    )
    status = SelectField(
        "Status",
        choices=[
            ANY,
            SelectChoice("active", "Active"),
            SelectChoice("inactive", "Deactivated"),
            SelectChoice("waiting", "Awaiting approval"),
        ],
        default="",
    )

    def filters(self) -> dict:
        return {
            "q": self.q.data or None,
            "role": Role(self.role.data) if self.role.data else None,
            "active": {"active": True, "inactive": False, "waiting": True}.get(self.status.data),
            "waiting_approval": self.status.data == "waiting",
        }


UNCONFIRMED = "unconfirmed"  # booked, and the patient has not said they will come


def _status(value: str) -> AppointmentStatus | None:
    if value == UNCONFIRMED:
        return AppointmentStatus.BOOKED
    return AppointmentStatus(value) if value else None


class AppointmentFilterForm(DateRangeForm):
    q = search_field("Anyone involved (name or email)")
    doctor = search_field("Doctor (name, email or id)", MAX_EMAIL)
    patient = search_field("Patient (name or email)", MAX_EMAIL)
    status = SelectField(
        "Status",
        choices=[ANY]
        + [SelectChoice(s.value, s.value.replace("_", " ").title()) for s in AppointmentStatus]
        + [SelectChoice(UNCONFIRMED, "Booked, not confirmed")],  # whom the desk calls
        default="",
    )

    order = SelectField(
        "Order",
        choices=[SelectChoice("", "Latest first"), SelectChoice("soonest", "Earliest first")],
        default="",
    )

    def filters(self) -> dict:
        start, end = self.bounds()
        return {
            "q": self.q.data or None,
            "doctor": (self.doctor.data or "").strip() or None,
            "patient": (self.patient.data or "").strip() or None,
            "status": _status(self.status.data),
            "unconfirmed": self.status.data == UNCONFIRMED,
            "start": start,
            "end": end,
            "earliest_first": self.order.data == "soonest",
        }


class AuditFilterForm(DateRangeForm):
    q = search_field("Name, email or IP address")
    actor = search_field("Actor (name or email)")
    kind = SelectField(
        "Event", choices=[ANY] + [SelectChoice(kind) for kind in AuditKind.all()], default=""
    )

    def filters(self) -> dict:
        start, end = self.bounds()
        return {
            "q": self.q.data or None,
            "actor": (self.actor.data or "").strip() or None,
            "kind": self.kind.data or None,
            "start": start,
            "end": end,
        }


class DeactivateForm(FlaskForm):
    cancel_upcoming = BooleanField("Also cancel these appointments")
    next = HiddenField(validators=[Optional(), Length(max=2000)])  # the list to go back to


class ApproveDoctorForm(FlaskForm):
    next = HiddenField(validators=[Optional(), Length(max=2000)])  # the list to go back to


class DeclineDoctorForm(ApproveDoctorForm):
    reason = cancel_reason_field("Why, for the email to them (optional)")


class ClosureForm(FlaskForm):
    day = DateField(
        "Day",
        validators=[InputRequired(), reasonable_day],
        invalid_value_message="Use the format YYYY-MM-DD.",
    )
    reason = StringField(
        "Reason (doctors see it, and the patients of any appointments cancelled)",
        validators=[InputRequired(), Length(max=closures.MAX_REASON), plain_text],
    )
    cancel_booked = BooleanField(
        "Also cancel that day's booked appointments (each patient and doctor is emailed)"
    )


class RegisterDeskForm(FlaskForm):
    """The administrator adds a front-desk account: no password (its owner chooses it)."""

    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120), plain_text])
    email = email_field()


class DeskDoctorProfileForm(DoctorProfileForm):
    """The doctor's profile form, as the front desk fills it in for them."""

    closed_to_new_patients = BooleanField(
        "Not taking new patients for now: only patients who have had an appointment with this "
        "doctor can book online"
    )
