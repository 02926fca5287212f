"""GPU benchmark: the foldwise trainer vs a bare timm training step, and the memmap data path.

Run on a CUDA machine:  ``python benchmarks/bench_gpu.py [--model resnet50] [--size 224] [--batch 128]``.
It prints one JSON object with the device name and three figures:

- ``trainer_samples_per_s``: ``foldwise.train.train_fold`` on a synthetic uint8
  memmap cache (bf16 autocast, channels_last, batch augmentation on the device);
- ``bare_samples_per_s``: a bare timm forward/backward/AdamW step on the same
  model and batch size with the batch already on the GPU;
- ``data_samples_per_s``: batches from the memmap cache to normalised device
  tensors (random order, augmentation on), without the model.

Without CUDA it says so and exits 0: the committed table then records that the
figure has not been measured on a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def bare_step_rate(model_name: str, size: int, batch: int, steps: int) -> float:
    import timm
    import torch

    model = timm.create_model(model_name, num_classes=10).cuda().to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, size, size, device="cuda").to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device="cuda")
    for i in range(steps + 5):
        if i == 5:
            torch.cuda.synchronize()
            t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - t0)


def write_competition(root: Path, n: int, size: int):
    import numpy as np
    import pandas as pd

    from foldwise.folds import make_folds, save_folds
    from foldwise.io import write_json

    rng = np.random.default_rng(0)
    cache = np.lib.format.open_memmap(root / "train.npy", mode="w+", dtype=np.uint8, shape=(n, size, size, 3))
    for s in range(0, n, 512):
        cache[s : s + 512] = rng.integers(0, 256, (min(512, n - s), size, size, 3), dtype=np.uint8)
    cache.flush()
    np.save(root / "test.npy", np.asarray(cache[:256]))
    y = np.arange(n) % 10
    pd.DataFrame({"row": np.arange(n), "id": [f"i{i}" for i in range(n)], "label": y.astype(str)}).to_parquet(root / "train.parquet")
    pd.DataFrame({"row": np.arange(256), "id": [f"t{i}" for i in range(256)]}).to_parquet(root / "test.parquet")
    write_json(root / "classes.json", {"classes": [str(c) for c in range(10)]})
    save_folds(make_folds(y, "stratified", 5, seed=0), root / "folds.pkl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rows", type=int, default=6400)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print(json.dumps({"device": None, "note": "not measured: no CUDA device"}))
        return 0
    from foldwise.train.inputs import create_inputs
    from foldwise.jobs.paths import TrainPaths
    from foldwise.train.fold import train_fold
    from foldwise.train.settings import TrainConfig

    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_competition(root, args.rows, args.size)
        cfg = TrainConfig(model="bench", backbone=args.model, img_size=args.size, epochs=2, batch_size=args.batch,
                          deterministic=False, augment={"hflip": 0.5})
        paths = TrainPaths(str(root / "train.parquet"), str(root / "classes.json"), str(root / "folds.pkl"),
                          str(root / "train.npy"), str(root / "oof.parquet"), str(root / "h.csv"),
                          str(root / "w.pt"), str(root / "ckpt"))
        summary = train_fold(cfg, paths, 0, "label", threads=8)
        data = np.load(root / "train.npy", mmap_mode="r")
        inputs = create_inputs("images", data, torch.nn.Identity(), torch.device("cuda"), {"hflip": 0.5})
        gen, order = torch.Generator().manual_seed(0), np.random.default_rng(0).permutation(len(data))
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for s in range(0, len(order), args.batch):
            inputs.batch(np.sort(order[s : s + args.batch]), gen)
        torch.cuda.synchronize()
        data_rate = len(order) / (time.perf_counter() - t0)
    bare = bare_step_rate(args.model, args.size, args.batch, steps=30)
    print(json.dumps({
        "device": torch.cuda.get_device_name(0), "model": args.model, "size": args.size, "batch": args.batch,
        "trainer_samples_per_s": summary["samples_per_second"], "bare_samples_per_s": bare,
        "trainer_vs_bare": summary["samples_per_second"] / bare, "data_samples_per_s": data_rate,
        "peak_gpu_memory_mb": summary["peak_gpu_memory_mb"],
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
