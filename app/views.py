"""Small helpers every view uses: the status of a form page, domain errors shown on forms."""

from flask import render_template, request

from app.extensions import db
from app.services import DomainError


def form_status(form) -> int:
    """GET shows the form (200); a POST that reaches here failed validation (400)."""
    return 400 if request.method == "POST" and form.errors else 200


def show_domain_error(error: DomainError, form, template: str, **context):
    """Roll back, put the message next to its field (or above the form) and answer its status."""
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        context["form_error"] = error.message
    return render_template(template, form=form, **context), error.status_code
