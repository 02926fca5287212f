"""Where the trainer's per-epoch overhead comes from: the bare loop of bench_trainer, one trainer ingredient at a time.

    python -m benchmarks.trainer_breakdown

Not part of the table (``python -m benchmarks``); run it when figure 3 moves.
Each variant adds one thing ``foldwise.train.train_fold`` does to the bare
loop; all variants run alternately in one process and the medians of training
seconds per epoch are compared with the bare loop.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.bench_trainer import BACKBONE, BATCH, LR, WD, digits_job  # noqa: E402
from benchmarks.common import SCRATCH, alternate, cores, median  # noqa: E402

VARIANTS = {
    "bare": set(),
    "+deterministic": {"det"},
    "+uint8 memmap batches": {"data"},
    "+timm optimizer": {"opt"},
    "+scheduler, loss.item()": {"sched"},
    "all of them": {"det", "data", "opt", "sched"},
}


def loop(paths, y, epochs: int, threads: int, parts: set) -> float:
    import torch
    import torch.nn.functional as F

    from foldwise.data import open_cache
    from foldwise.folds import load_folds
    from foldwise.models import create_model
    from foldwise.predict import Normalizer

    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms("det" in parts, warn_only=True)
    torch.manual_seed(0)
    tr, _ = load_folds(paths.folds)[0]
    images = open_cache(paths.train_cache)
    x_all = torch.from_numpy(np.asarray(images)).permute(0, 3, 1, 2).float().div_(255).sub_(0.5).div_(0.5)
    norm = Normalizer([0.5] * 3, [0.5] * 3, torch.device("cpu"))
    y_all = torch.from_numpy(y)
    model = create_model(BACKBONE, int(y.max()) + 1, in_chans=3)
    if "opt" in parts:
        from timm.optim import create_optimizer_v2

        opt = create_optimizer_v2(model, "adamw", lr=LR, weight_decay=WD)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    steps = len(tr) // BATCH
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(tr)).numpy()
        for s in range(steps):
            rows = tr[perm[s * BATCH : (s + 1) * BATCH]]
            if "data" in parts:
                rows = np.sort(rows)
                x = norm.normalize(norm.to_unit(images[rows]))
            else:
                x = x_all[torch.from_numpy(rows)]
            loss = F.cross_entropy(model(x), y_all[rows])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if "sched" in parts:
                sched.step()
                loss.item()
        times.append(time.perf_counter() - t0)
    torch.use_deterministic_algorithms(False)
    return median(times)


def main() -> None:
    paths, y = digits_job(SCRATCH / "trainer")
    threads = cores()
    s = alternate({name: (lambda p=parts: loop(paths, y, 2, threads, p)) for name, parts in VARIANTS.items()}, 3)
    base = median(s["bare"])
    for name in VARIANTS:
        print(f"{name:28s} {median(s[name]):.3f} s/epoch  {median(s[name]) / base:.3f}×  samples {[round(x, 3) for x in s[name]]}")


if __name__ == "__main__":
    main()
