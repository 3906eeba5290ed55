from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from app.forms_common import (
    PHONE_PATTERN,
    SPECIALIZATION_CHOICES,
    SmallIntegerField,
    date_in_past,
    not_common_password,
    plain_text,
)
from app.services.passwords import MAX_LENGTH, MIN_LENGTH


def password_field(label: str = "Password") -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=f"Use between {MIN_LENGTH} and {MAX_LENGTH} characters.",
            ),
            not_common_password,
        ],
        render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH},
    )


def email_field(label: str = "Email") -> EmailField:
    """An address an account will be known by: one plain address, checked."""
    return EmailField(
        label,
        validators=[DataRequired(), Email(), Length(max=254), plain_text],
        render_kw={"autocomplete": "email"},
    )


def confirm_field(other: str, label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(max=MAX_LENGTH),
            EqualTo(other, message="The passwords do not match."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class AccountDetails(FlaskForm):
    """Who an account belongs to; SignupForm adds the password."""

    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120), plain_text])
    email = email_field()
    phone = StringField(
        "Phone (optional)",
        validators=[
            Optional(),
            Length(max=32),
            Regexp(PHONE_PATTERN, message="Digits, spaces and + ( ) - . only."),
        ],
        render_kw={"autocomplete": "tel"},
    )


class SignupForm(AccountDetails):
    password = password_field()
    confirm_password = confirm_field("password", "Confirm password")


class DoctorSignupForm(SignupForm):
    specialization = StringField(
        "Specialization",
        validators=[DataRequired(), Length(max=100), plain_text],
        render_kw=SPECIALIZATION_CHOICES,
    )
    years_of_experience = SmallIntegerField(
        "Years of experience", validators=[InputRequired(), NumberRange(min=0, max=70)]
    )
    bio = TextAreaField(
        "Short biography (optional)", validators=[Optional(), Length(max=2000), plain_text]
    )


class PatientDetails(FlaskForm):
    """What the clinic keeps of a patient besides their account."""

    date_of_birth = DateField("Date of birth (optional)", validators=[Optional(), date_in_past])
    address = StringField(
        "Address (optional)", validators=[Optional(), Length(max=300), plain_text]
    )
    emergency_contact = StringField(
        "Emergency contact (optional)", validators=[Optional(), Length(max=200), plain_text]
    )


class PatientSignupForm(SignupForm, PatientDetails):
    pass


class RegisterPatientForm(AccountDetails, PatientDetails):
    """The front desk registers a caller: no password (they choose it from the emailed link)."""


class LoginForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=254), plain_text],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me signed in on this device")


class ResetPasswordForm(FlaskForm):
    new_password = password_field("New password")
    confirm_password = confirm_field("new_password", "Confirm new password")


def current_password_field(**kwargs) -> PasswordField:
    return PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
        **kwargs,
    )


class ChangePasswordForm(ResetPasswordForm):
    current_password = current_password_field()


class NewEmailForm(FlaskForm):
    new_email = email_field("New email")
    current_password = current_password_field()


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class TwoStepCodeForm(FlaskForm):
    """The second step of signing in: a code from the authenticator, or a recovery code."""

    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=20)],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
            "maxlength": 20,
        },
    )


class TwoStepSetupForm(FlaskForm):
    setup_token = HiddenField(validators=[DataRequired(), Length(max=300)])
    code = StringField(
        "The six-digit code it shows",
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 20},
    )
    current_password = current_password_field()


class RecoveryCodesForm(FlaskForm):
    # Its own id: the two-step page shows this form and the next one together.
    current_password = current_password_field(id="codes-current-password")


class TwoStepOffForm(FlaskForm):
    current_password = current_password_field(id="off-current-password")
