"""What is measured against one running server: pages, /healthz, bookings over HTTP."""

import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import requests

from bench.load import LoadResult, run_wrk
from bench.seed import SEARCH_TERM, SPECIALIZATIONS
from bench.servers import CpuMeter
from bench.sessions import USER_AGENT, Browser
from bench.slots import SlotPool

QUERY_HEADER = "X-Query-Count"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    path: str


def pages(doctor_id: int) -> list[Page]:
    """The pages a clinic's users load most, as routed in /work/shared/CONTRACT.md."""
    return [
        Page("doctor list", "patient", "/patient/doctors"),
        Page("doctor search ?q=", "patient", f"/patient/doctors?q={SEARCH_TERM}"),
        Page(
            "doctor filter ?specialization=",
            "patient",
            f"/patient/doctors?specialization={quote(SPECIALIZATIONS[0])}",
        ),
        Page("doctor's slots", "patient", f"/patient/doctors/{doctor_id}"),
        Page("patient dashboard", "patient", "/patient/"),
        Page("doctor dashboard", "doctor", "/doctor/"),
        Page("admin dashboard", "admin", "/admin/"),
    ]


def look(base: str, browser: Browser, path: str) -> requests.Response:
    """One plain request with the exact headers wrk will send (no cookie-jar updates)."""
    return requests.get(
        f"{base}{path}",
        headers={"Cookie": browser.cookie_header, "User-Agent": USER_AGENT},
        allow_redirects=False,
        timeout=30,
    )


def first_look(base: str, page: Page, browser: Browser) -> dict:
    """The page fetched once: its status, size and SQL statements, before any load."""
    first = look(base, browser, page.path)
    entry = {
        "path": page.path,
        "status": first.status_code,
        "queries": int(first.headers[QUERY_HEADER]) if QUERY_HEADER in first.headers else None,
        "bytes": len(first.content),
        "load": {},
        "rounds": {},
    }
    if first.status_code != 200:
        say(f"   {page.name}: {page.path} answered {first.status_code}: not measured")
    return entry


def load_page(
    base: str, page: Page, browser: Browser, entry: dict, c: int, seconds: float, meter: CpuMeter
):
    """One wrk run of the page at `c` connections, added to the entry's rounds, with the CPU it
    cost gunicorn's workers and PostgreSQL per request."""
    before = meter.read()
    result = run_wrk(
        f"{base}{page.path}", connections=c, seconds=seconds, headers=browser.wrk_headers()
    )
    run = {**result.as_dict(), **cpu_per_request(before, meter.read(), result.requests)}
    # A session that ended would turn every request into a cheap 302 to the login page.
    if result.bytes_per_request < 0.5 * entry["bytes"] or result.failed:
        run["suspect"] = True
    entry["rounds"].setdefault(c, []).append(run)
    say(f"   {page.name} c={c}: {result.rps:.0f} req/s, p95 {result.p95_ms:.1f} ms")


def load_healthz(base: str, results: dict, c: int, seconds: float, meter: CpuMeter) -> None:
    before = meter.read()
    result = run_wrk(f"{base}/healthz", connections=c, seconds=seconds)
    results.setdefault(c, []).append(
        {**result.as_dict(), **cpu_per_request(before, meter.read(), result.requests)}
    )
    say(f"   /healthz c={c}: {result.rps:.0f} req/s, p95 {result.p95_ms:.1f} ms")


def cpu_per_request(before: tuple, after: tuple, requests: int) -> dict:
    """Milliseconds of CPU per request: gunicorn's workers ("app") and PostgreSQL ("db", None
    when the cluster is not the harness's own)."""
    if not requests:
        return {"app_cpu_ms": None, "db_cpu_ms": None}
    app = (after[0] - before[0]) * 1000 / requests
    db = None if after[1] is None else (after[1] - before[1]) * 1000 / requests
    return {"app_cpu_ms": round(app, 2), "db_cpu_ms": None if db is None else round(db, 2)}


def median_run(runs: list[dict]) -> dict:
    """The run whose p95 is the median of the rounds (the middle one of three), whole, so its
    figures belong together; with every round's p95 and req/s beside it, to show the spread.
    Rounds interleave all pages, so a burst of load from elsewhere on a shared machine lands in
    one round of several pages rather than in every run of one page."""
    ordered = sorted(runs, key=lambda run: run["p95_ms"])
    chosen = dict(ordered[len(ordered) // 2])  # of an even number, the higher of the middle two
    chosen["p95_ms_rounds"] = [run["p95_ms"] for run in runs]
    chosen["rps_rounds"] = [round(run["rps"], 1) for run in runs]
    chosen["app_cpu_ms_rounds"] = [run.get("app_cpu_ms") for run in runs]
    chosen["suspect"] = any(run.get("suspect") for run in runs) or None
    return chosen


def booking_form(browser: Browser, note: str) -> str:
    return f"csrf_token={quote(browser.csrf_token, safe='')}&notes={quote(note)}"


LAST_MESSAGE = "SELECT coalesce(max(id), 0) FROM outbox_messages"


def measure_booking(
    base: str,
    url: str,
    browsers: list[Browser],
    pool: SlotPool,
    *,
    connections: int,
    seconds: float,
    work: Path,
    meter: CpuMeter,
    pairs: list[tuple[int, int]] | None = None,
) -> dict:
    """wrk posts distinct-slot bookings, rotating over the signed-in patients (`pairs` of
    patient index and slot set aside earlier, or taken from `pool` now); the database
    then says how many appointments really exist, which is the figure reported. CPU per
    request as for the pages, and each helper's the meter watches (the email receiver, an
    outbox worker); and how many of the bookings' emails were sent before the run ended."""
    if pairs is None:
        pairs = pool.for_patients(int(seconds * 1000))
    plan = work / f"bookings-c{connections}.tsv"
    with plan.open("w") as out:
        for index, slot_id in pairs:
            browser = browsers[index]
            form = booking_form(browser, "bench")
            out.write(f"{browser.cookie_header}\t{form}\t/booking/slots/{slot_id}\n")
    with psycopg.connect(url) as conn:
        last_message = conn.execute(LAST_MESSAGE).fetchone()[0]
    before, helpers_before = meter.read(), meter.read_helpers()
    result: LoadResult = run_wrk(
        f"{base}/",
        connections=connections,
        seconds=seconds,
        script="booking.lua",
        env={"BENCH_BOOKING_FILE": str(plan), "BENCH_USER_AGENT": USER_AGENT},
    )
    cpu = cpu_per_request(before, meter.read(), result.requests)
    for name, used in meter.read_helpers().items():
        if result.requests:
            spent = used - helpers_before[name]
            cpu[f"{name}_cpu_ms"] = round(spent * 1000 / result.requests, 2)
    slot_ids = [slot_id for _index, slot_id in pairs]
    with psycopg.connect(url) as conn:
        booked = conn.execute(
            "SELECT count(*) FROM appointments WHERE slot_id = ANY(%s) AND status = 'booked'",
            (slot_ids,),
        ).fetchone()[0]
        emails_sent, emails = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM outbox_messages "
            "WHERE id > %s",
            (last_message,),
        ).fetchone()
    rate = booked / result.seconds if result.seconds else 0.0
    say(
        f"   booking c={connections}: {booked} booked of {result.requests} sent, "
        f"{rate:.0f} bookings/s, p95 {result.p95_ms:.1f} ms"
    )
    return {
        **result.as_dict(),
        **cpu,
        "connections": connections,
        "offered": len(pairs),
        "booked": booked,
        "bookings_per_s": round(rate, 1),
        "emails": emails,
        "emails_sent_in_run": emails_sent,
    }
