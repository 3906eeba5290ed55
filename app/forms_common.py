"""Field validators shared by several forms."""

from datetime import date

from wtforms import ValidationError

from app.services.passwords import MAX_LENGTH, MIN_LENGTH, is_common

PHONE_PATTERN = r"^[0-9+()\-. ]{5,32}$"
PASSWORD_HELP = (
    f"At least {MIN_LENGTH} characters (up to {MAX_LENGTH}). Long passphrases are welcome; "
    "common passwords are refused."
)


def not_common_password(form, field) -> None:
    if field.data and is_common(field.data):
        raise ValidationError("This password is too common. Please choose another one.")


def date_in_past(form, field) -> None:
    if field.data is None:
        return
    today = date.today()  # noqa: DTZ011 - a birth date is a calendar date, not an instant
    if field.data > today:
        raise ValidationError("The date of birth cannot be in the future.")
    if field.data.year < today.year - 130:
        raise ValidationError("Please check the year of birth.")
