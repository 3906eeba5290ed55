"""Signing in over HTTP, as a browser would, and handing the session to wrk.

Production marks the session cookie Secure, and the benchmark talks plain HTTP to 127.0.0.1,
where a browser (and `requests`) would never send such a cookie back: `LoopbackSession` sends
the cookies it holds itself, to loopback addresses only. Flask-Login's "strong" session
protection binds a session to the client's IP and User-Agent, so wrk must send the same
User-Agent as the `requests` session that signed in, or every request would be signed out.
"""

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

USER_AGENT = "hms-bench/1.0"
CSRF_PATTERN = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


class SignInFailed(RuntimeError):
    pass


class LoopbackSession(requests.Session):
    """Sends its cookies, Secure ones included, in an explicit Cookie header; loopback only.

    (A cookie policy cannot do it: requests copies the jar into a fresh one for every request.)
    """

    def request(self, method, url, *args, headers=None, **kwargs):
        if not (urlsplit(url).hostname or "").startswith("127."):
            raise ValueError(f"the benchmark talks to 127.0.0.1 only, not {url}")
        headers = dict(headers or {})
        if self.cookies and "Cookie" not in headers:
            headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        kwargs.setdefault("allow_redirects", False)  # a redirect would not carry the header
        return super().request(method, url, *args, headers=headers, **kwargs)


@dataclass
class Browser:
    """One signed-in person: their `requests` session, and what wrk needs to act as them."""

    email: str
    http: requests.Session
    csrf_token: str = ""

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def wrk_headers(self) -> list[str]:
        return [f"Cookie: {self.cookie_header}", f"User-Agent: {USER_AGENT}"]


def new_http() -> requests.Session:
    http = LoopbackSession()
    http.headers["User-Agent"] = USER_AGENT
    return http


def scrape_csrf(html: str) -> str | None:
    match = CSRF_PATTERN.search(html)
    return (match.group(1) or match.group(2)) if match else None


def sign_in(base: str, email: str, password: str) -> Browser:
    """POST the login form with the token from the login page; expect the 302 to a dashboard."""
    http = new_http()
    page = http.get(f"{base}/auth/login", timeout=30)
    token = scrape_csrf(page.text)
    if token is None:
        raise SignInFailed(f"no csrf_token on the login page ({page.status_code})")
    response = http.post(
        f"{base}/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise SignInFailed(f"{email}: login answered {response.status_code}")
    return Browser(email=email, http=http)


def sign_in_many(base: str, emails: list[str], password: str, workers: int = 8) -> list[Browser]:
    """Sign in everyone (argon2 makes each login cost tens of ms: a few at a time)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda email: sign_in(base, email, password), emails))


def fetch_csrf(browser: Browser, base: str, paths: list[str]) -> str:
    """A form token bound to this signed-in session (sign-in starts a fresh session, so the
    login page's token is no longer valid). The first of `paths` that shows a form wins."""
    for path in paths:
        page = browser.http.get(f"{base}{path}", timeout=30)
        token = scrape_csrf(page.text) if page.status_code == 200 else None
        if token:
            browser.csrf_token = token
            return token
    raise SignInFailed(f"{browser.email}: no page with a csrf_token among {paths}")
