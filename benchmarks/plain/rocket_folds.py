"""The plain script a user would write instead of the pipeline: 5 stratified folds of the library's MultiRocket.

    python benchmarks/plain/rocket_folds.py COMPETITION_DIR OUT.csv

Reads the long-form series CSV (``id, step, channels...``) with pandas, fits
sktime's ``RocketClassifier(rocket_transform="multirocket")`` (6,250 kernels,
as the pipeline's ``multirocket`` family) on each fold's training rows,
averages the fold models' test probabilities and writes a submission.
"""

import argparse
import os

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold
from sklearn.linear_model import RidgeClassifierCV
from sklearn.preprocessing import StandardScaler
from sktime.transformations.rocket import MultiRocketMultivariate

p = argparse.ArgumentParser()
p.add_argument("root")
p.add_argument("out")
args = p.parse_args()


def series(name, ids):
    long = pd.read_csv(f"{args.root}/{name}", dtype={"id": str})
    channels = [c for c in long.columns if c not in ("id", "step")]
    long = long.set_index("id").loc[ids]
    n, t = len(ids), len(long) // len(ids)
    values = long.sort_values(["id", "step"], kind="stable")[channels].to_numpy(dtype=np.float64, copy=True)
    return np.ascontiguousarray(values.reshape(n, t, -1).transpose(0, 2, 1))


def softmax(z):
    z = np.exp(z - z.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


train, test = (pd.read_csv(f"{args.root}/{n}.csv", dtype={"id": str}) for n in ("train", "test"))
train_ids, test_ids = train["id"].astype(str).to_numpy(), test["id"].astype(str).to_numpy()
train.index, test.index = train_ids, test_ids
x = series("train_features.csv", sorted(train_ids))
x_test = series("test_features.csv", sorted(test_ids))
y = train.loc[sorted(train_ids), "label"].astype(str).to_numpy()
classes = np.unique(y)
oof, test_probs = np.zeros((len(x), len(classes))), np.zeros((len(x_test), len(classes)))
for fold, (tr, va) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y)):
    rocket = MultiRocketMultivariate(num_kernels=6250, n_jobs=os.cpu_count(), random_state=fold).fit(x[tr])
    scaler = StandardScaler().fit(f_tr := rocket.transform(x[tr]))
    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)).fit(scaler.transform(f_tr), y[tr])
    scores = [ridge.decision_function(scaler.transform(rocket.transform(v))) for v in (x[va], x_test)]
    oof[va] = softmax(scores[0])
    test_probs += softmax(scores[1]) / 5
    print(f"fold {fold}: {(classes[oof[va].argmax(1)] == y[va]).mean():.4f}", flush=True)
print(f"CV {(classes[oof.argmax(1)] == y).mean():.4f}")
pred = pd.Series(classes[test_probs.argmax(1)], index=sorted(test_ids)).loc[test_ids]
pd.DataFrame({"id": test_ids, "label": pred.to_numpy()}).to_csv(args.out, index=False)
