"""The model registry: names written once, the plan-time lists agree with it, lookups, and no import cycle."""

import ast
import re
from pathlib import Path

import pytest
import torch

from foldwise.config import load_schema
from foldwise.models import registry
from foldwise.models.factory import create_model
from foldwise.models.names import FRAME_ENCODER, FRAME_NETS, backbone_names
from foldwise.models.sequence import SEQUENCE_MODELS
from foldwise.models.video import VIDEO_MODELS, ClipModel, FrameNet, create_video_model
from foldwise.models.weights import VIDEO_WEIGHTS

torch.set_num_threads(1)

MODELS_DIR = Path(registry.__file__).parent


def _schema_backbones() -> dict[str, set[str]]:
    """The own nets the schema's ``backbone`` description names, by kind ('... / ... for video')."""
    def find(node):
        if isinstance(node, dict):
            if isinstance(node.get("backbone"), dict) and "description" in node["backbone"]:
                return node["backbone"]["description"]
            return next((d for d in map(find, node.values()) if d), None)
        if isinstance(node, list):
            return next((d for d in map(find, node) if d), None)
        return None

    text = " ".join(find(load_schema()).split())
    found = re.findall(r"or ([\w ]+(?: / [\w ]+)*) for (\w+)", text)
    return {kind: {n.strip() for n in names.split(" / ")} for names, kind in found}


def test_registry_lists_every_name_the_schema_allows():
    allowed = _schema_backbones()
    assert set(allowed) == set(registry.KINDS)
    for kind in registry.KINDS:
        assert allowed[kind] == set(registry.list_models(kind)), kind


def test_names_txt_and_module_views_are_the_registry():
    names, _ = backbone_names()
    for kind in registry.KINDS:
        assert names[kind] == frozenset(registry.list_models(kind)), "run: python -m foldwise.models.names"
    assert not names["images"] & set(registry.list_models())
    assert VIDEO_MODELS == tuple(registry.list_models("video"))
    assert SEQUENCE_MODELS is registry.model_family("timeseries")


def test_plan_time_video_tables_agree_with_the_registered_nets():
    built = {name: create_model(name, 3, in_chans=1, **({"encoder": "test_resnet"} if name in FRAME_NETS else
                                                         {"width": 4})) for name in VIDEO_MODELS}
    assert all(isinstance(m, ClipModel) for m in built.values())
    assert set(FRAME_NETS) == {n for n, m in built.items() if isinstance(m.net, FrameNet)}
    assert set(VIDEO_WEIGHTS) == {n for n, m in built.items() if type(m.net).__name__ == "VideoResNet"}
    default = create_video_model("frame_mean", 2, clip_frames=4)
    assert default.net.encoder.pretrained_cfg["architecture"] == FRAME_ENCODER and default.clip_frames == 4


def test_presets_name_registered_nets_of_their_kind():
    from foldwise.init.presets import MODELS

    for kind in registry.KINDS:
        for settings, _ in MODELS[kind].values():
            if "backbone" in settings:
                assert registry.model_kind(settings["backbone"]) == kind, settings["backbone"]


def test_unknown_names_raise_key_errors_listing_the_valid_ones():
    with pytest.raises(KeyError, match="r3d_18, r2plus1d_18, mc3_18, slowfast.*did you mean r3d_18"):
        registry.model_entrypoint("r3d_17", kind="video")
    with pytest.raises(KeyError, match="unknown timeseries backbone .slowfast.; valid: resnet1d, inception_time"):
        registry.model_entrypoint("slowfast", kind="timeseries")
    with pytest.raises(KeyError, match="unknown model kind 'images'; valid: timeseries, video"):
        registry.list_models("images")
    with pytest.raises(KeyError, match=r"unknown backbone 'r3d_17': not one of foldwise's nets \(resnet1d.*"
                                        r"slowfast\) nor a timm model; close matches: r3d_18"):
        create_model("r3d_17", 3)
    with pytest.raises(KeyError, match="unknown encoder 'nope_net': not a timm model"):
        create_model("frame_mean", 3, encoder="nope_net")


def test_register_model_names_builders_once(monkeypatch):
    monkeypatch.setitem(registry._MODELS, "video", dict(registry._MODELS["video"]))

    @registry.register_model(kind="video")
    def probe_net(num_classes, in_chans=3, pretrained=False, **kwargs):
        return ClipModel(torch.nn.Linear(in_chans, num_classes))

    assert registry.model_kind("probe_net") == "video" and registry.model_entrypoint("probe_net") is probe_net
    assert isinstance(create_model("probe_net", 2, in_chans=3), ClipModel)
    with pytest.raises(ValueError, match="'resnet1d' is registered already"):
        registry.register_model("resnet1d", kind="video")(probe_net)
    with pytest.raises(KeyError, match="unknown model kind"):
        registry.register_model("x", kind="tabular")


def _foldwise_imports(path: Path, skip: tuple[str, ...] = ()) -> set[str]:
    """Modules of foldwise that ``path`` imports, also inside functions (but those named in ``skip``)."""
    todo, out = [ast.parse(path.read_text())], set()
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef) and node.name in skip:
            continue
        todo.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("foldwise"):
            out.update(f"{node.module}.{a.name}" if node.module == "foldwise.models" else node.module
                       for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("foldwise"))
    return out


def test_registry_imports_nothing_of_foldwise_and_models_import_without_cycles():
    assert _foldwise_imports(MODELS_DIR / "registry.py") == set()
    # The names.txt generator (names.registry, run as `python -m foldwise.models.names`) imports every net.
    graph = {f"foldwise.models.{p.stem}": {m for m in _foldwise_imports(p, skip=("registry",) * (p.stem == "names"))
                                           if m.startswith("foldwise.models.")}
             for p in MODELS_DIR.glob("*.py") if p.stem != "__init__"}
    assert graph["foldwise.models._builtin"] == {"foldwise.models.sequence", "foldwise.models.video"}
    done, active = set(), []

    def visit(module):
        assert module not in active, f"import cycle: {' -> '.join(active[active.index(module):] + [module])}"
        if module in done:
            return
        active.append(module)
        for dep in sorted(graph.get(module, ())):
            visit(dep)
        active.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
