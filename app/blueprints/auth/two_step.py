"""Two-step sign-in: the code asked for after the password, and the page where an account turns
it on and off (the rules are in app.services.two_step).

Between the password and the code, the session holds only who is half signed in, for five
minutes: no one is signed in until the code is right.
"""

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.blueprints.auth import bp
from app.blueprints.auth.forms import (
    RecoveryCodesForm,
    TwoStepCodeForm,
    TwoStepOffForm,
    TwoStepSetupForm,
)
from app.blueprints.main.routes import dashboard_url
from app.extensions import db, limiter
from app.models import User
from app.security import client_ip, is_safe_next, user_or_ip
from app.services import DomainError, accounts, two_step
from app.timeutil import utcnow
from app.views import form_status
from app.web_security import start_session

PENDING = "_hms_two_step"
PENDING_SECONDS = 5 * 60
LOW_ON_RECOVERY_CODES = 3


def ask_for_code(user: User, *, remember: bool, next_url: str | None):
    """The password was right: remember who is half signed in and ask for the code."""
    session.clear()
    session[PENDING] = [
        user.id,
        user.session_version,
        bool(remember),
        next_url if is_safe_next(next_url) else None,
        int(utcnow().timestamp()),
    ]
    return redirect(url_for("auth.login_code"))


def _pending():
    """(user, remember, next) of a sign-in waiting for its code, or None: none started, over five
    minutes old, or the account changed meanwhile (password, switched off, two-step off)."""
    try:
        user_id, version, remember, next_url, started = session.get(PENDING)
    except (TypeError, ValueError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if (
        user is None
        or int(utcnow().timestamp()) - started > PENDING_SECONDS
        or not user.active
        or user.session_version != version
        or not user.two_step_enabled
    ):
        session.pop(PENDING, None)
        return None
    return user, remember, next_url


def _pending_account() -> str:
    """Rate-limit key of the code page: the account being signed in to, whatever the address."""
    pending = session.get(PENDING)
    if isinstance(pending, list) and pending:
        return f"two-step:{pending[0]}"
    return f"two-step-ip:{request.remote_addr}"


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@limiter.limit("10 per hour", methods=["POST"], key_func=_pending_account)
def login_code():
    if current_user.is_authenticated:
        return redirect(dashboard_url(current_user))
    pending = _pending()
    if pending is None:
        flash("Sign in with your email and password first.", "info")
        return redirect(url_for("auth.login"))
    user, remember, next_url = pending
    form = TwoStepCodeForm()
    if form.validate_on_submit():
        try:
            how = two_step.verify(user, form.code.data, ip_address=client_ip())
        except two_step.WrongCode as error:
            db.session.commit()  # keep the failed attempt in the audit trail
            form.code.errors.append(error.message)
            return render_template("auth/login_code.html", form=form, email=user.email), 400
        left = two_step.recovery_codes_left(user) if how == "recovery_code" else None
        db.session.commit()
        start_session(user, remember=remember)
        flash(accounts.greeting(user), "success")
        if left is not None:
            flash(
                f"You signed in with a recovery code; it will not work again. You have {left} "
                "left. If your phone is lost, turn two-step sign-in off and on again with a new "
                "one.",
                "warning" if left <= LOW_ON_RECOVERY_CODES else "info",
            )
        return redirect(next_url or dashboard_url(user))
    return render_template("auth/login_code.html", form=form, email=user.email), form_status(form)


def _page(status: int = 200, **forms):
    user = current_user._get_current_object()
    context = {
        "setup_form": forms.get("setup_form") or TwoStepSetupForm(formdata=None),
        "codes_form": forms.get("codes_form") or RecoveryCodesForm(formdata=None),
        "off_form": forms.get("off_form") or TwoStepOffForm(formdata=None),
        "required": two_step.required_for(user),
        "form_error": forms.get("form_error"),
    }
    if user.two_step_enabled:
        context["codes_left"] = two_step.recovery_codes_left(user)
    else:
        setup = forms.get("setup") or two_step.begin(user)
        context["setup"] = setup
        context["setup_form"].setup_token.data = setup.token
    return render_template("auth/two_step.html", **context), status


@bp.get("/two-step")
@login_required
def two_step_page():
    return _page()


@bp.post("/two-step")
@login_required
@limiter.limit("10 per hour", key_func=user_or_ip)
def two_step_enable():
    form = TwoStepSetupForm()
    if not form.validate_on_submit():
        return _page(400, setup_form=form)
    user = current_user._get_current_object()
    try:
        codes = two_step.enable(
            user,
            form.setup_token.data,
            form.code.data,
            form.current_password.data,
            ip_address=client_ip(),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.status_code == 409:
            flash(error.message, "info")
            return redirect(url_for("auth.two_step_page"))
        getattr(form, error.field).errors.append(error.message)
        try:  # the same QR code again, unless it is the page that expired
            setup = two_step.begin(user, form.setup_token.data)
        except DomainError:
            setup = None
        return _page(400, setup_form=form, setup=setup)
    start_session(user)  # this session goes on; the others, begun with a password only, end
    # Shown once, in this answer and nowhere else (not stored, not put in the session cookie).
    return render_template("auth/recovery_codes.html", codes=codes, just_enabled=True)


@bp.post("/two-step/recovery-codes")
@login_required
@limiter.limit("10 per hour", key_func=user_or_ip)
def two_step_recovery_codes():
    form = RecoveryCodesForm()
    if not form.validate_on_submit():
        return _page(400, codes_form=form)
    try:
        codes = two_step.new_recovery_codes(
            current_user._get_current_object(), form.current_password.data, ip_address=client_ip()
        )
        db.session.commit()
    except DomainError as error:
        return _refused(error, "codes_form", form)
    return render_template("auth/recovery_codes.html", codes=codes, just_enabled=False)


@bp.post("/two-step/off")
@login_required
@limiter.limit("10 per hour", key_func=user_or_ip)
def two_step_off():
    form = TwoStepOffForm()
    if not form.validate_on_submit():
        return _page(400, off_form=form)
    try:
        two_step.disable(
            current_user._get_current_object(), form.current_password.data, ip_address=client_ip()
        )
        db.session.commit()
    except DomainError as error:
        return _refused(error, "off_form", form)
    flash("Two-step sign-in is off: signing in asks for your password only.", "info")
    return redirect(url_for("auth.two_step_page"))


def _refused(error: DomainError, name: str, form):
    db.session.rollback()
    if error.status_code == 409:  # already off, in another tab
        flash(error.message, "info")
        return redirect(url_for("auth.two_step_page"))
    form.current_password.errors.append(error.message)
    return _page(error.status_code, **{name: form})
