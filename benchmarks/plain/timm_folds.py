"""The plain script a user would write instead of the pipeline: 5 stratified folds of a timm net.

    python benchmarks/plain/timm_folds.py COMPETITION_DIR OUT.csv [--epochs 10]

Reads the PNGs with OpenCV, trains ``resnet10t`` from scratch at 32² per fold
(AdamW, one warm-up epoch then cosine, batch 64, last epoch), averages the fold
models' test probabilities and writes a submission. Deliberately what a
competitor writes in an evening: no caching, no resuming, one process.
"""

import argparse
import math
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import cv2
import numpy as np
import pandas as pd
import timm
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold

p = argparse.ArgumentParser()
p.add_argument("root")
p.add_argument("out")
p.add_argument("--epochs", type=int, default=10)
args = p.parse_args()
torch.set_num_threads(os.cpu_count())
torch.manual_seed(0)
SIZE, BATCH, LR, WD = 32, 64, 3e-3, 0.05


def load(split, ids):
    imgs = [cv2.resize(cv2.imread(f"{args.root}/{split}_images/{i}.png", cv2.IMREAD_GRAYSCALE), (SIZE, SIZE))
            for i in ids]
    x = torch.from_numpy(np.stack(imgs)).float().div_(255).unsqueeze(1)
    return (x - 0.449) / 0.226  # timm's ImageNet mean/std, averaged over RGB


train, test = pd.read_csv(f"{args.root}/train.csv"), pd.read_csv(f"{args.root}/test.csv")
classes = sorted(train["label"].unique())
y = torch.tensor(train["label"].map({c: k for k, c in enumerate(classes)}).to_numpy())
x, x_test = load("train", train["id"]), load("test", test["id"])
oof, test_probs = torch.zeros(len(x), len(classes)), torch.zeros(len(x_test), len(classes))
for fold, (tr, va) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y)):
    model = timm.create_model("resnet10t", num_classes=len(classes), in_chans=1)
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD)
    steps = len(tr) // BATCH
    total = steps * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / steps if s < steps else 0.5 * (1 + math.cos(math.pi * (s - steps) / max(1, total - steps))))
    for epoch in range(args.epochs):
        model.train()
        perm = torch.from_numpy(tr)[torch.randperm(len(tr))]
        for s in range(steps):
            idx = perm[s * BATCH:(s + 1) * BATCH]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        oof[va] = torch.cat([model(x[va[i:i + 256]]).softmax(1) for i in range(0, len(va), 256)])
        test_probs += torch.cat([model(x_test[i:i + 256]).softmax(1) for i in range(0, len(x_test), 256)]) / 5
    print(f"fold {fold}: {(oof[va].argmax(1) == y[va]).float().mean():.4f}", flush=True)
print(f"CV {(oof.argmax(1) == y).float().mean():.4f}")
pd.DataFrame({"id": test["id"], "label": [classes[k] for k in test_probs.argmax(1)]}).to_csv(args.out, index=False)
