"""Figure 5: ``snakemake -n`` of the project's Snakefile vs a plain Snakefile with the same DAG.

A config of 10 models × 10 folds (one shared image size, one ensemble of all
models, a submission for each model and the ensemble) on a 200-image digits
competition. The plain Snakefile has the same rules, files and dependencies,
``touch`` as every action, and none of the project's config validation, code
hashes or raw-file checksums. Each dry run is a fresh ``snakemake`` process
(start-up included, as a user sees it). Goal: <= 1.5×.

The no-op check makes every output of the DAG (the plain Snakefile, run for
real), copies them to the project's directory, lets ``snakemake --touch``
record the project's params and code for them (what Snakemake compares on the
next plan, as after a real run) and then asks for a plan, which must be empty.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from benchmarks.common import REPO, SCRATCH, Result, alternate, main_for, median, sub_env

GOAL = 1.5

PLAIN = '''
MODELS = {models!r}
ENSEMBLES = {ensembles!r}
FOLDS = list(range({n_folds}))
NAMES = MODELS + ENSEMBLES
SIZE = {size}

wildcard_constraints:
    model="|".join(MODELS),
    ensemble="|".join(ENSEMBLES),
    name="|".join(NAMES),
    fold=r"\\d+",
    size=r"\\d+",
    split="train|test",

rule all:
    input: "results/leaderboard.csv", expand("results/submissions/{{name}}.csv", name=NAMES)

rule tables:
    output: "results/data/train.parquet", "results/data/classes.json"
    shell: "touch {{output}}"

rule test_table:
    output: "results/data/test.parquet"
    shell: "touch {{output}}"

rule cache:
    input: "results/data/{{split}}.parquet"
    output: "results/cache/{{size}}/{{split}}.npy"
    shell: "touch {{output}}"

rule folds:
    input: "results/data/train.parquet"
    output: "results/folds/folds.pkl"
    shell: "touch {{output}}"

rule train:
    input:
        "results/data/train.parquet", "results/data/classes.json",
        "results/folds/folds.pkl", f"results/cache/{{SIZE}}/train.npy",
    output:
        expand("results/models/{{{{model}}}}/fold{{{{fold}}}}/{{f}}",
               f=["oof.parquet", "history.csv", "best.pt", "metrics.json"]),
    resources: gpu=1
    shell: "touch {{output}}"

rule predict:
    input:
        "results/models/{{model}}/fold{{fold}}/best.pt", "results/data/classes.json", "results/folds/folds.pkl",
        f"results/cache/{{SIZE}}/train.npy", f"results/cache/{{SIZE}}/test.npy", "results/data/test.parquet",
    output: "results/models/{{model}}/fold{{fold}}/test.parquet"
    resources: gpu=1
    shell: "touch {{output}}"

rule gather:
    input:
        lambda w: expand("results/models/{{model}}/fold{{fold}}/{{f}}", model=w.model, fold=FOLDS,
                         f=["oof.parquet", "test.parquet", "metrics.json"]),
        "results/folds/folds.pkl", "results/data/train.parquet", "results/data/classes.json",
    output:
        "results/oof/{{model}}.parquet", "results/test/{{model}}.parquet", "results/scores/{{model}}.json",
        "results/models/{{model}}/manifest.json",
    shell: "touch {{output}}"

rule ensemble:
    input:
        expand("results/oof/{{m}}.parquet", m=MODELS), expand("results/test/{{m}}.parquet", m=MODELS),
        "results/data/classes.json",
    output:
        expand("results/ensembles/{{{{ensemble}}}}/{{f}}", f=["oof.parquet", "test.parquet", "weights.json", "scores.json"]),
    shell: "touch {{output}}"

rule submission:
    input:
        lambda w: f"results/test/{{w.name}}.parquet" if w.name in MODELS else f"results/ensembles/{{w.name}}/test.parquet",
        "results/data/classes.json",
    output: "results/submissions/{{name}}.csv", "results/submissions/{{name}}.json"
    shell: "touch {{output}}"

rule leaderboard:
    input:
        expand("results/scores/{{m}}.json", m=MODELS), expand("results/ensembles/{{e}}/scores.json", e=ENSEMBLES),
        expand("results/submissions/{{n}}.json", n=NAMES),
    output: "results/leaderboard.csv"
    shell: "touch {{output}}"
'''


def make_config(data_dir: Path, n_models: int, n_folds: int, size: int = 32) -> dict:
    backbones = ["resnet10t", "convnext_atto", "resnet18", "efficientnet_b0", "mobilenetv3_small_100"]
    return {
        "seed": 42,
        "metric": "accuracy",
        "data": {"dir": str(data_dir), "solution": "solution.csv", "channels": 1},
        "folds": {"scheme": "stratified", "n_splits": n_folds, "seed": 42},
        "models": {
            f"m{i:02d}": {"backbone": backbones[i % len(backbones)], "img_size": size, "epochs": 10, "lr": 0.001 * (1 + i)}
            for i in range(n_models)
        },
        "ensembles": {"blend": {"method": "optimize"}},
    }


def snakemake(snakefile: Path, work: Path, *args: str, configfile: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(work),
           "--cores", "2", "--resources", "gpu=1", *args]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=sub_env(1), timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc


def planned_jobs(proc: subprocess.CompletedProcess) -> int:
    """Jobs in a dry run's plan (its ``Job stats`` total), 0 for 'Nothing to be done'."""
    text = proc.stdout + proc.stderr
    m = re.search(r"^total\s+(\d+)", text, re.M)
    if m:
        return int(m.group(1))
    if "Nothing to be done" in text:
        return 0
    raise RuntimeError(f"cannot read the plan:\n{text[-2000:]}")


def run(quick: bool = False) -> Result:
    from foldwise.demo import make_digits_competition

    n_models, n_folds, repeats = (2, 2, 1) if quick else (10, 10, 3)
    root = SCRATCH / f"planning_{n_models}x{n_folds}"
    shutil.rmtree(root, ignore_errors=True)
    data = root / "data"
    make_digits_competition(data, limit=200)
    cfg = make_config(data, n_models, n_folds)
    project_work, plain_work = root / "project", root / "plain"
    project_work.mkdir(parents=True)
    plain_work.mkdir(parents=True)
    cfg_path = project_work / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    plain = plain_work / "Snakefile"
    plain.write_text(PLAIN.format(models=list(cfg["models"]), ensembles=list(cfg["ensembles"]), n_folds=n_folds, size=32))

    jobs = {}

    def dry(name, snakefile, work, configfile=None):
        def inner():
            t0 = time.perf_counter()
            proc = snakemake(snakefile, work, "-n", configfile=configfile)
            dt = time.perf_counter() - t0
            jobs[name] = planned_jobs(proc)
            return dt

        return inner

    project_sf = REPO / "Snakefile"
    s = alternate({"project": dry("project", project_sf, project_work, cfg_path), "plain": dry("plain", plain, plain_work)}, repeats)
    if jobs["project"] != jobs["plain"]:
        raise RuntimeError(f"the plain Snakefile plans {jobs['plain']} jobs, the project {jobs['project']}")
    ratio = median(s["project"]) / median(s["plain"])

    # No-op re-run: make every file with the plain Snakefile's touch actions,
    # give the project the same files (in the same time order), let Snakemake
    # record the project's params and code for them (--touch), then plan again.
    snakemake(plain, plain_work)
    shutil.copytree(plain_work / "results", project_work / "results", copy_function=shutil.copy2)
    snakemake(project_sf, project_work, "--touch", configfile=cfg_path)
    noop = alternate({"project": dry("project_noop", project_sf, project_work, cfg_path),
                      "plain": dry("plain_noop", plain, plain_work)}, repeats, warmup=0)
    noop_ratio = median(noop["project"]) / median(noop["plain"])

    # How many jobs the shipped config (config.yaml: 2 models x 5 folds) creates.
    typical_work = root / "typical"
    typical_work.mkdir()
    shipped = yaml.safe_load((REPO / "config.yaml").read_text())
    shipped["data"]["dir"] = str(data)
    (typical_work / "config.yaml").write_text(yaml.safe_dump(shipped, sort_keys=False))
    typical = planned_jobs(snakemake(project_sf, typical_work, "-n", configfile=typical_work / "config.yaml"))
    n_typ_models, n_typ_folds = len(shipped["models"]), shipped["folds"]["n_splits"]

    passed = ratio <= GOAL and jobs["project_noop"] == 0
    notes = (
        f"{n_models} models × {n_folds} folds → {jobs['project']} jobs planned by both Snakefiles "
        f"(fresh process per dry run, medians of {repeats}): project {median(s['project']):.2f} s, plain "
        f"{median(s['plain']):.2f} s. **No-op re-run: the project plans {jobs['project_noop']} jobs** "
        f"(plain: {jobs['plain_noop']}), in {median(noop['project']):.2f} s vs {median(noop['plain']):.2f} s "
        f"({noop_ratio:.2f}×). The shipped `config.yaml` ({n_typ_models} models × {n_typ_folds} folds, 1 ensemble) "
        f"plans {typical} jobs; in general M models × F folds with E ensembles make "
        f"2·M·F train and predict + M gather + E ensemble + (M+E) submission + 2 tables + 2 cache (per image size) + folds + leaderboard + all jobs."
    )
    return Result(
        key="planning",
        figure="Planning: `snakemake -n`, 10 models × 10 folds, project Snakefile ÷ plain Snakefile with the same DAG; no-op re-run plans 0 jobs",
        goal=f"≤ {GOAL}×; 0 jobs",
        measured=f"{ratio:.2f}×; {jobs['project_noop']} jobs",
        passed=passed,
        notes=notes,
        details={"samples": s, "noop": noop, "jobs": jobs, "typical_jobs": typical, "ratio": ratio, "noop_ratio": noop_ratio},
    )


if __name__ == "__main__":
    main_for(run)
