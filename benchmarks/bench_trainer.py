"""Figure 3: training samples/s of ``foldwise.train.train_fold`` vs a bare torch loop (CPU, real size).

Same timm model (``foldwise.models.create_model``), same cache, fold, batch
size, learning rate and ``torch.set_num_threads``; ``OMP_WAIT_POLICY=PASSIVE``
is set before torch loads. Augmentation is switched off in the trainer (it is
work, not overhead, and the bare loop has none). The headline compares
training alone (the trainer's own ``train_seconds``, which stops the clock
before validation); the notes add training + validation (``history.csv``
seconds vs the bare loop with an equal validation pass) and the whole job
(model creation, checkpoints, output files). Goal: >= 0.97× the bare loop's samples/s.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.common import SCRATCH, Result, alternate, cores, main_for, median  # noqa: E402

GOAL = 0.97  # issue 23: the trainer at >= 0.97x a bare loop's samples/s
BACKBONE, SIZE, BATCH, LR, WD = "resnet10t", 32, 64, 3e-3, 0.05


def warped_job(root, n_train: int = 6000, size: int = SIZE):
    """Real-derived data at a competition's size: 6,000 warped digits (``benchmarks.versus_script``) cached
    at ``size``² grayscale, 5 stratified folds; fold 0 trains on 4,800 rows and validates on 1,200."""
    import cv2

    from benchmarks.fold_setup import write_fold_inputs
    from benchmarks.versus_script import warped_digits
    from foldwise.folds import make_folds

    imgs, y = warped_digits(n_train, 256)["train"]
    arr = np.stack([cv2.resize(i, (size, size), interpolation=cv2.INTER_AREA) for i in imgs])[..., None]
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "train.npy", arr)
    np.save(root / "test.npy", arr[:256])
    folds = make_folds(y, "stratified", 5, 0)
    return write_fold_inputs(root, str(root / "train.npy"), str(root / "test.npy"), y, folds), y


def bare_loop(paths, y, epochs: int, threads: int, seed: int = 0) -> dict:
    """The ~30-line baseline: the same model and data, nothing but the loop."""
    import torch
    import torch.nn.functional as F

    from foldwise.folds import load_folds
    from foldwise.models.factory import create_model

    t_job = time.perf_counter()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    tr, va = load_folds(paths.folds)[0]
    model = create_model(BACKBONE, int(y.max()) + 1, in_chans=1)
    cfg = model.pretrained_cfg  # the same input normalisation as the trainer
    mean, std = (torch.tensor(cfg[k]).mean().view(1, 1, 1, 1) for k in ("mean", "std"))  # 1 channel
    x_all = (torch.from_numpy(np.load(paths.train_cache)).permute(0, 3, 1, 2).float().div_(255) - mean) / std
    y_all = torch.from_numpy(y)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD)
    steps = len(tr) // BATCH
    train_s, valid_s = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(tr))
        for s in range(steps):
            idx = torch.from_numpy(tr)[perm[s * BATCH : (s + 1) * BATCH]]
            loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        t1 = time.perf_counter()
        model.eval()
        with torch.no_grad():
            probs = torch.cat([model(x_all[va[i : i + 256]]).softmax(1) for i in range(0, len(va), 256)])
        (probs.argmax(1).numpy() == y[va]).mean()
        train_s.append(t1 - t0)
        valid_s.append(time.perf_counter() - t1)
    return {"train": train_s, "epoch": [a + b for a, b in zip(train_s, valid_s)], "job": time.perf_counter() - t_job}


def project_loop(paths, epochs: int, threads: int, flush_denormal: bool = False) -> dict:
    import pandas as pd
    import torch

    from benchmarks.fold_setup import reset_outputs
    from foldwise.train.fold import train_fold
    from foldwise.train.settings import TrainConfig

    reset_outputs(paths)
    cfg = TrainConfig(
        model="bench", backbone=BACKBONE, img_size=SIZE, epochs=epochs, batch_size=BATCH, lr=LR, weight_decay=WD,
        warmup_epochs=0, augment={"shift": 0, "scale": 0, "rotate": 0},
    )
    torch.set_flush_denormal(flush_denormal)
    t0 = time.perf_counter()
    summary = train_fold(cfg, paths, 0, "label", threads=threads)
    job = time.perf_counter() - t0
    torch.set_flush_denormal(False)
    torch.use_deterministic_algorithms(False)  # the trainer turns it on for the whole process
    hist = pd.read_csv(paths.history)
    return {"train": [summary["train_seconds"] / epochs] * epochs, "epoch": hist["seconds"].tolist(), "job": job}


def run(quick: bool = False) -> Result:
    # The real size: 4,800 training rows x 10 epochs, one thread (what each of the side-by-side fold jobs
    # gets on this machine by default, foldwise.runtime.scheduling); FOLDWISE_BENCH_THREADS overrides.
    epochs, repeats, n_train = (1, 1, 1200) if quick else (10, 2, 6000)
    threads = int(os.environ.get("FOLDWISE_BENCH_THREADS", "1"))
    paths, y = warped_job(SCRATCH / "trainer", n_train)
    runs: dict[str, list[dict]] = {"bare": [], "project": []}

    def side(name, fn):
        def inner():
            r = fn()
            runs[name].append(r)
            return sum(r["train"])

        return inner

    alternate(
        {"bare": side("bare", lambda: bare_loop(paths, y, epochs, threads)),
         "project": side("project", lambda: project_loop(paths, epochs, threads))},
        repeats, warmup=0,
    )

    def per_epoch(name, key):
        # mean over a run's epochs (the trainer reports only its total training time), median over runs
        return median([sum(r[key]) / len(r[key]) for r in runs[name]])

    rows = len(np.load(paths.train_cache, mmap_mode="r")) * 4 // 5
    sps = {k: (rows // BATCH) * BATCH / per_epoch(k, "train") for k in runs}
    tr = sps["project"] / sps["bare"]
    ep = per_epoch("bare", "epoch") / per_epoch("project", "epoch")
    job = median([r["job"] for r in runs["bare"]]) / median([r["job"] for r in runs["project"]])
    passed = tr >= GOAL
    notes = (
        f"6,000 warped digits (real-derived, `benchmarks.versus_script`) at {SIZE}² grayscale, fold 0 of 5 "
        f"({rows:,} training rows, {rows // BATCH} steps), `{BACKBONE}`, batch {BATCH}, AdamW, {threads} thread(s), "
        f"{epochs} epochs × {repeats} runs per side, alternating, medians. Training samples/s: "
        f"{sps['project']:.0f} (trainer) vs {sps['bare']:.0f} (bare loop). Training + validation per epoch "
        f"(history.csv seconds vs the bare loop with a batch-256 validation pass): **{ep:.3f}×** the bare loop's "
        f"speed. Whole job ({epochs} epochs, incl. model creation, per-epoch atomic checkpoints and output files): "
        f"{job:.3f}×."
    )
    return Result(
        key="trainer",
        figure="Trainer speed: training samples/s of `train_fold` ÷ a bare ~30-line torch loop (CPU, real size)",
        goal=f"≥ {GOAL}×",
        measured=f"{tr:.3f}×",
        passed=passed,
        notes=notes,
        details={"runs": runs, "train_ratio": tr, "epoch_ratio": ep, "job_ratio": job, "samples_per_s": sps},
    )


if __name__ == "__main__":
    main_for(run)
