"""``foldwise init DIR``: read a competition folder, print what was inferred and why, write a config.

    foldwise init my-comp/ [-o config.yaml] [--preset quick|strong] [--budget MINUTES]

Exit status 0 with the config written; 2 when the folder cannot be read (one
message naming what is missing) or the output exists (without ``--force``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from foldwise.errors import FoldwiseError

from .infer import infer
from .presets import DEFAULT_BUDGET, PRESETS, size_plan
from .write import render, write_config


def has_gpu() -> bool:
    """Whether torch sees a CUDA device (False when torch cannot be imported)."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="foldwise init", description=__doc__.splitlines()[0])
    p.add_argument("dir", help="the competition folder (written into data.dir as given)")
    p.add_argument("-o", "--output", default="config.yaml", help="config file to write (default: config.yaml)")
    p.add_argument("--preset", choices=list(PRESETS), default="quick",
                   help="quick: one strong model; strong: nets + classic families + a fitted blend")
    p.add_argument("--budget", type=float, default=None, metavar="MINUTES",
                   help=f"time for the whole run (default: {DEFAULT_BUDGET['quick']:.0f} quick, "
                        f"{DEFAULT_BUDGET['strong']:.0f} strong)")
    p.add_argument("--folds", type=int, default=5, help="folds wanted (fewer when a class is rarer or the budget small)")
    p.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto",
                   help="size for a GPU or CPU machine (auto: torch.cuda.is_available())")
    p.add_argument("--force", action="store_true", help="overwrite the output file")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``foldwise init``; returns the exit status."""
    args = parser().parse_args(argv)
    out = Path(args.output)
    try:
        if out.exists() and not args.force:
            raise FoldwiseError(f"{out} exists: pass --force to overwrite it, or -o another file")
        if args.budget is not None and args.budget <= 0:
            raise FoldwiseError(f"--budget must be positive minutes, got {args.budget}")
        inf = infer(args.dir, n_splits=args.folds)
        gpu = has_gpu() if args.device == "auto" else args.device == "gpu"
        plan = size_plan(inf, args.preset, args.budget, gpu=gpu)
        command = "foldwise init " + shlex.join(argv if argv is not None else sys.argv[1:])
        text = render(inf, plan, command)
        print(f"foldwise init: read {args.dir}")
        print("\n".join(inf.notes.lines()))
        for line in plan.header:
            print(f"  {line}")
        for name, note in plan.notes.items():
            print(f"  model {name}: {note}")
        write_config(out, text)
    except FoldwiseError as exc:
        print(f"foldwise init: error: {exc}", file=sys.stderr)
        return 2
    todo = f"; set {', '.join(k for k, _ in inf.notes.todo)} first" if inf.notes.todo else ""
    print(f"wrote {out}{todo}. Run: snakemake --cores all --resources gpu=1"
          + ("" if out.name == "config.yaml" and out.parent == Path(".") else f" --configfile {out}"))
    return 0
