"""Run the benchmark suite and rewrite the results table of BENCHMARKS.md.

    python -m benchmarks                 # every figure, ~10 minutes on 2 cores
    python -m benchmarks cache ensemble  # only these rows are measured again
    python -m benchmarks --quick         # tiny sizes, prints only (a smoke run)

Each benchmark runs in its own Python process (``python -m
benchmarks.bench_<name>``), so that thread settings and memory do not leak from
one to the next. Results are merged into ``benchmarks/results.json`` (raw
samples) and the table between the markers in ``BENCHMARKS.md`` is
regenerated; the prose outside the markers is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time

from benchmarks.common import REPO, machine, sub_env

BENCHMARKS = ["cache", "loading", "trainer", "memory", "planning", "ensemble", "timeseries", "tracking", "video"]
RESULTS = REPO / "benchmarks" / "results.json"
DOC = REPO / "BENCHMARKS.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def run_one(name: str, quick: bool) -> dict:
    cmd = [sys.executable, "-m", f"benchmarks.bench_{name}"] + (["--quick"] if quick else [])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=sub_env(), cwd=REPO)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("BENCH-RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark {name} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    result = json.loads(lines[-1][len("BENCH-RESULT "):])
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(results: dict) -> str:
    rows = [
        "| # | figure | goal | measured | met | machine | date | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, name in enumerate(BENCHMARKS, 1):
        r = results.get(name)
        if r is None:
            rows.append(f"| {i} | {name} | | not measured yet | | | | |")
            continue
        met = {True: "yes", False: "**no**", None: "n/a"}[r["passed"]]
        rows.append(
            f"| {i} | {_cell(r['figure'])} | {_cell(r['goal'])} | **{_cell(r['measured'])}** | {met} | "
            f"{_cell(r['machine'])} | {r['date']} | {_cell(r['notes'])} |"
        )
    return "\n".join(rows)


def write_doc(results: dict) -> None:
    table = f"{START}\n{render(results)}\n{END}"
    text = DOC.read_text() if DOC.is_file() else f"# Benchmarks\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(head + table + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes; print the results, write nothing")
    args = parser.parse_args(argv)
    names = args.names or BENCHMARKS
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; valid: {', '.join(BENCHMARKS)}")
    where, today = machine(), dt.date.today().isoformat()
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() and not args.quick else {}
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        r = run_one(name, args.quick)
        r["machine"], r["date"] = where, today
        results[name] = r
        print(f"[bench] {name}: {r['measured']} (goal {r['goal']}, {'met' if r['passed'] else 'MISSED'}) in {r['seconds']} s",
              file=sys.stderr, flush=True)
        if not args.quick:  # save after every figure, so an interrupted run keeps what it measured
            RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
            write_doc(results)
    if args.quick:
        print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
