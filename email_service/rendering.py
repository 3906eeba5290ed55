"""Turn a checked request into a multipart/alternative message from the files in templates/.

Wording lives in the template files so it can change without touching code; this module only
decides which file to use, escapes for HTML, and fills in the optional blocks.
"""

from __future__ import annotations

import hashlib
import html
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from string import Template

try:
    from .actions import ACTIONS, MULTILINE_FIELDS, EmailRequest
except ImportError:  # deployed to Lambda as a flat bundle, where this is a top-level module
    from actions import ACTIONS, MULTILINE_FIELDS, EmailRequest  # type: ignore[no-redef]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
MESSAGE_ID_DOMAIN = "hms.email"
MAX_SUBJECT_CHARS = 200


def message_id_for(request_id: str) -> str:
    """Derive the Message-ID from the idempotency key, so a retried request is recognisable."""
    digest = hashlib.sha256(request_id.encode("utf-8")).hexdigest()
    return f"<{digest[:32]}@{MESSAGE_ID_DOMAIN}>"


def file_name_for(request: EmailRequest) -> str:
    """Name the .eml after the idempotency key, so a retry overwrites rather than duplicates."""
    digest = hashlib.sha256(request.id.encode("utf-8")).hexdigest()
    return f"{request.action.lower()}-{digest[:16]}.eml"


def build_message(request: EmailRequest, *, mail_from: str) -> EmailMessage:
    """Plain text first, HTML last: mail clients show the last alternative they can render."""
    subject = render_subject(request)
    text, html_body = render_bodies(request, subject)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = mail_from
    message["To"] = request.to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id_for(request.id)
    message["Auto-Submitted"] = "auto-generated"
    message["X-HMS-Action"] = request.action
    message.set_content(text)
    message.add_alternative(html_body, subtype="html")
    return message


def render_subject(request: EmailRequest) -> str:
    subject = Template(ACTIONS[request.action].subjects[request.variant]).substitute(request.data)
    if len(subject) > MAX_SUBJECT_CHARS:
        subject = subject[: MAX_SUBJECT_CHARS - 1].rstrip() + "\u2026"
    return subject


def render_bodies(request: EmailRequest, subject: str) -> tuple[str, str]:
    """Render (text, html). Optional fields become blocks joined into one `$extras` slot."""
    name = request.action.lower() + (f"_{request.variant}" if request.variant else "")
    optional = [f for f in ACTIONS[request.action].optional if f in request.data]

    text_blocks = [_fill(f"partials/{f}.txt", value=request.data[f]) for f in optional]
    text_extras = "\n" + "\n\n".join(text_blocks) + "\n" if text_blocks else ""
    text = _fill("_layout.txt", content=_fill(f"{name}.txt", request.data, extras=text_extras))

    escaped = {key: _escape_html(key, value) for key, value in request.data.items()}
    html_blocks = [_fill(f"partials/{f}.html", value=escaped[f]) for f in optional]
    html_content = _fill(f"{name}.html", escaped, extras="\n".join(html_blocks))
    page = _load("_layout.html").substitute(title=html.escape(subject), content=html_content)
    return text, page


def _escape_html(name: str, value: str) -> str:
    escaped = html.escape(value, quote=True)
    if name in MULTILINE_FIELDS:
        escaped = escaped.replace("\n", "<br>\n")
    return escaped


def _fill(name: str, mapping: dict[str, str] | None = None, /, **values: str) -> str:
    """Substitute strictly, so a placeholder without a value fails loudly in the tests."""
    return _load(name).substitute(mapping or {}, **values).rstrip("\n")


@cache
def _load(name: str) -> Template:
    """Read a template once per process: a warm Lambda reuses it across invocations."""
    return Template((TEMPLATE_DIR / name).read_text(encoding="utf-8"))
