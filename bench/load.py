"""Running wrk against 127.0.0.1 and reading the JSON its Lua done() hook prints."""

import json
import os
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LUA_DIR = Path(__file__).resolve().parent / "wrk"


@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    bytes_per_request: float
    errors: dict = field(default_factory=dict)
    exhausted: bool = False

    @property
    def failed(self) -> int:
        """Socket errors, timeouts and answers of 400 and above."""
        return sum(self.errors.values())

    def as_dict(self) -> dict:
        return {**asdict(self), "failed": self.failed}


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: list[str] = (),
    script: str = "report.lua",
    env: dict | None = None,
) -> LoadResult:
    """One bounded wrk run (`-d`, and a hard timeout besides); loopback targets only."""
    host = urlsplit(url).hostname or ""
    if not host.startswith("127."):
        raise ValueError(f"load goes to 127.0.0.1 only, not {host!r}")
    threads = min(2, connections)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s"]
    command += ["--timeout", "10s", "-s", script]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    run_env = {**os.environ, **(env or {}), "BENCH_WRK_THREADS": str(threads)}
    done = subprocess.run(
        command,
        cwd=LUA_DIR,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    latency = data["latency_us"]
    elapsed = data["duration_us"] / 1e6
    return LoadResult(
        requests=data["requests"],
        seconds=round(elapsed, 3),
        rps=round(data["requests"] / elapsed, 1) if elapsed else 0.0,
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3),
        max_ms=latency["max"] / 1000,
        bytes_per_request=round(data["bytes"] / data["requests"]) if data["requests"] else 0,
        errors={k: v for k, v in data["errors"].items() if v},
        exhausted="BENCH_EXHAUSTED" in done.stderr,
    )
