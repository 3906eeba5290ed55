"""Field validators shared by several forms."""

from datetime import date

import wtforms
from markupsafe import Markup, escape
from wtforms import IntegerField, StringField, ValidationError
from wtforms.validators import Length, Optional
from wtforms.widgets import Select

from app.models import CANCEL_REASON_MAX
from app.services.passwords import MAX_LENGTH, MIN_LENGTH, is_common

PHONE_PATTERN = r"^[0-9+()\-. ]{5,32}$"
# The specialization input suggests the ones doctors already use (the page renders the
# <datalist> of that id), so a new doctor picks "Cardiology" rather than typing a variant.
SPECIALIZATION_CHOICES = {"list": "specialization-choices", "autocomplete": "off"}
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


def plain_text(form, field) -> None:
    """Refuse control characters (NUL among them, which PostgreSQL cannot store in text)."""
    if field.data and any(ord(c) < 32 and c not in "\t\r\n" for c in field.data):
        raise ValidationError("Please remove the special characters from this field.")


def cancel_reason_field(label: str) -> StringField:
    """Why appointments are cancelled, told to both sides (`booking.cancel`'s `reason`)."""
    return StringField(
        label,
        validators=[Optional(), Length(max=CANCEL_REASON_MAX), plain_text],
        render_kw={"maxlength": CANCEL_REASON_MAX},
    )


class SmallIntegerField(IntegerField):
    """An IntegerField that refuses absurdly long numbers before any validator sees them.

    WTForms' NumberRange calls math.isnan(), which raises OverflowError on an int past the float
    range (a 400-digit input): without this, such a value is a 500 instead of a field error.
    """

    MAX_DIGITS = 12

    def process_formdata(self, valuelist):
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > self.MAX_DIGITS:
            self.data = None
            raise ValueError(self.gettext("That number is too large."))
        super().process_formdata(valuelist)


def bounded_int(value) -> int:
    """`coerce` for choice fields holding numbers: a number too long for any id is refused like a
    non-number, before NumberRange's float check could overflow on it (a 500)."""
    text = str(value).strip()
    if len(text.lstrip("+-")) > SmallIntegerField.MAX_DIGITS:
        raise ValueError("That number is too large.")
    return int(text)


class QuickSelect(Select):
    """wtforms' <select>, with plain options written directly.

    wtforms builds each <option> through html_params() and Markup.format(), some 25 µs apiece
    here, and the doctor directory's filter renders a dozen on every view. An option with extra
    attributes still goes through wtforms; the HTML is the same either way (a test compares).
    """

    @classmethod
    def _dispatch_render_option(cls):
        # wtforms reads render_option's signature (inspect.signature) at every render, to support
        # overrides written for its older API; ours is written for the current one.
        return cls.render_option

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = " selected" if choice.selected else ""
        value, label = escape(choice.value), escape(choice.label or choice.value)
        return Markup(f'<option{selected} value="{value}">{label}</option>')  # noqa: S704 - escaped


class SelectField(wtforms.SelectField):
    widget = QuickSelect()


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def reasonable_day(form, field) -> None:
    """Far-off days would overflow while turned into UTC instants (9999-12-31 has no next day)."""
    if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
        raise ValidationError(f"Choose a day between {FIRST_DAY.year} and {LAST_DAY.year}.")
