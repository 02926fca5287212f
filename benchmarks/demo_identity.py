"""The four demos' public files, byte for byte, from two versions of the code.

    python -m benchmarks.demo_identity BASE_COMMIT [--full] [--demos digits sensor multilabel video]

For a refactor that must change no result: each demo's competition folder is
written once, then the real Snakefile of ``BASE_COMMIT`` (a ``git worktree``)
and of the working tree run it from empty working directories, and the
public-contract files (``results/folds/folds.pkl``, ``results/oof/*``,
``results/test/*``, ``results/ensembles/*/*``, ``results/submissions/*``,
``results/leaderboard.csv``) are compared by SHA-256. Without ``--full`` the
nets train for at most 2 epochs on the demos' own configs (every other setting
as shipped), so the four demos take minutes instead of half an hour; the code
paths are the same. Exits 1 when a file differs or is missing on one side.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import yaml

from benchmarks.common import REPO, SCRATCH

DEMOS = {  # name -> (config, foldwise.demo command and arguments)
    "digits": ("config.yaml", ["digits"]),
    "sensor": ("configs/basicmotions.yaml", ["basicmotions"]),
    "multilabel": ("configs/multilabel_digits.yaml", ["multilabel-digits", "--n-train", "600", "--n-test", "200"]),
    "video": ("configs/video_digits.yaml", ["video-digits", "--n-train", "150", "--n-test", "60"]),
}
CONTRACT = ("folds/folds.pkl", "oof/*.parquet", "test/*.parquet", "ensembles/*/*", "submissions/*.csv",
            "leaderboard.csv")


def contract_hashes(results: Path) -> dict[str, str]:
    """SHA-256 of every public-contract file under ``results/``."""
    files = sorted({p for pattern in CONTRACT for p in results.glob(pattern) if p.is_file()})
    return {p.relative_to(results).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def demo_config(code: Path, name: str, data: Path, full: bool) -> dict:
    cfg = yaml.safe_load((code / DEMOS[name][0]).read_text())
    cfg["data"]["dir"] = str(data)
    if not full:
        for model in cfg["models"].values():
            if "epochs" in model:
                model["epochs"] = min(2, model["epochs"])
    return cfg


def run_demo(code: Path, work: Path, cfg: dict) -> dict[str, str]:
    """The Snakefile of ``code`` on ``cfg`` from an empty ``work``; the contract files' hashes."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    env = {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(code / "Snakefile"), "--directory", str(work),
           "--configfile", str(work / "config.yaml"), "--cores", "2", "--resources", "gpu=1", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)
    if proc.returncode != 0:
        raise SystemExit(f"{code} on {work} failed:\n{proc.stderr[-4000:]}")
    return contract_hashes(work / "results")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base", help="the commit to compare with (e.g. the one before a refactor)")
    p.add_argument("--demos", nargs="+", choices=list(DEMOS), default=list(DEMOS))
    p.add_argument("--full", action="store_true", help="the demos' own epochs (slow)")
    args = p.parse_args(argv)
    root = SCRATCH / "demo_identity"
    base = root / "base"
    if not base.exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(base), args.base], check=True)
    subprocess.run(["git", "-C", str(base), "checkout", "--detach", "-q", args.base], check=True)
    ok = True
    for name in args.demos:
        data = root / "data" / name
        if not data.exists():
            subprocess.run([sys.executable, "-m", "foldwise.demo", *DEMOS[name][1][:1], str(data),
                            *DEMOS[name][1][1:]], check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
        sides = {}
        for side, code in (("base", base), ("head", REPO)):
            work = root / "work" / name / side
            subprocess.run(["rm", "-rf", str(work)], check=True)
            sides[side] = run_demo(code, work, demo_config(code, name, data, args.full))
        same = sides["base"] == sides["head"] and bool(sides["base"])
        ok &= same
        print(f"{name}: {len(sides['head'])} contract files, {'byte-identical' if same else 'DIFFERENT'}")
        for key in sorted(set(sides["base"]) | set(sides["head"])):
            if sides["base"].get(key) != sides["head"].get(key):
                print(f"  {key}: base {sides['base'].get(key, 'missing')[:12]} head {sides['head'].get(key, 'missing')[:12]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
