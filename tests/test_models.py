"""The model factory: local pretrained weights (head dropped, stem adapted, both file formats) and refusals."""

import pytest
import torch

from foldwise.errors import FoldwiseError
from foldwise.models.factory import create_model

torch.set_num_threads(1)

BACKBONE = "test_resnet"  # timm's 0.4M-parameter test net: stem conv1.0 (3 channels), head fc


@pytest.fixture(scope="module")
def source():
    """A 10-class, 3-channel network standing in for a pretrained checkpoint."""
    torch.manual_seed(0)
    return {k: v.clone() for k, v in create_model(BACKBONE, 10, in_chans=3).state_dict().items()}


def _save(state, path):
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state, path)
    return str(path)


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_weights_file_loads_exactly_with_new_head_and_one_channel_stem(tmp_path, source, suffix):
    path = _save(source, tmp_path / f"w{suffix}")
    model = create_model(BACKBONE, 4, in_chans=1, pretrained=path)
    got = model.state_dict()
    assert got["fc.weight"].shape == (4, source["fc.weight"].shape[1])
    assert not torch.equal(got["fc.weight"][:4], source["fc.weight"][:4])  # the file's 10-class head is dropped
    assert got["conv1.0.weight"].shape[1] == 1 and source["conv1.0.weight"].shape[1] == 3
    # timm's adaptation to one channel sums the RGB filters.
    torch.testing.assert_close(got["conv1.0.weight"], source["conv1.0.weight"].sum(1, keepdim=True), rtol=0, atol=1e-6)
    rest = [k for k in source if not k.startswith(("fc.", "conv1.0."))]
    assert len(rest) > 20
    for k in rest:
        assert torch.equal(got[k], source[k]), k


def test_same_class_count_keeps_the_files_head_and_wrapped_files_load(tmp_path, source):
    wrapped = {"state_dict": {f"module.{k}": v for k, v in source.items()}, "epoch": 7}
    model = create_model(BACKBONE, 10, in_chans=3, pretrained=_save(wrapped, tmp_path / "ckpt.pth"))
    for k, v in model.state_dict().items():
        assert torch.equal(v, source[k]), k


def test_weights_that_fit_nothing_are_refused(tmp_path):
    path = _save({"unrelated.weight": torch.zeros(3, 3)}, tmp_path / "other.pth")
    with pytest.raises(FoldwiseError, match="no tensor that fits"):
        create_model(BACKBONE, 4, in_chans=3, pretrained=path)


@pytest.mark.parametrize("backbone", [BACKBONE, "resnet1d"])
def test_pretrained_true_is_refused_offline(backbone):
    with pytest.raises(FoldwiseError, match="never downloads: .*weights rule.* give the file's path"):
        create_model(backbone, 4, in_chans=3, pretrained=True)


@pytest.mark.parametrize("backbone", [BACKBONE, "resnet1d"])
def test_missing_weights_file_is_named(tmp_path, backbone):
    missing = tmp_path / "nope.safetensors"
    with pytest.raises(FoldwiseError, match=f"pretrained weights file not found: {missing}"):
        create_model(backbone, 4, in_chans=3, pretrained=str(missing))


def test_series_model_weights_load_and_a_head_of_another_size_is_dropped(tmp_path):
    torch.manual_seed(0)
    source = create_model("resnet1d", 6, in_chans=2, width=4).state_dict()
    path = _save(source, tmp_path / "r1d.pth")
    same = create_model("resnet1d", 6, in_chans=2, pretrained=path, width=4).state_dict()
    assert all(torch.equal(same[k], v) for k, v in source.items())
    other = create_model("resnet1d", 3, in_chans=2, pretrained=path, width=4).state_dict()
    assert other["head.3.weight"].shape == (3, 8)
    assert all(torch.equal(other[k], v) for k, v in source.items() if not k.startswith("head.3."))
