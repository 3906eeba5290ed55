"""The outbox's EMAIL handler: one signed POST to the email service.

The protocol is the email service's (email_service/handler.py): the JSON body carries the
outbox idempotency key as `id`, so the service can recognise a repeat, and `X-Signature` is an
HMAC-SHA256 of the exact bytes sent. How the answer maps onto retries:

* 2xx: sent;
* 429, 5xx (502: the SMTP server refused or was unreachable), redirects, connection errors and
  timeouts: the service or its mail server may recover, so retry later;
* any other 4xx: this request will never be accepted (bad signature, bad body): give up now.
"""

import hashlib
import hmac
import json
import threading

import requests
from flask import current_app

from app.services.delivery import PermanentDeliveryError, RetryableDeliveryError

MAX_REASON_CHARS = 300


_local = threading.local()


def _http(url: str) -> requests.Session:
    """This thread's keep-alive connections to the email service at `url`.

    A booking queues two emails and the worker sends thousands: a new TCP (and, in production,
    TLS) handshake and a new `requests` session for each would cost more than the message.
    One session per thread, because a session is not safe to share between threads; a pooled
    connection the service has closed is noticed by urllib3 and replaced before it is used.

    The environment's proxy and CA-bundle settings (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE…)
    are read once, for this URL, when the session is made. Left to itself, requests reads them
    again for every call by walking all of os.environ: a quarter of the CPU an email cost.
    Should the URL change, the old session and its connections are closed.
    """
    http, made_for = getattr(_local, "session", None), getattr(_local, "url", None)
    if http is None or made_for != url:
        if http is not None:
            http.close()
        http = requests.Session()
        settings = http.merge_environment_settings(url, {}, None, None, None)
        http.proxies.update(settings["proxies"])
        http.verify = settings["verify"]
        http.trust_env = False
        _local.session, _local.url = http, url
    return http


def sign(body: bytes, secret: str) -> str:
    """The X-Signature header value for `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def send_email(payload: dict, idempotency_key: str) -> None:
    """Deliver one email payload (`action`, `to`, `data`) through the email service."""
    config = current_app.config
    secret = config.get("EMAIL_SERVICE_SECRET")
    if not secret:
        raise RetryableDeliveryError("EMAIL_SERVICE_SECRET is not set")
    body = json.dumps({**payload, "id": idempotency_key}, separators=(",", ":")).encode("utf-8")
    url = config["EMAIL_SERVICE_URL"]
    try:
        response = _http(url).post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "X-Signature": sign(body, secret)},
            timeout=config["EMAIL_SERVICE_TIMEOUT"],
            allow_redirects=False,  # a redirected POST would arrive unsigned as a GET
        )
    except requests.RequestException as exc:
        raise RetryableDeliveryError(f"email service unreachable: {exc}") from exc
    check_answer(response.status_code, _reason(response))


def check_answer(status: int, reason: str) -> None:
    """Return when the service accepted the email; raise the error that says what to do next."""
    if 200 <= status < 300:
        return
    message = f"email service answered {status}: {reason}"
    if 400 <= status < 500 and status != 429:
        raise PermanentDeliveryError(message)
    raise RetryableDeliveryError(message)


def _reason(response: requests.Response) -> str:
    """The service's `error` field when it sent one, else the start of the body."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    reason = error if isinstance(error, str) and error else response.text.strip()
    return (reason or response.reason or "no reason given")[:MAX_REASON_CHARS]
