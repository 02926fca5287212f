"""The training techniques on tiny data: pseudo-labels, test-time views, MixUp/CutMix, the weight average,
staged unfreezing, the photometric augmentations and the ArcFace head, each alone and inside ``train_fold``."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn as nn

from foldwise.io import write_parquet
from foldwise.jobs.paths import PredictPaths
from foldwise.models.arcface import ArcFaceNet, arc_margin_logits, knn_proba
from foldwise.models.factory import create_model
from foldwise.oof import gather_model
from foldwise.train import fold as fold_module
from foldwise.train.degrade import brightness_contrast, gaussian_blur, jpeg_compress
from foldwise.train.augment import AugmentConfig, BatchAugment
from foldwise.train.ema import EmaConfig, WeightAverage
from foldwise.train.fold import train_fold
from foldwise.train.freeze import FreezeConfig, Freezer, backbone_names, create_optimizer
from foldwise.train.infer import predict_test_fold
from foldwise.train.mixing import BatchMixer, MixConfig
from foldwise.train.pseudo import PseudoConfig, StackedCache, select_pseudo, stack_targets
from foldwise.train.tta import translate, tta_views

from .test_training import _cfg, _fold_paths, _series, mean_linear  # noqa: F401 - mean_linear is a fixture

torch.set_num_threads(1)


# --- pseudo-labels ------------------------------------------------------------------------------------


def test_select_pseudo_by_threshold_and_top_fraction():
    probs = np.array([[0.95, 0.05], [0.6, 0.4], [0.99, 0.01], [0.2, 0.8], [0.08, 0.92], [0.97, 0.03]])
    hard = select_pseudo(probs, PseudoConfig(threshold=0.9))
    assert hard.rows.tolist() == [0, 2, 4, 5]
    np.testing.assert_array_equal(hard.targets, [[1, 0], [1, 0], [0, 1], [1, 0]])
    soft = select_pseudo(probs, PseudoConfig(threshold=0.9, labels="soft"))
    np.testing.assert_allclose(soft.targets, probs[[0, 2, 4, 5]], rtol=1e-6)
    # class 0 has 4 predicted rows -> ceil(0.5 * 4) = 2 (the two most confident); class 1 has 2 -> 1
    top = select_pseudo(probs, PseudoConfig(threshold=0.0, top_fraction=0.5))
    assert top.rows.tolist() == [2, 4, 5]
    assert select_pseudo(probs, PseudoConfig(threshold=0.999)).rows.tolist() == []


def test_select_pseudo_multilabel_needs_every_label_certain():
    probs = np.array([[0.95, 0.02], [0.95, 0.5], [0.01, 0.99]])
    got = select_pseudo(probs, PseudoConfig(threshold=0.9), multilabel=True)
    assert got.rows.tolist() == [0, 2]
    np.testing.assert_array_equal(got.targets, [[1, 0], [0, 1]])
    soft = select_pseudo(probs, PseudoConfig(threshold=0.9, labels="soft"), multilabel=True)
    np.testing.assert_allclose(soft.targets, probs[[0, 2]], rtol=1e-6)


def test_stacked_cache_and_targets():
    a, b = np.arange(12).reshape(4, 3), 100 + np.arange(6).reshape(2, 3)
    stacked = StackedCache(a, b)
    assert stacked.shape == (6, 3) and len(stacked) == 6
    np.testing.assert_array_equal(stacked[np.array([1, 4, 5])], [a[1], b[0], b[1]])
    pseudo = select_pseudo(np.array([[0.1, 0.9], [0.5, 0.5]]), PseudoConfig(threshold=0.8))
    np.testing.assert_array_equal(stack_targets(np.array([0, 1, 1, 0]), 2, 2, pseudo, dense=False), [0, 1, 1, 0, 1, -1])
    dense = stack_targets(np.array([0, 1, 1, 0]), 2, 2, pseudo, dense=True)
    np.testing.assert_array_equal(dense, [[1, 0], [0, 1], [0, 1], [1, 0], [0, 1], [0, 0]])


def _with_teacher(paths, root, test: np.ndarray, probs: np.ndarray, classes):
    np.save(root / "test.npy", test)
    ids = [f"t{i}" for i in range(len(test))]
    write_parquet(pd.DataFrame({"row": np.arange(len(test)), "id": ids}), root / "test.parquet")
    teacher = pd.DataFrame({"id": ids, **{f"prob_{c}": probs[:, i] for i, c in enumerate(classes)}})
    write_parquet(teacher, root / "teacher.parquet")
    return dataclasses.replace(paths, teacher=str(root / "teacher.parquet"), test_cache=str(root / "test.npy"),
                               test_table=str(root / "test.parquet"))


@pytest.mark.parametrize("task, labels", [("multiclass", "hard"), ("multiclass", "soft"), ("multilabel", "hard")])
def test_pseudo_labels_train_but_never_enter_a_validation_fold(tmp_path, mean_linear, monkeypatch, task, labels):
    from foldwise.tasks import LABEL_SEP

    x, y, folds = _series(n=40)
    paths = _fold_paths(tmp_path, x, y, folds)
    classes = ["c0", "c1", "c2"]
    if task == "multilabel":  # every other row carries c2 as well
        table = pd.read_parquet(paths.train_table)
        table["label"] = [f"c{v}" + (f"{LABEL_SEP}c2" if i % 2 and v != 2 else "") for i, v in enumerate(y)]
        write_parquet(table, paths.train_table)
    test = x[:10] + 0.1
    rng = np.random.default_rng(1)
    probs = rng.dirichlet([0.3] * 3, 10) if task == "multiclass" else rng.choice([0.02, 0.98], (10, 3))
    paths = _with_teacher(paths, tmp_path, test, probs, classes)
    seen = []
    real = fold_module.train_one_epoch
    monkeypatch.setattr(fold_module, "train_one_epoch",
                        lambda net, inputs, batches, targets, *a, **k: seen.append((batches, targets))
                        or real(net, inputs, batches, targets, *a, **k))
    cfg = _cfg(mean_linear, epochs=2, task=task, teacher="t", pseudo={"threshold": 0.6, "labels": labels},
               metric="accuracy" if task == "multiclass" else "micro_f1", batch_size=4)
    summary = train_fold(cfg, paths, 0, "label")
    tr, va = folds[0]
    expected = select_pseudo(probs, PseudoConfig(threshold=0.6, labels=labels), multilabel=task == "multilabel")
    assert summary["pseudo_rows"] == len(expected.rows) > 0
    rows = np.concatenate([b for batches, _ in seen for b in batches])
    assert not set(rows) & set(va)  # no validation row is ever trained on
    assert set(rows) <= set(tr) | set(40 + expected.rows)
    assert set(rows) >= set(40 + expected.rows)  # every selected test row is trained on
    targets = seen[0][1].numpy()
    got = targets[40 + expected.rows]
    want = expected.targets if targets.ndim == 2 else expected.targets.argmax(1)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert sorted(pd.read_parquet(paths.oof)["row"]) == sorted(va)  # the OOF covers exactly the fold's rows


def test_a_different_teacher_is_a_different_run(tmp_path, mean_linear, caplog):
    x, y, folds = _series(n=24)
    paths = _with_teacher(_fold_paths(tmp_path, x, y, folds), tmp_path, x[:6], np.eye(3)[np.arange(6) % 3], ["c0", "c1", "c2"])
    cfg = _cfg(mean_linear, epochs=1, teacher="t")
    train_fold(cfg, paths, 0, "label")
    teacher = pd.read_parquet(paths.teacher)
    teacher[["prob_c0", "prob_c1"]] = teacher[["prob_c1", "prob_c0"]].to_numpy()
    write_parquet(teacher, paths.teacher)
    with caplog.at_level(logging.INFO, logger="foldwise"):
        train_fold(cfg, paths, 0, "label")
    assert "ignoring checkpoint" in caplog.text and "resuming" not in caplog.text


# --- test-time views ------------------------------------------------------------------------------------


def test_translate_fills_with_black_and_views_are_listed_in_order():
    x = torch.arange(1, 10, dtype=torch.float32).view(1, 1, 3, 3)
    assert translate(x, 0, 1)[0, 0].tolist() == [[0, 1, 2], [0, 4, 5], [0, 7, 8]]
    assert translate(x, -1, 0)[0, 0].tolist() == [[4, 5, 6], [7, 8, 9], [0, 0, 0]]
    names = [v.name for v in tta_views(["hflip", "shift"], "images")]
    assert names == ["identity", "hflip", "shift_left", "shift_right", "shift_up", "shift_down"]
    assert [v.name for v in tta_views(["roll"], "timeseries")] == ["identity", "roll_back", "roll_forth"]


@pytest.mark.parametrize("head", ["linear", "arcface"])
def test_tta_oof_equals_the_test_path_on_the_same_rows(tmp_path, monkeypatch, head):
    from foldwise.train import infer

    monkeypatch.setattr(infer, "select_device", lambda: torch.device("cpu"))
    rng = np.random.default_rng(0)
    y = np.arange(24) % 3
    x = rng.integers(0, 256, (24, 12, 12, 1), dtype=np.uint8)
    folds = [(np.arange(24)[np.arange(24) % 2 == 0], np.arange(24)[np.arange(24) % 2 == 1])]
    paths = _fold_paths(tmp_path, x, y, folds)
    cfg = _cfg("test_resnet", kind="images", epochs=2, tta=["hflip", "vflip", "shift"], ema={"decay": 0.9},
               head={"kind": head, "embedding_size": 8}, augment={})
    train_fold(cfg, paths, 0, "label")
    va = folds[0][1]
    np.save(tmp_path / "test.npy", x[va])  # the validation rows again, as a test set
    write_parquet(pd.DataFrame({"row": np.arange(len(va)), "id": [f"t{i}" for i in va]}), tmp_path / "test.parquet")
    pp = PredictPaths(weights=paths.weights, classes=paths.classes, folds=paths.folds, train_cache=paths.train_cache,
                      test_cache=str(tmp_path / "test.npy"), test_table=str(tmp_path / "test.parquet"),
                      test=str(tmp_path / "pred.parquet"), train_table=paths.train_table)
    predict_test_fold(cfg, pp, 0)
    oof = pd.read_parquet(paths.oof)
    test = pd.read_parquet(pp.test)
    cols = [c for c in test.columns if c.startswith("prob_")]
    np.testing.assert_allclose(oof[cols].to_numpy(), test[cols].to_numpy(), rtol=1e-5, atol=1e-6)
    plain = oof[[f"plain_{c}" for c in cols]].to_numpy()
    assert np.abs(plain - oof[cols].to_numpy()).max() > 1e-4  # the views changed the predictions
    no_tta = _cfg("test_resnet", kind="images", head={"kind": head, "embedding_size": 8})
    predict_test_fold(no_tta, pp, 0)  # the same weights without views: the plain columns
    np.testing.assert_allclose(plain, pd.read_parquet(pp.test)[cols].to_numpy(), rtol=1e-5, atol=1e-6)


def test_gather_scores_with_and_without_tta_and_keeps_the_contract(tmp_path):
    from foldwise.folds import save_folds
    from foldwise.io import read_json

    folds = [(np.array([2, 3]), np.array([0, 1])), (np.array([0, 1]), np.array([2, 3]))]
    save_folds(folds, str(tmp_path / "folds.pkl"))
    from foldwise.io import sha256_file

    meta = {"folds_sha256": sha256_file(tmp_path / "folds.pkl"), "config_sha256": "c"}
    oofs, tests = [], []
    for k, (_, va) in enumerate(folds):
        oof = pd.DataFrame({"row": va, "id": [f"r{i}" for i in va], "fold": k, "label": ["a", "b"],
                            "prob_a": [0.9, 0.2], "prob_b": [0.1, 0.8],  # with TTA: both right
                            "plain_prob_a": [0.9, 0.7], "plain_prob_b": [0.1, 0.3]})  # without: one wrong
        oofs.append(str(tmp_path / f"oof{k}.parquet"))
        tests.append(str(tmp_path / f"test{k}.parquet"))
        write_parquet(oof, oofs[-1], meta)
        write_parquet(pd.DataFrame({"id": ["t"], "prob_a": [0.5], "prob_b": [0.5]}), tests[-1], meta)
    out = tmp_path / "m"
    gather_model("m", oofs, tests, str(tmp_path / "folds.pkl"), 4, ["a", "b"], "label", "accuracy",
                 str(out / "oof.parquet"), str(out / "test.parquet"), str(out / "scores.json"))
    scores = read_json(out / "scores.json")
    assert scores["cv"] == 1.0 and scores["cv_no_tta"] == 0.5 and scores["folds_no_tta"] == [0.5, 0.5]
    assert list(pd.read_parquet(out / "oof.parquet").columns) == ["id", "fold", "label", "prob_a", "prob_b"]


# --- MixUp / CutMix ----------------------------------------------------------------------------------------


def test_mixer_is_seeded_by_the_generator_and_leaves_numpy_alone():
    mixer = BatchMixer(MixConfig(mixup_alpha=0.4, cutmix_alpha=1.0, mode="elem"), 3)
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = mixer(x.clone(), y, torch.Generator().manual_seed(5))
    b = mixer(x.clone(), y, torch.Generator().manual_seed(5))
    assert np.array_equal(np.random.get_state()[1], before)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], x)
    np.testing.assert_allclose(a[1].sum(1).numpy(), 1.0, rtol=1e-6)  # mixed one-hot rows stay distributions


def test_multilabel_mixup_weighs_the_union_of_both_rows_labels():
    mixer = BatchMixer(MixConfig(mixup_alpha=1.0), 3)
    x = torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]], dtype=torch.float32)
    mixed, target = mixer(x.clone(), y, torch.Generator().manual_seed(3))
    lam = float(((mixed - x.flip(0)) / (x - x.flip(0)))[0].flatten()[0])  # batch mode: one weight
    np.testing.assert_allclose(target.numpy(), (lam * y + (1 - lam) * y.flip(0)).numpy(), rtol=1e-5)
    assert target[0, 0] == pytest.approx(1.0)  # a label both rows carry keeps weight 1


def test_an_odd_batch_keeps_its_last_row_and_mixing_stops_for_the_last_epochs():
    mixer = BatchMixer(MixConfig(mixup_alpha=1.0), 2)
    x = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    mixed, target = mixer(x.clone(), torch.tensor([0, 1, 0, 1, 1]), torch.Generator().manual_seed(1))
    assert torch.equal(mixed[4], x[4]) and target[4].tolist() == [0.0, 1.0]
    cfg = MixConfig(mixup_alpha=0.2, off_last_epochs=2)
    assert [cfg.active(e, 5) for e in range(1, 6)] == [True, True, True, False, False]
    assert not MixConfig().active(1, 5)


def test_train_fold_mixes_until_the_last_epochs(tmp_path, mean_linear, monkeypatch):
    x, y, folds = _series()
    mixes = []
    real = fold_module.train_one_epoch
    monkeypatch.setattr(fold_module, "train_one_epoch", lambda *a, **k: mixes.append(k["mix"]) or real(*a, **k))
    train_fold(_cfg(mean_linear, epochs=3, mix={"mixup_alpha": 0.4, "off_last_epochs": 1}),
               _fold_paths(tmp_path, x, y, folds), 0, "label")
    assert [m is not None for m in mixes] == [True, True, False]


# --- the weight average ------------------------------------------------------------------------------------


def test_weight_average_follows_timm_and_round_trips():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    avg = WeightAverage(model, EmaConfig(decay=0.5, warmup=False))
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    avg.update(model, step=1)  # timm: the first step copies
    assert torch.equal(avg.module.weight, model.weight)
    with torch.no_grad():
        model.weight.add_(2.0)
    avg.update(model, step=2)
    torch.testing.assert_close(avg.module.weight, start + 1.0 + 0.5 * 2.0)
    other = WeightAverage(nn.Linear(3, 2), EmaConfig(decay=0.5))
    other.load_state_dict(avg.state_dict())
    assert torch.equal(other.module.weight, avg.module.weight)


class _Killed(Exception):
    pass


def test_a_killed_job_with_ema_resumes_byte_identically(tmp_path, mean_linear, monkeypatch):
    x, y, folds = _series()
    cfg = _cfg(mean_linear, epochs=4, ema={"decay": 0.9}, mix={"mixup_alpha": 0.4}, augment={"noise": 0.1})
    clean = _fold_paths(tmp_path / "clean", x, y, folds)
    train_fold(cfg, clean, 0, "label")
    killed = _fold_paths(tmp_path / "killed", x, y, folds)
    real_save = fold_module.save_checkpoint

    def save_then_die(path, state, *args):
        real_save(path, state, *args)
        if state["epoch"] == 2:
            raise _Killed

    monkeypatch.setattr(fold_module, "save_checkpoint", save_then_die)
    with pytest.raises(_Killed):
        train_fold(cfg, killed, 0, "label")
    monkeypatch.setattr(fold_module, "save_checkpoint", real_save)
    train_fold(cfg, killed, 0, "label")
    assert open(clean.oof, "rb").read() == open(killed.oof, "rb").read()
    a, b = (torch.load(p.weights, weights_only=True) for p in (clean, killed))  # zip member names vary
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    a, b = pd.read_csv(clean.history), pd.read_csv(killed.history)
    assert (a["weights"] == "ema").any(), "the average was never the better weights: the test would not cover it"
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"))
    assert {"weights", "valid_accuracy_raw", "valid_accuracy_ema"} <= set(a.columns)


def test_the_better_weights_predict(tmp_path, mean_linear):
    x, y, folds = _series(signal=3.0)
    paths = _fold_paths(tmp_path, x, y, folds)
    summary = train_fold(_cfg(mean_linear, epochs=4, ema={"decay": 0.99}), paths, 0, "label")
    hist = pd.read_csv(paths.history)
    best = hist.loc[summary["best_epoch"] - 1]
    assert summary["best_weights"] == best["weights"]
    other = "raw" if best["weights"] == "ema" else "ema"
    assert best[f"valid_accuracy_{best['weights']}"] >= best[f"valid_accuracy_{other}"]


# --- staged unfreezing --------------------------------------------------------------------------------------


def test_freezer_holds_the_backbone_and_its_norm_statistics():
    torch.manual_seed(0)
    model = create_model("resnet1d", 3, in_chans=2, width=4)
    freezer = Freezer(model, FreezeConfig(epochs=1))
    assert all(not n.startswith("head.") for n in backbone_names(model)) and backbone_names(model)
    opt = create_optimizer(model, 0.1, 0.0, FreezeConfig(epochs=1))
    x, t = torch.randn(8, 2, 16), torch.arange(8) % 3

    def step():
        freezer.train_mode(model)
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), t).backward()
        opt.step()

    before = {k: v.clone() for k, v in model.state_dict().items()}
    freezer.set_epoch(1)
    step()
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"head.3.weight", "head.3.bias"}  # BatchNorm statistics of the backbone kept too
    freezer.set_epoch(2)
    step()
    assert not torch.equal(model.state_dict()["features.0.body.0.0.weight"], before["features.0.body.0.0.weight"])


def test_optimizer_groups_scale_the_backbone_and_decay_by_layer():
    torch.manual_seed(0)
    model = create_model("test_resnet", 3, in_chans=1)
    opt = create_optimizer(model, 0.01, 0.05, FreezeConfig(lr_mult=0.1))
    head = {id(p) for n, p in model.named_parameters() if n.startswith("fc.")}
    for group in opt.param_groups:
        in_head = {id(p) in head for p in group["params"]}
        assert len(in_head) == 1
        assert group["lr"] == pytest.approx(0.01 if in_head.pop() else 0.001)
    decayed = create_optimizer(model, 0.01, 0.05, FreezeConfig(layer_decay=0.5))
    lrs = sorted({round(g["lr"], 8) for g in decayed.param_groups})
    assert lrs[-1] == pytest.approx(0.01) and len(lrs) >= 3 and lrs[-2] == pytest.approx(0.005)
    plain = create_optimizer(model, 0.01, 0.05, FreezeConfig())
    assert [g["lr"] for g in plain.param_groups] == [0.01, 0.01]


def test_freezing_named_modules_and_an_unknown_one():
    model = create_model("test_resnet", 3, in_chans=1)
    names = backbone_names(model, ["conv1", "layer1"])
    assert names and all(n.startswith(("conv1.", "layer1.")) for n in names)
    from foldwise.errors import FoldwiseError

    with pytest.raises(FoldwiseError, match="'layer9' names no module of ResNet; its top-level modules: conv1"):
        backbone_names(model, ["layer9"])


# --- photometric augmentations -----------------------------------------------------------------------------


def test_degradations_by_hand():
    x = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    flat = torch.full((1, 1, 16, 16), 0.5)
    torch.testing.assert_close(gaussian_blur(flat, torch.tensor([1.0]), 1.0), flat)  # a flat image stays flat
    blurred = gaussian_blur(x, torch.tensor([0.1, 1.0, 2.0]), 2.0)
    assert (blurred[0] - x[0]).abs().max() < 1e-3 and blurred[2].std() < blurred[1].std() < x[1].std()
    high, low = jpeg_compress(x, torch.tensor([95.0] * 3)), jpeg_compress(x, torch.tensor([5.0] * 3))
    assert (high - x).abs().mean() < (low - x).abs().mean()
    odd = torch.rand(2, 3, 10, 13)
    assert jpeg_compress(odd, torch.tensor([50.0, 50.0])).shape == odd.shape
    out = brightness_contrast(x, torch.tensor([0.1, 0.0, 0.0]), torch.tensor([1.0, 2.0, 1.0]))
    torch.testing.assert_close(out[0], (x[0] + 0.1).clamp(0, 1))
    torch.testing.assert_close(out[1], ((x[1] - x[1].mean()) * 2 + x[1].mean()).clamp(0, 1))


def test_new_augmentations_are_seeded_per_sample():
    aug = BatchAugment(AugmentConfig(shift=0, scale=0, rotate=0, blur=0.5, jpeg=0.5, noise=0.05,
                                     brightness=0.2, contrast=0.2))
    x = torch.rand(8, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    a = aug(x.clone(), torch.Generator().manual_seed(7))
    assert torch.equal(a, aug(x.clone(), torch.Generator().manual_seed(7)))
    assert not torch.equal(a, aug(x.clone(), torch.Generator().manual_seed(8)))
    assert a.min() >= 0 and a.max() <= 1
    off = BatchAugment(AugmentConfig(shift=0, scale=0, rotate=0))
    assert torch.equal(off(x.clone(), torch.Generator().manual_seed(7)), x)


# --- ArcFace -----------------------------------------------------------------------------------------------


def test_arc_margin_and_nearest_neighbour_probabilities_by_hand():
    cos = torch.tensor([[0.8, 0.1], [-0.99, 0.5]])
    got = arc_margin_logits(10 * cos, torch.tensor([0, 0]), scale=10, margin=0.3)
    want00 = 10 * np.cos(np.arccos(0.8) + 0.3)
    want10 = 10 * (-0.99 - np.sin(np.pi - 0.3) * 0.3)  # past pi - m: the linear fallback
    np.testing.assert_allclose(got.numpy(), [[want00, 1.0], [want10, 5.0]], rtol=1e-5)
    soft = arc_margin_logits(10 * cos, torch.tensor([[0.5, 0.5], [1.0, 0.0]]), 10, 0.3)
    assert soft[0, 0] == pytest.approx(0.5 * want00 + 0.5 * 8.0, rel=1e-5)
    ref = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]]), dim=1)
    labels = torch.tensor([0, 0, 1, 1])
    q = torch.tensor([[1.0, 0.0]])
    probs = knn_proba(q, ref, labels, 3, k=1, scale=2.0)
    sims = torch.tensor([1.0, 0.0, -1.0])  # nearest of class 0: itself; of class 1: (0, 1); class 2: none
    torch.testing.assert_close(probs, torch.softmax(2.0 * sims, 0)[None])
    two = knn_proba(q, ref, labels, 2, k=2, scale=2.0)
    torch.testing.assert_close(two, torch.softmax(2.0 * torch.tensor([(1.0 + float(ref[1, 0])) / 2, -0.5]), 0)[None])


@pytest.mark.parametrize("backbone, shape", [("test_resnet", (2, 1, 16, 16)), ("resnet1d", (2, 1, 32))])
def test_arcface_model_scores_cosines_to_class_centres(backbone, shape):
    torch.manual_seed(0)
    kwargs = {"width": 4} if backbone == "resnet1d" else {}
    model = create_model(backbone, 5, in_chans=1, head={"kind": "arcface", "embedding_size": 8, "scale": 16}, **kwargs)
    assert isinstance(model, ArcFaceNet) and model.pretrained_cfg["classifier"] == ("embedding", "arc")
    model.eval()
    x = torch.randn(shape)
    emb = model.embed(x)
    assert emb.shape == (2, 8)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2))
    cos = emb @ torch.nn.functional.normalize(model.arc.weight, dim=1).T
    torch.testing.assert_close(model(x), 16 * cos)
