"""The one table `make bench` prints, and the targets the figures are held to.

Ratios are given next to absolute figures because a shared 2-core machine drifts from run to
run: pages against /healthz at the same concurrency (how much of the server's ceiling a page
leaves), bookings against the database's own limit for the same transaction.
"""

MAX_QUERIES = 10
P95_BUDGET_MS = 50.0
TARGET_CONNECTIONS = 8
BOOKING_SHARE = 0.25


def _main(results: dict) -> dict:
    return results["sizes"][results["main_size"]]


def _ratio(a, b) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def targets(results: dict) -> dict:
    main = _main(results)
    measured = {n: p for n, p in main["pages"].items() if p["load"]}
    missing = sorted(set(main["pages"]) - set(measured))
    note = f"not measured: {', '.join(missing)}" if missing else ""

    def unless_missing(ok: bool):
        return None if missing and ok else ok

    queries = {n: p["queries"] for n, p in measured.items()}
    p95 = {n: p["load"][TARGET_CONNECTIONS]["p95_ms"] for n, p in measured.items()}
    booking = main["booking"].get(TARGET_CONNECTIONS, {}).get("bookings_per_s", 0)
    ceiling = main["db_ceiling"]["tps"]
    out = {
        "queries": {
            "kind": "speed",
            "target": f"no page above {MAX_QUERIES} SQL queries",
            "value": f"max {max(queries.values(), default=0)}",
            "met": unless_missing(
                all(q is not None and q <= MAX_QUERIES for q in queries.values())
            ),
            "note": note,
        },
        "p95": {
            "kind": "speed",
            "target": f"p95 < {P95_BUDGET_MS:g} ms for every page at {TARGET_CONNECTIONS} clients",
            "value": f"max {max(p95.values(), default=0):.1f} ms",
            "met": unless_missing(bool(p95) and all(v < P95_BUDGET_MS for v in p95.values())),
            "note": note,
        },
        "booking": {
            "kind": "speed",
            "target": f"booking >= {BOOKING_SHARE:g} x the database's limit",
            "value": f"{booking:.0f}/s vs {ceiling:.0f}/s = {_ratio(booking, ceiling)}",
            "met": bool(ceiling) and booking >= BOOKING_SHARE * ceiling,
        },
    }
    for key, label in (
        ("contention", "one winner among 200, one server"),
        ("scale_out_contention", "one winner among 200, two servers"),
        ("outbox_drain", "two outbox workers: each message exactly once"),
    ):
        check = main.get(key, {})
        out[key] = {
            "kind": "exact",
            "target": label,
            "met": None if "pending" in check else check.get("passed"),
            "note": check.get("pending", ""),
        }
    return out


COLUMNS = ("what", "c", "req/s", "p50 ms", "p95 ms", "p99 ms", "SQL", "CPU ms", "ratio")
WIDTHS = (34, 3, 8, 7, 7, 7, 4, 10, 26)


def _row(*cells) -> str:
    out = []
    for i, (cell, width) in enumerate(zip(cells, WIDTHS, strict=False)):
        text = "" if cell is None else str(cell)
        out.append(text.ljust(width) if i in (0, 8) else text.rjust(width))
    return "  ".join(out).rstrip()


def _cpu(load) -> str:
    """CPU per request, gunicorn's workers / PostgreSQL: steadier than latency on a shared box."""
    app, db = load.get("app_cpu_ms"), load.get("db_cpu_ms")
    if app is None:
        return ""
    return f"{app:.1f}/{db:.1f}" if db is not None else f"{app:.1f}"


def _load_row(name, c, load, queries=None, ratio="") -> str:
    rps = load.get("bookings_per_s", load["rps"])
    flag = " !" if load.get("suspect") or load.get("exhausted") else ""
    return _row(
        name, c, f"{rps:.0f}{flag}", f"{load['p50_ms']:.1f}", f"{load['p95_ms']:.1f}",
        f"{load.get('p99_ms', 0):.1f}", queries, _cpu(load), ratio,
    )  # fmt: skip


def render(results: dict) -> str:
    main = _main(results)
    size = results["main_size"]
    rows = main["seed"]["rows"]
    lines = [
        f"HMS benchmark at scale {size}: {rows.get('doctor_profiles', 0):,} doctors, "
        f"{rows.get('patient_profiles', 0):,} patients, {rows.get('availability_slots', 0):,} "
        f"slots, {rows.get('appointments', 0):,} appointments; "
        f"{results['machine']['cpus']} CPUs, PostgreSQL {results['machine']['postgresql']}, "
        f"{results['profile']['seconds']:g} s per run, pages: median of "
        f"{results['profile'].get('rounds', 1)} rounds, {results['seconds']:.0f} s in all",
        "seeding: "
        + ", ".join(f"scale {k}: {v['seed']['seconds']} s" for k, v in results["sizes"].items()),
        "",
        _row(*COLUMNS),
        _row(*("-" * w for w in WIDTHS)),
    ]
    healthz = main.get("healthz", {})
    for c, load in healthz.items():
        lines.append(_load_row("GET /healthz (server ceiling)", c, load))
    db = main["db_ceiling"]
    lines.append(
        _row("booking txn in PostgreSQL (db limit)", db["workers"], f"{db['tps']:.0f}",
             f"{db['p50_ms']:.1f}", f"{db['p95_ms']:.1f}", "", "", "", "")
    )  # fmt: skip
    for name, page in main["pages"].items():
        if not page["load"]:
            lines.append(
                _row(name, "", "", "", "", "", page["queries"], "", f"HTTP {page['status']}")
            )
        for c, load in page["load"].items():
            ratio = f"{_ratio(load['rps'], healthz.get(c, {}).get('rps'))} of /healthz"
            lines.append(_load_row(name, c, load, page["queries"], ratio))
    bookings = [("POST /booking/slots/<id>", c, load) for c, load in main["booking"].items()]
    variants = (
        ("booking_with_worker", "  same, outbox worker alongside"),
        ("booking_after_response", "  same, emails after response"),
    )
    bookings += [(label, main[key].get("connections", 8), main[key]) for key, label in variants
                 if key in main]  # fmt: skip
    for name, c, load in bookings:
        rate = load["bookings_per_s"]
        ratio = f"{_ratio(rate, db['tps'])} of db, {_ratio(rate, healthz.get(c, {}).get('rps'))} hz"
        lines.append(_load_row(name, c, load, None, ratio))
    lines += _booking_notes(bookings)
    lines += _growth(results)
    lines += _checks(main)
    lines.append("")
    for target in results["targets"].values():
        verdict = {True: "MET", False: "NOT MET", None: "PENDING"}[target["met"]]
        value = f" ({target['value']})" if target.get("value") else ""
        note = f" [{target['note']}]" if target.get("note") else ""
        lines.append(f"target: {target['target']}{value}: {verdict}{note}")
    lines.append("! = suspect run (session lost, errors, or booking pool exhausted): see JSON")
    return "\n".join(lines)


def _booking_notes(bookings) -> list[str]:
    """Per booking row: how many of its emails went out during the run, and the CPU the email
    receiver (Lambda in production) and an outbox worker spent per booking."""
    lines = []
    for name, c, load in bookings:
        if "emails" not in load:
            continue  # a result from before these were measured
        helpers = [
            f"{who} {load[key]:.1f} ms"
            for key, who in (("worker_cpu_ms", "worker"), ("receiver_cpu_ms", "receiver"))
            if load.get(key) is not None
        ]
        lines.append(
            f"  {name.strip()} (c={c}): {load['emails_sent_in_run']:,} of {load['emails']:,} "
            f"emails sent during the run; CPU per booking: {', '.join(helpers) or '-'}"
        )
    return lines


def _growth(results: dict) -> list[str]:
    sizes = list(results["sizes"])
    if len(sizes) < 2:
        return []
    small, big = results["sizes"][sizes[0]], results["sizes"][sizes[-1]]
    c = TARGET_CONNECTIONS
    lines = [_row(f"growth {sizes[0]} -> {sizes[-1]} (10x data)", c, "req/s", "", "p95 ms", "",
                  "SQL", "app CPU", "req/s and p95 big/small")]  # fmt: skip
    for name, page in big["pages"].items():
        before = small["pages"].get(name, {})
        if c not in page["load"] or c not in before.get("load", {}):
            continue
        a, b = before["load"][c], page["load"][c]
        lines.append(_row(
            f"  {name}", c, f"{a['rps']:.0f}>{b['rps']:.0f}", "",
            f"{a['p95_ms']:.0f}>{b['p95_ms']:.0f}", "", f"{before['queries']}>{page['queries']}",
            _cpu_growth(a, b),
            f"x{_ratio(b['rps'], a['rps'])}, x{_ratio(b['p95_ms'], a['p95_ms'])}",
        ))  # fmt: skip
    if c in small["booking"] and c in big["booking"]:
        a, b = small["booking"][c], big["booking"][c]
        lines.append(_row(
            "  booking", c, f"{a['bookings_per_s']:.0f}>{b['bookings_per_s']:.0f}", "",
            f"{a['p95_ms']:.0f}>{b['p95_ms']:.0f}", "", "", "",
            f"x{_ratio(b['bookings_per_s'], a['bookings_per_s'])}, "
            f"x{_ratio(b['p95_ms'], a['p95_ms'])}",
        ))  # fmt: skip
    return lines


def _cpu_growth(small: dict, big: dict) -> str:
    a, b = small.get("app_cpu_ms"), big.get("app_cpu_ms")
    return f"{a:.1f}>{b:.1f}" if a is not None and b is not None else ""


def _checks(main: dict) -> list[str]:
    lines = [""]
    for key, label in (("contention", "contention, 1 server"),
                       ("scale_out_contention", "contention, 2 servers")):  # fmt: skip
        check = main.get(key)
        if check:
            codes = ", ".join(f"{n} x {code}" for code, n in check["statuses"].items())
            verdict = "PASS" if check["passed"] else "FAIL"
            lines.append(
                f"{label}: {check['patients']} patients, one slot: {codes}; "
                f"{check['winners_in_db']} appointment in the database: {verdict}"
            )
    drain = main.get("outbox_drain")
    if drain and "pending" in drain:
        lines.append(f"outbox drain, 2 workers: PENDING ({drain['pending']})")
    elif drain:
        lines.append(
            f"outbox drain, {drain['workers']} workers: {drain['expected']} messages in "
            f"{drain['seconds']} s ({drain['rate']:.0f}/s): duplicates = {drain['duplicates']}, "
            f"missing = {drain['missing']}, left = {drain['left_in_queue']} (and "
            f"{drain['unexpected']} the workers queued themselves, e.g. reminders): "
            + ("PASS" if drain["passed"] else "FAIL")
        )
    memory = main.get("memory")
    if memory:
        outbox = ""
        if drain and drain.get("worker_peak_rss_mib"):
            outbox = "; outbox workers " + ", ".join(f"{m}" for m in drain["worker_peak_rss_mib"])
        workers = ", ".join(f"{m}" for m in memory["gunicorn_workers_mib"])
        lines.append(
            f"peak RSS (VmHWM, MiB): gunicorn workers {workers}; "
            f"master {memory['gunicorn_master_mib']}{outbox}"
        )
    return lines
