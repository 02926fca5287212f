"""``foldwise init``'s predicted wall time against the measured one, on the demos' folders (issue 26).

    python -m benchmarks.bench_init [--budget 5] [--preset quick] [--demos digits basicmotions multilabel-digits video-digits]

For each demo: write its folder, run ``foldwise init`` (CPU sizing), run the real Snakefile on the written
config with no edits, and record the config's expected wall time, the measured one, and the submission's
score on the held-back solution. Raw figures: ``benchmarks/init.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]


def measure(demo: str, budget: float, preset: str, root: Path) -> dict:
    """One demo through init and snakemake; returns the figures."""
    from foldwise.demo import main as demo_main
    from foldwise.init.cli import main as init_main

    work = root / demo
    work.mkdir(parents=True, exist_ok=True)
    folder = work / "data"
    if not folder.exists():
        demo_main([demo, str(folder)])
    cfg = work / "init.yaml"
    assert init_main([str(folder), "-o", str(cfg), "--preset", preset, "--budget", str(budget),
                      "--device", "cpu", "--force"]) == 0
    written = yaml.safe_load(cfg.read_text())
    expected = next(line for line in cfg.read_text().splitlines() if "expected wall time" in line)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                    str(work), "--configfile", str(cfg), "--cores", "2", "--resources", "gpu=1", "--forceall"],
                   check=True, env=env, cwd=work, capture_output=True)
    seconds = time.perf_counter() - start
    board = pd.read_csv(work / "results" / "leaderboard.csv")
    return {"demo": demo, "preset": preset, "budget_min": budget,
            "expected_min": float(expected.split("expected wall time")[1].split("min")[0]),
            "measured_min": seconds / 60, "models": written["models"], "folds": written["folds"]["n_splits"],
            # the board's first row: the best CV (what submissions: best submits)
            "cv": float(board["cv"].iloc[0]), "holdout": float(board["holdout"].iloc[0]), "best": board["name"].iloc[0],
            "board": board[["name", "cv", "holdout"]].to_dict("records"),
            "metric": board["metric"].iloc[0], "load_1min": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", type=float, default=5)
    p.add_argument("--preset", default="quick")
    p.add_argument("--demos", nargs="+", default=["digits", "basicmotions"])
    p.add_argument("--root", default=os.environ.get("FOLDWISE_BENCH_DIR", "/tmp/foldwise-bench") + "/init")
    args = p.parse_args(argv)
    rows = [measure(d, args.budget, args.preset, Path(args.root)) for d in args.demos]
    for r in rows:
        print(json.dumps(r))
    out = REPO / "benchmarks" / "init.json"  # rows of earlier invocations kept, unless re-measured here
    kept = json.loads(out.read_text())["rows"] if out.exists() else []
    done = {(r["demo"], r["preset"], r["budget_min"]) for r in rows}
    kept = [r for r in kept if (r["demo"], r["preset"], r["budget_min"]) not in done]
    out.write_text(json.dumps({"cores": os.cpu_count(), "rows": kept + rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
