"""Video clips (data.kind video): frame sampling, the cache, clip inputs, the video nets, and one workflow run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from foldwise.data.video import build_video_cache, frame_files, read_clip, sample_indices
from foldwise.errors import FoldwiseError
from foldwise.models.factory import create_model
from foldwise.models.video import VIDEO_MODELS, ClipModel, create_video_model, temporal_shift
from foldwise.train.video_inputs import VideoInputs, temporal_indices

cv2 = pytest.importorskip("cv2")
torch.set_num_threads(1)


def _write_mp4(path, values, size=24, fps=10):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size, size), True)
    for v in values:
        writer.write(np.full((size, size, 3), v, np.uint8))
    writer.release()


def _write_frames(folder, values, size=24):
    folder.mkdir(parents=True)
    for k, v in enumerate(values):
        cv2.imwrite(str(folder / f"frame_{k}.png"), np.full((size, size), v, np.uint8))


# ----- sampling and reading -----


def test_sample_indices_uniform_and_repeating():
    assert sample_indices(8, 8).tolist() == list(range(8))
    assert sample_indices(100, 4).tolist() == [12, 37, 62, 87]  # centres of 4 equal segments
    short = sample_indices(3, 8)
    assert short.tolist() == [0, 0, 0, 1, 1, 2, 2, 2]  # shorter clips repeat frames, in order
    for n in (1, 5, 17, 250):
        idx = sample_indices(n, 16)
        assert len(idx) == 16 and idx.min() >= 0 and idx.max() < n and np.all(np.diff(idx) >= 0)
    with pytest.raises(ValueError):
        sample_indices(0, 4)


def test_frame_folder_natural_order_and_values(tmp_path):
    values = [10 * k for k in range(12)]  # frame_10 and frame_11 must come after frame_9
    _write_frames(tmp_path / "clip", values)
    assert [p.name for p in frame_files(tmp_path / "clip")][-3:] == ["frame_9.png", "frame_10.png", "frame_11.png"]
    clip = read_clip(tmp_path / "clip", 6, 8, channels=1)
    assert clip.shape == (6, 8, 8, 1) and clip.dtype == np.uint8
    assert clip[:, 0, 0, 0].tolist() == [values[i] for i in sample_indices(12, 6)]
    rgb = read_clip(tmp_path / "clip", 16, 8, channels=3)  # 12 frames -> 16: repeats
    assert rgb.shape == (16, 8, 8, 3) and rgb[:, 0, 0, 0].tolist() == [values[i] for i in sample_indices(12, 16)]


def test_mp4_reads_in_order(tmp_path):
    values = [20 * k for k in range(10)]
    _write_mp4(tmp_path / "a.mp4", values)
    clip = read_clip(tmp_path / "a.mp4", 5, 12, channels=1)
    assert clip.shape == (5, 12, 12, 1)
    np.testing.assert_allclose(clip[:, 6, 6, 0], [values[i] for i in sample_indices(10, 5)], atol=6)  # lossy codec


def test_bad_clip_fails_naming_it_and_leaves_no_cache(tmp_path):
    _write_mp4(tmp_path / "good.mp4", [50] * 6)
    (tmp_path / "bad.mp4").write_bytes((tmp_path / "good.mp4").read_bytes()[:300])  # truncated
    (tmp_path / "garbage.mp4").write_bytes(b"not a video at all" * 10)
    out = tmp_path / "cache" / "train.npy"
    for bad in ("bad.mp4", "garbage.mp4"):
        with pytest.raises(FoldwiseError, match=bad):
            build_video_cache([tmp_path / "good.mp4", tmp_path / bad], 4, 8, 1, str(out))
        assert not out.exists() and (not out.parent.exists() or not any(out.parent.iterdir()))  # no temp file
    build_video_cache([tmp_path / "good.mp4"] * 3, 4, 8, 1, str(out), threads=2)
    cache = np.load(out, mmap_mode="r")
    assert cache.shape == (3, 4, 8, 8, 1) and abs(int(cache[2, 3, 4, 4, 0]) - 50) < 6


# ----- inputs: temporal jitter, augmentation the same for every frame -----


def test_temporal_indices_stay_ordered_and_in_range():
    gen = torch.Generator().manual_seed(0)
    idx = temporal_indices(16, 12, 64, gen, jitter=2)
    assert idx.shape == (64, 12) and int(idx.min()) >= 0 and int(idx.max()) <= 15
    assert bool((idx.diff(dim=1) >= 0).all()) and len({tuple(r) for r in idx.tolist()}) > 1  # varies per clip


def test_augmentation_is_consistent_across_frames():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (16, 16, 1), dtype=np.uint8)
    data = np.broadcast_to(frame, (4, 8, 16, 16, 1)).copy()  # every frame of every clip identical
    model = create_model("slowfast", 3, in_chans=1, width=4, clip_frames=6, temporal_jitter=1)
    augment = {"hflip": 0.5, "vflip": 0.5, "shift": 0.2, "scale": 0.2, "rotate": 30.0, "cutout": 0.5}
    inputs = VideoInputs(data, model, torch.device("cpu"), augment)
    x = inputs.batch(np.arange(4), torch.Generator().manual_seed(1))
    assert x.shape == (4, 1, 6, 16, 16)
    torch.testing.assert_close(x, x[:, :, :1].expand_as(x))  # same transform for all frames of a clip
    assert not torch.allclose(x[0], x[1])  # ... but not for all clips
    assert inputs.batch(np.arange(4)).shape == (4, 1, 8, 16, 16)  # prediction: every cached frame


# ----- models -----


@pytest.mark.parametrize("backbone", VIDEO_MODELS)
def test_forward_shape(backbone):
    kwargs = {"encoder": "test_efficientnet"} if backbone.startswith("frame_") else {"width": 4}
    model = create_model(backbone, 5, in_chans=3, **kwargs)
    assert isinstance(model, ClipModel)
    y = model(torch.randn(2, 3, 8, 16, 16))
    assert y.shape == (2, 5)
    y.sum().backward()


def test_temporal_shift_and_spatial_pool():
    x = torch.arange(3.0).repeat_interleave(8).view(3, 8, 1, 1)  # one clip of 3 frames: frame t holds t
    y = temporal_shift(x, 3, fold_div=4).view(3, 8)
    assert y[:, 0].tolist() == [1, 2, 0] and y[:, 2].tolist() == [0, 0, 1] and y[:, 4].tolist() == [0, 1, 2]
    model = create_model("frame_tconv", 4, in_chans=1, encoder="test_resnet", output_stride=8, spatial_pool=2,
                         proj_dim=16)
    assert model(torch.randn(2, 1, 5, 16, 16)).shape == (2, 4)


def test_slowfast_alpha_beta():
    model = create_video_model("slowfast", 4, in_chans=3, width=16, alpha=4, beta=0.25).net
    seen = {}
    model.slow_stem.register_forward_hook(lambda m, i, o: seen.update(slow=o.shape))
    model.fast_stem.register_forward_hook(lambda m, i, o: seen.update(fast=o.shape))
    model(torch.randn(1, 3, 12, 16, 16))
    assert seen["slow"][1:3] == (16, 3)  # width channels, every 4th of 12 frames
    assert seen["fast"][1:3] == (4, 12)  # beta * width channels, all frames
    assert (model.alpha, model.beta) == (4, 0.25)


def test_clip_model_averages_temporal_offsets():
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(x[0, 0, :, 0, 0].tolist())
            return x.mean((2, 3, 4))

    x = torch.arange(10.0).view(1, 1, 10, 1, 1)
    model = ClipModel(Probe(), clip_frames=4, tta_offsets=3).eval()
    out = model(x)
    assert seen == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]] and out.item() == pytest.approx(4.5)
    seen.clear()
    ClipModel(Probe(), clip_frames=4).eval()(x)
    assert seen == [[3, 4, 5, 6]]  # one offset: the centre window


def test_unknown_video_backbone_lists_valid_names():
    with pytest.raises(KeyError, match="slowfast"):
        create_video_model("slowslow", 3)


# ----- plan checks and one workflow run -----


def test_plan_checks_kind_settings():
    from foldwise.config import validate

    with pytest.raises(FoldwiseError, match="data.frames"):
        validate({"data": {"frames": 8}, "models": {"m": {"backbone": "resnet18"}}})
    with pytest.raises(FoldwiseError, match="a video model"):
        validate({"models": {"m": {"backbone": "slowfast"}}})
    validate({"data": {"kind": "video", "frames": 8, "channels": 1}, "models": {"m": {"backbone": "r3d_18"}}})
    # training techniques on clips: image views and MixUp yes; CutMix, ArcFace and a head-only freeze no
    video = {"kind": "video", "frames": 8, "channels": 1}
    validate({"data": video, "models": {"m": {"backbone": "r3d_18", "tta": ["hflip", "shift"],
                                              "mix": {"mixup_alpha": 0.2}, "ema": {"decay": 0.9}}}})
    for settings, message in (
        ({"mix": {"cutmix_alpha": 1.0}}, "models.m.mix.cutmix_alpha': CutMix pastes image rectangles, but data.kind "
                                         "is video; use mix.mixup_alpha for clips"),
        ({"head": {"kind": "arcface"}}, "models.m.head.kind': arcface is not available for video models"),
        ({"epochs": 3, "freeze": {"epochs": 1}}, "models.m.freeze.modules': video models do not name their head"),
    ):
        with pytest.raises(FoldwiseError, match=message.replace("(", r"\(")):
            validate({"data": video, "models": {"m": {"backbone": "frame_mean", **settings}}})


VIDEO = {
    "seed": 1,
    "data": {"kind": "video", "solution": "solution.csv", "channels": 1, "frames": 8,
             "test_videos": "test_frames/{id}"},
    "folds": {"n_splits": 2, "seed": 0},
    "models": {"sf": {"backbone": "slowfast", "img_size": 16, "epochs": 1, "batch_size": 8,
                      "model_kwargs": {"width": 4, "beta": 0.5, "clip_frames": 6, "tta_offsets": 2},
                      "tta": ["hflip"], "ema": {"decay": 0.9}}},
}


@pytest.mark.workflow
def test_video_workflow_end_to_end(tmp_path):
    """mp4 training clips and frame-folder test clips to a submission; then a truncated clip fails the cache."""
    from foldwise.data.video_demo import MOTIONS, make_video_digits_competition

    from .pipeline import Pipeline, copy_code

    comp = tmp_path / "comp"
    make_video_digits_competition(comp, n_train=32, n_test=8, canvas=24, min_frames=5, max_frames=12,
                                  layouts=("mp4", "frames"))
    pipe = Pipeline(copy_code(tmp_path / "code"), tmp_path / "work", {**VIDEO, "data": {**VIDEO["data"], "dir": str(comp)}})
    pipe.snakemake("-p", "results/leaderboard.csv", "results/submissions/sf.csv")  # -p ends --resources
    res = pipe.work / "results"
    cache = np.load(res / "cache" / "8x16" / "train.npy", mmap_mode="r")
    assert cache.shape == (32, 8, 16, 16, 1) and cache.dtype == np.uint8
    assert np.load(res / "cache" / "8x16" / "test.npy", mmap_mode="r").shape == (8, 8, 16, 16, 1)
    oof = pd.read_parquet(res / "oof" / "sf.parquet")
    assert len(oof) == 32 and list(oof.columns[:3]) == ["id", "fold", "label"]
    board = pd.read_csv(res / "leaderboard.csv").set_index("name")
    assert np.isfinite(board.loc["sf", ["cv", "cv_no_tta", "cv_honest"]].astype(float)).all()  # tta: [hflip]
    sub = pd.read_csv(res / "submissions" / "sf.csv")
    assert list(sub["id"]) == [f"test_{i:04d}" for i in range(8)] and set(sub["label"]) <= set(MOTIONS)

    victim = comp / "train_videos" / "train_0003.mp4"
    victim.write_bytes(victim.read_bytes()[:200])
    (res / "cache" / "8x16" / "train.npy").unlink()
    proc = pipe.snakemake("-p", "results/cache/8x16/train.npy", check=False)
    assert proc.returncode != 0
    log = (pipe.work / "logs" / "cache" / "8x16" / "train.log").read_text()
    assert "train_0003.mp4" in log and "not decodable" in log
    assert not (res / "cache" / "8x16" / "train.npy").exists()
