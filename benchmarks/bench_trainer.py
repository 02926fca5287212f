"""Figure 3: per-epoch time of ``foldwise.train.train_fold`` vs a bare torch loop (CPU).

Same timm model (``foldwise.models.create_model``), same cache, fold, batch
size, learning rate and ``torch.set_num_threads``; ``OMP_WAIT_POLICY=PASSIVE``
is set before torch loads. Augmentation is switched off in the trainer (it is
work, not overhead, and the bare loop has none). The headline compares
training alone (the trainer's own ``train_seconds``, which stops the clock
before validation); the notes add training + validation (``history.csv``
seconds vs the bare loop with an equal validation pass) and the whole job
(model creation, checkpoints, test prediction, output files). Goal: <= 1.05×.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.common import SCRATCH, Result, alternate, cores, main_for, median  # noqa: E402

GOAL = 1.05
BACKBONE, SIZE, BATCH, LR, WD = "resnet10t", 32, 64, 3e-3, 0.05


def digits_job(root):
    """Real data: scikit-learn's 1,797 digits, cached at SIZE² RGB; 5 stratified folds, fold 0."""
    from sklearn.datasets import load_digits

    import cv2

    from benchmarks.fold_setup import write_fold_inputs
    from foldwise.folds import make_folds

    d = load_digits()
    imgs = np.clip(d.images * 16, 0, 255).astype(np.uint8)
    big = np.stack([cv2.resize(i, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR) for i in imgs])
    arr = np.repeat(big[..., None], 3, axis=-1)
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "train.npy", arr)
    np.save(root / "test.npy", arr[:256])
    y = d.target.astype(np.int64)
    return write_fold_inputs(root, str(root / "train.npy"), str(root / "test.npy"), y, make_folds(y, "stratified", 5, 0)), y


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
    model = create_model(BACKBONE, int(y.max()) + 1, in_chans=3)
    cfg = model.pretrained_cfg  # the same input normalisation as the trainer
    mean, std = (torch.tensor(cfg[k]).view(1, -1, 1, 1) for k in ("mean", "std"))
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
    epochs, repeats = (1, 1) if quick else (3, 4)
    threads = cores()
    paths, y = digits_job(SCRATCH / "trainer")
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
        repeats,
    )
    runs = {k: v[1:] for k, v in runs.items()}  # drop the warm-up round

    def per_epoch(name, key):
        # mean over a run's epochs (the trainer reports only its total training time), median over runs
        return median([sum(r[key]) / len(r[key]) for r in runs[name]])

    tr = per_epoch("project", "train") / per_epoch("bare", "train")
    ep = per_epoch("project", "epoch") / per_epoch("bare", "epoch")
    job = median([r["job"] for r in runs["project"]]) / median([r["job"] for r in runs["bare"]])
    passed = tr <= GOAL
    notes = (
        f"digits (1,797 real images) at {SIZE}² RGB, fold 0 of 5 (1,437 training rows, {1437 // BATCH} steps), "
        f"`{BACKBONE}`, batch {BATCH}, AdamW, {threads} threads, {epochs} epochs × {repeats} runs per side, medians. "
        f"Training only: {per_epoch('project', 'train'):.3f} s vs {per_epoch('bare', 'train'):.3f} s per epoch. "
        f"Training + validation (history.csv seconds vs the bare loop with a batch-256 validation pass): **{ep:.2f}×**. "
        f"Whole job ({epochs} epochs, incl. model creation, per-epoch atomic checkpoints, test prediction and output files): {job:.2f}×."
    )
    if not passed:
        notes += (
            " Why the miss (see BENCHMARKS.md, 'Trainer overhead, step by step'): the loop's own additions — uint8-memmap "
            "batches, timm's AdamW param groups, scheduler, `loss.item()`, progress bar — cost < 0.2 % of a step each. "
            "`torch.use_deterministic_algorithms` (+2.7 % of a step in a tight loop) is now on for CUDA only, and the "
            "re-measured ratio did not move (1.13× before and after), so it was not the cause. One remaining difference: "
            "the bare loop's inputs keep the channels-last strides of the NHWC cache (a permuted view), while the trainer "
            "copies each batch to contiguous NCHW; a direct fwd+bwd timing of both layouts on this machine was within its "
            "noise (137 vs 137-155 ms). What would close it: a profile (py-spy) of both loops on a quiet machine."
        )
    return Result(
        key="trainer",
        figure="Trainer overhead: training seconds per epoch, `train_fold` ÷ bare ~30-line torch loop (CPU)",
        goal=f"≤ {GOAL}×",
        measured=f"{tr:.3f}×",
        passed=passed,
        notes=notes,
        details={"runs": runs, "train_ratio": tr, "epoch_ratio": ep, "job_ratio": job},
    )


if __name__ == "__main__":
    main_for(run)
