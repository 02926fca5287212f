"""Where the trainer's per-epoch overhead comes from, step by step.

    python -m benchmarks.trainer_breakdown

Not part of the table (``python -m benchmarks``); run it when figure 3 moves.
Each thing ``foldwise.train.train_fold`` does per step beyond the bare loop of
``bench_trainer`` is timed against the bare loop's way of doing it, in tight
alternation (many repetitions, medians), so that small per-step costs stand
out of the noise of a shared machine:

- data: ``np.sort`` of the batch rows + fancy-indexing the uint8 memmap +
  ``ImageInputs.batch`` (uint8 -> normalised float), vs indexing a float tensor prepared once;
- deterministic: forward + backward + optimiser step with
  ``torch.use_deterministic_algorithms(True)`` vs without;
- optimiser: timm's ``create_optimizer_v2("adamw")`` (torch AdamW, two param
  groups) vs ``torch.optim.AdamW`` on all parameters;
- bookkeeping: ``LambdaLR.step()`` + ``loss.item()`` + the progress-bar call.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.bench_trainer import BACKBONE, BATCH, LR, WD, digits_job  # noqa: E402
from benchmarks.common import SCRATCH, alternate, cores, median  # noqa: E402


def main() -> None:
    import torch
    import torch.nn.functional as F
    from timm.optim import create_optimizer_v2

    from foldwise.io import open_cache
    from foldwise.folds import load_folds
    from foldwise.models.factory import create_model
    from foldwise.train.inputs import create_inputs
    from foldwise.train.loop import Progress as _Progress

    torch.set_num_threads(cores())
    paths, y = digits_job(SCRATCH / "trainer")
    tr, _ = load_folds(paths.folds)[0]
    images = open_cache(paths.train_cache)
    x_all = torch.from_numpy(np.array(images)).permute(0, 3, 1, 2).float().div_(255).sub_(0.5).div_(0.5)
    y_all = torch.from_numpy(y)
    inputs = create_inputs("images", images, torch.nn.Identity(), torch.device("cpu"), {})  # mean/std 0.5
    rng = np.random.default_rng(0)
    steps = len(tr) // BATCH

    def batches(k):
        return [tr[rng.permutation(len(tr))[:BATCH]] for _ in range(k)]

    def data_trainer(k=200):
        bs = batches(k)
        t0 = time.perf_counter()
        for rows in bs:
            inputs.batch(np.sort(rows))
        return (time.perf_counter() - t0) / k

    def data_bare(k=200):
        bs = [torch.from_numpy(b) for b in batches(k)]
        t0 = time.perf_counter()
        for rows in bs:
            x_all[rows]
        return (time.perf_counter() - t0) / k

    model = create_model(BACKBONE, int(y.max()) + 1, in_chans=3)
    opt_torch = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD)
    opt_timm = create_optimizer_v2(model, "adamw", lr=LR, weight_decay=WD)
    sched = torch.optim.lr_scheduler.LambdaLR(opt_timm, lambda s: 1.0)
    bar = _Progress(steps, "bench")
    x, t = x_all[torch.from_numpy(tr[:BATCH])], y_all[torch.from_numpy(tr[:BATCH])]

    def step(det: bool, opt, k=6):
        torch.use_deterministic_algorithms(det, warn_only=True)
        t0 = time.perf_counter()
        for _ in range(k):
            loss = F.cross_entropy(model(x), t)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        torch.use_deterministic_algorithms(False)
        return (time.perf_counter() - t0) / k

    def opt_only(opt, k=20):
        for p in model.parameters():
            p.grad = torch.randn_like(p) * 1e-3
        t0 = time.perf_counter()
        for _ in range(k):
            opt.step()
        return (time.perf_counter() - t0) / k

    def bookkeeping(k=200):
        loss = torch.tensor(1.0)
        t0 = time.perf_counter()
        for i in range(k):
            sched.step()
            loss.item()
            bar.update(i + 1, 1.0)
        return (time.perf_counter() - t0) / k

    s = alternate(
        {
            "data_trainer": data_trainer, "data_bare": data_bare,
            "step_det": lambda: step(True, opt_torch), "step_plain": lambda: step(False, opt_torch),
            "opt_timm": lambda: opt_only(opt_timm), "opt_torch": lambda: opt_only(opt_torch),
            "bookkeeping": bookkeeping,
        },
        7,
    )
    m = {k: median(v) for k, v in s.items()}
    base = m["step_plain"]
    print(f"bare step (fwd + bwd + AdamW, batch {BATCH}): {1e3 * base:.1f} ms; {steps} steps per epoch")
    for name, extra in [
        ("data path (uint8 memmap -> float)", m["data_trainer"] - m["data_bare"]),
        ("deterministic algorithms", m["step_det"] - m["step_plain"]),
        ("timm AdamW param groups", m["opt_timm"] - m["opt_torch"]),
        ("scheduler + loss.item() + progress", m["bookkeeping"]),
    ]:
        print(f"{name:38s} {1e3 * extra:+7.3f} ms/step  {100 * extra / base:+6.2f} % of a bare step")
    print({k: round(1e3 * v, 3) for k, v in m.items()}, "(ms, medians)")


if __name__ == "__main__":
    main()
