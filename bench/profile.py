"""Where a page's time goes: pyinstrument around N requests, in-process, on a seeded database.

    python -m bench.profile --url postgresql+psycopg://… --path /patient/doctors [--as EMAIL]
    python -m bench.profile --url … --book 200          # the booking POST, distinct slots

The app runs with the production configuration (as under gunicorn) through Flask's test client
over https://localhost, so Secure cookies and CSRF behave as they do in production. Sign-in goes
through the login form; the seeded accounts share bench/seed.py's password. Prints pyinstrument's
call tree; `--html FILE` writes the interactive page instead.
"""

import argparse
import gc
import os
import secrets
import sys
import time

from pyinstrument import Profiler

from bench.seed import BENCH_PASSWORD, libpq_url, patient_email
from bench.sessions import scrape_csrf

BASE = "https://localhost"


def production_app(url: str):
    os.environ.update(
        HMS_ENV="production",
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_hex(32),
        EMAIL_SERVICE_SECRET=secrets.token_hex(32),
        EMAIL_SERVICE_URL="http://127.0.0.1:9/dev/send-email",  # discard: no delivery here
        OUTBOX_DELIVER_AFTER_RESPONSE="false",
        RATELIMIT_ENABLED="false",
        LOG_LEVEL="WARNING",
    )
    from app import create_app

    return create_app()


def signed_in_client(app, email: str):
    client = app.test_client()
    headers = {"Referer": f"{BASE}/auth/login"}  # CSRF checks the referrer over https
    page = client.get("/auth/login", base_url=BASE)
    answer = client.post(
        "/auth/login",
        base_url=BASE,
        headers=headers,
        data={"email": email, "password": BENCH_PASSWORD, "csrf_token": scrape_csrf(page.text)},
    )
    if answer.status_code != 302:
        sys.exit(f"sign-in as {email} answered {answer.status_code}")
    return client


def open_slots(url: str, count: int, patient_email_: str) -> list[int]:
    import psycopg

    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            """
            SELECT DISTINCT ON (s.start_at) s.id FROM availability_slots s
            WHERE s.start_at > now() + interval '2 hours' AND NOT EXISTS (
                SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status <> 'cancelled')
              AND NOT EXISTS (
                SELECT 1 FROM appointments a JOIN patient_profiles p ON p.id = a.patient_id
                JOIN users u ON u.id = p.user_id
                WHERE u.email = %s AND a.start_at = s.start_at AND a.status = 'booked')
            ORDER BY s.start_at, s.id LIMIT %s
            """,
            (patient_email_, count),
        ).fetchall()
    return [slot_id for (slot_id,) in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a database seeded by bench.seed")
    parser.add_argument("--path", default="/patient/doctors")
    parser.add_argument("--as", dest="email", default=patient_email(1))
    parser.add_argument("-n", type=int, default=200, help="requests to profile")
    parser.add_argument("--book", type=int, metavar="N", help="profile N bookings instead")
    parser.add_argument("--html", help="write pyinstrument's HTML page here")
    parser.add_argument("--time-only", action="store_true", help="no profiler: ms per request")
    args = parser.parse_args()

    # No automatic collection until the warm-up is done: start-up differs a little between two
    # runs (the slots read for `--book 5` and `--book 25`), and a full collection of everything
    # loaded so far (tens of millions of instructions) could fall in one run and not the other.
    gc.disable()
    app = production_app(args.url)
    client = signed_in_client(app, args.email)
    if args.book:
        slots = open_slots(args.url, args.book, args.email)
        if len(slots) < 2:
            sys.exit(f"{args.email} has no open slots left to book: seed again, or use --as")
        token = scrape_csrf(client.get(f"/booking/slots/{slots[0]}", base_url=BASE).text)
        form = {"csrf_token": token, "notes": "profile"}
        # As wrk does: every booking sends the cookie of the signed-in session, not the one the
        # previous booking set (each of those adds a flash message nobody reads).
        name = app.config["SESSION_COOKIE_NAME"]
        signed_in = client.get_cookie(name, domain="localhost").value

        def book(slot_id: int):
            client.set_cookie(name, signed_in, domain="localhost", secure=True)
            path = f"/booking/slots/{slot_id}"
            return client.post(path, base_url=BASE, data=form, headers={"Referer": BASE + "/"})

        calls = [lambda s=s: book(s) for s in slots]
    else:
        calls = [lambda: client.get(args.path, base_url=BASE)] * args.n
    calls[0]()  # warm caches (templates, SQL compilation) outside the profile
    # As gunicorn's workers do (gunicorn.conf.py, post_worker_init): what is loaded by now stays
    # out of the collector's full passes. Without it, whether one of those passes (tens of
    # millions of instructions) fell inside the measured requests depended on how many objects
    # the app happened to load, and moved `bench.instructions` by 20 % between two versions of
    # the code whose requests did the same work.
    gc.collect()  # one full collection, at the same point of every run
    gc.freeze()
    gc.enable()
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    if args.time_only:
        statuses = [call().status_code for call in calls[1:]]
    else:
        with profiler:
            statuses = [call().status_code for call in calls[1:]]
    elapsed = time.perf_counter() - started
    print(f"{len(statuses)} requests, {elapsed / len(statuses) * 1000:.2f} ms each, "
          f"statuses {sorted(set(statuses))}", file=sys.stderr)  # fmt: skip
    if args.time_only:
        return
    if args.html:
        with open(args.html, "w") as out:
            out.write(profiler.output_html())
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
