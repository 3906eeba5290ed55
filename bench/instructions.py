"""Instructions per request, counted by callgrind: a cost that does not drift with the machine.

    python -m bench.instructions --url postgresql+psycopg://… --path /patient/doctors [--as EMAIL]
    python -m bench.instructions --url … --book        # the booking POST instead of a page

On a shared machine one page's latency moved by 2x within minutes, and even CPU time per request
by 50 %; the number of instructions the interpreter executes for a request does not move at all
(the same figure to within 0.3 % run after run). This runs `bench.profile --time-only` (the
app in-process, production configuration, signed in through the login form) under valgrind's
callgrind twice, with `--few` and `--many` requests, and divides the difference in instructions
by the difference in requests: start-up, sign-in and warm-up cancel out. PostgreSQL runs in its
own processes and is not counted. It takes a minute or two (valgrind runs Python some 50 times
slower); valgrind comes from Debian's packages (`apt-get install valgrind`).

Compare two versions of the code by running it from each checkout against the same database.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.seed import patient_email

REPO = Path(__file__).resolve().parent.parent
TOTALS = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def instructions(url: str, path: str, email: str, requests: int, book: bool = False) -> int:
    what = ["--book", str(requests)] if book else ["--path", path, "-n", str(requests)]
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "callgrind.out"
        command = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, "-m", "bench.profile", "--url", url, *what,
            "--as", email, "--time-only",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts in every run
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            sys.exit(f"callgrind run failed ({done.returncode}):\n{done.stderr[-2000:]}")
        match = TOTALS.search(out.read_text(errors="replace"))
        if match is None:
            sys.exit(f"no instruction total in {out}")
        return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a database seeded by bench.seed")
    parser.add_argument("--path", default="/patient/doctors")
    parser.add_argument("--as", dest="email", default=patient_email(1))
    parser.add_argument(
        "--book", action="store_true", help="count bookings (each run books open slots)"
    )
    parser.add_argument("--few", type=int, default=5, help="requests in the first run")
    parser.add_argument("--many", type=int, default=25, help="requests in the second run")
    args = parser.parse_args()
    if args.many <= args.few:
        parser.error("--many must be larger than --few")
    few = instructions(args.url, args.path, args.email, args.few, args.book)
    many = instructions(args.url, args.path, args.email, args.many, args.book)
    per_request = (many - few) / (args.many - args.few)
    what = "POST /booking/slots/<id>" if args.book else args.path
    print(f"{what}: {per_request / 1e6:.2f} M instructions per request")


if __name__ == "__main__":
    main()
