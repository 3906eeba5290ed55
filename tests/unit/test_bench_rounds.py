"""The benchmark reports, per page, the round with the median p95, and keeps every round's."""

from bench.scenarios import median_run


def run(p95: float, rps: float, **extra) -> dict:
    return {"p95_ms": p95, "rps": rps, "p50_ms": p95 / 2, **extra}


def test_the_middle_round_is_reported_whole_with_the_spread_beside_it():
    chosen = median_run([run(80.0, 150), run(30.0, 400), run(45.0, 300)])

    assert (chosen["p95_ms"], chosen["rps"], chosen["p50_ms"]) == (45.0, 300, 22.5)
    assert chosen["p95_ms_rounds"] == [80.0, 30.0, 45.0]
    assert chosen["rps_rounds"] == [150, 400, 300]
    assert chosen["suspect"] is None


def test_one_suspect_round_marks_the_figure():
    assert median_run([run(40.0, 300), run(41.0, 290, suspect=True)])["suspect"] is True


def test_a_single_round_is_itself():
    assert median_run([run(12.0, 600)])["p95_ms"] == 12.0


def test_of_two_rounds_the_slower_counts():
    assert median_run([run(40.0, 300), run(55.0, 250)])["p95_ms"] == 55.0


def test_cpu_per_request_is_the_servers_cpu_over_the_requests_served():
    from bench.scenarios import cpu_per_request

    assert cpu_per_request((10.0, 4.0), (12.0, 4.5), 1000) == {"app_cpu_ms": 2.0, "db_cpu_ms": 0.5}
    external_database = cpu_per_request((10.0, None), (12.0, None), 1000)
    assert external_database == {"app_cpu_ms": 2.0, "db_cpu_ms": None}
    assert cpu_per_request((10.0, 4.0), (10.0, 4.0), 0) == {"app_cpu_ms": None, "db_cpu_ms": None}


def test_instructions_per_request_is_the_difference_over_the_extra_requests(monkeypatch, capsys):
    from bench import instructions

    header = "events: Ir\nsummary: 1234567\n"
    assert instructions.TOTALS.search(header).group(1) == "1234567"
    assert instructions.TOTALS.search("events: Ir\ntotals: 42\n").group(1) == "42"
    counted = {(5, False): 30_000_000, (25, False): 230_000_000, (5, True): 0, (25, True): 1e8}
    monkeypatch.setattr(
        instructions, "instructions", lambda url, path, email, n, book: counted[n, book]
    )
    monkeypatch.setattr("sys.argv", ["bench.instructions", "--url", "x", "--path", "/p"])
    instructions.main()
    assert capsys.readouterr().out.strip() == "/p: 10.00 M instructions per request"
    monkeypatch.setattr("sys.argv", ["bench.instructions", "--url", "x", "--book"])
    instructions.main()
    assert (
        capsys.readouterr().out.strip()
        == "POST /booking/slots/<id>: 5.00 M instructions per request"
    )
