"""The run's plan: what the rules build and the params of each job, read from a validated config.

``rules/common.smk`` builds one :class:`Plan` and turns its answers into file
paths (through ``rules.<name>.output``, which own them). Every answer is plain
data (names, numbers, dicts), so the decisions are unit-tested without Snakemake
(``tests/test_plan.py``). A param's value is what Snakemake compares to decide a
re-run: keep each dict to exactly what can change the job's output.
"""

from __future__ import annotations

import functools
from typing import Any

from foldwise.classic import families
from foldwise.config import ensemble_members, model_levers, model_settings, submission_names, wants_best_submission
from foldwise.kinds import DataKind, get_kind
from foldwise.models.weights import WeightsSource, hub_name, resolve_source
from foldwise.runtime.tracking import file_checksum
from foldwise.workflow import inputs


class Plan:
    """Names, counts and job params of one run.

    Args:
        config: the config after :func:`foldwise.config.validate` (defaults filled).

    Attributes:
        models, ensembles, submissions: names, in config order (submissions: those written by name).
        nets, classics: the models trained by torch (rules ``train``, ``predict``, …) and by a classic
            family (rules ``train_classic``, ``refit_classic``, …), in config order.
        folds: fold indices ``0 .. n_splits - 1``.
        best: whether ``submissions: best`` asks for the pick by CV.
        levers: per model, its ``seeds``, ``refit`` and ``pseudo_source``.
        kind: the :class:`~foldwise.kinds.DataKind` of ``data.kind``.
        hub_weights: per model starting from hub weights (``pretrained: true`` or a tag), its source.
    """

    def __init__(self, config: dict):
        self.config = config
        self.models: list[str] = list(config["models"])
        self.nets: list[str] = [m for m in self.models if not families.is_classic(config["models"][m])]
        self.classics: list[str] = [m for m in self.models if m not in self.nets]
        self.ensembles: list[str] = list(config["ensembles"])
        self.folds: list[int] = list(range(config["folds"]["n_splits"]))
        self.submissions: list[str] = submission_names(config)
        self.best: bool = wants_best_submission(config)
        self.levers: dict[str, dict] = {m: model_levers(config, m) for m in self.models}
        self.kind: DataKind = get_kind(config["data"]["kind"])
        self.hub_weights: dict[str, WeightsSource] = {
            m: resolve_source(hub_name(spec))
            for m, spec in config["models"].items()
            if not families.is_classic(spec) and hub_name(spec)
        }

    @property
    def candidates(self) -> list[str]:
        """Every model and ensemble: what a submission or a teacher may name."""
        return self.models + self.ensembles

    @property
    def weight_sources(self) -> dict[str, WeightsSource]:
        """One hub source per weights job, by its name."""
        return {s.name: s for s in self.hub_weights.values()}

    def is_model(self, name: str) -> bool:
        return name in self.config["models"]

    # ---- data: tables and caches ----

    def data_path(self, key: str) -> str | None:
        """Path of the competition file named by ``data.<key>``, or None when unset."""
        name = self.config["data"][key]
        return f"{self.config['data']['dir']}/{name}" if name else None

    def raw_checksums(self, keys: tuple[str, ...]) -> dict[str, str | None]:
        """Content hashes of the competition files named by ``data.<key>`` (touching one re-runs nothing)."""
        return inputs.raw_checksums(self.config["data"], keys)

    def _data(self, *keys: str) -> dict:
        return {k: self.config["data"][k] for k in keys}

    def table_params(self) -> dict:
        """What the training table depends on (not the test files)."""
        keys = ["dir", "train_csv", "id_col", "target_col", "label_cols", "group_col", "kind"]
        return self._data(*keys, *self.kind.input_keys("train"))

    def test_table_params(self) -> dict:
        """What the test table depends on (not the training files)."""
        keys = ["dir", "test_csv", "sample_submission", "id_col", "kind"]
        return self._data(*keys, *self.kind.input_keys("test"))

    def cache_params(self, split: str) -> dict:
        """What building one split's cache depends on (not labels, folds or models)."""
        params = self._data(*self.kind.split_cache_keys(split))
        if self.kind.name == "tabular":
            params["layout"] = self.tabular_layout()
        return params

    @functools.cache
    def tabular_layout(self) -> dict:
        """``data.kind: tabular``: the feature and categorical columns, read from ``train_csv`` once per plan."""
        return inputs.tabular_layout(self.config["data"])

    @functools.cache
    def split_inputs_digest(self, split: str) -> str | None:
        """Content digest of one split's raw inputs (see :func:`foldwise.workflow.inputs.split_inputs_digest`)."""
        return inputs.split_inputs_digest(self.config["data"], split)

    def cache_size(self, model: str) -> int | str:
        """The cache a model reads, as in the cache's path (image size, series length, 0, frames x size)."""
        return self.kind.cache_size(self.config["data"], self.config["models"][model])

    # ---- models ----

    def model_params(self, model: str) -> dict[str, Any]:
        """Everything that determines one model's training (tabular: and the cache's column layout).

        Hub weights: ``pretrained`` is the fetched file (its SHA-256 is added by the job, from
        the file's record); a local weights file: its content hash, so a new file re-trains.
        """
        settings = model_settings(self.config, model)
        if self.kind.name == "tabular":
            settings["layout"] = self.tabular_layout()
        if model in self.hub_weights:
            settings["pretrained"] = self.hub_weights[model].path
        elif isinstance(settings.get("pretrained"), str):
            settings["pretrained_sha256"] = file_checksum(settings["pretrained"])
        return settings

    def is_net(self, model: str) -> bool:
        return not families.is_classic(self.config["models"][model])

    def seed_jobs(self, model: str) -> list[tuple[int, int]]:
        """``(seed, fold)`` of every train (and predict) job of a model, seed-major."""
        return [(s, k) for s in range(self.levers[model]["seeds"]) for k in self.folds]

    def refit_seeds(self, model: str) -> list[int]:
        """The seeds of a model's refit jobs: one per seed with ``refit: full`` or ``blend``, none otherwise."""
        return [] if self.levers[model]["refit"] == "none" else list(range(self.levers[model]["seeds"]))

    def refit_reads_folds(self, model: str) -> bool:
        """Whether a refit derives its length from the folds' runs: nets (epochs), LightGBM (rounds).

        The other classic families refit as they are and depend on no fold job, so
        re-training a fold leaves their refit alone.
        """
        return families.family_of(self.config["models"][model]) in (families.TORCH, "lightgbm")

    # ---- teachers: pseudo-labelled students ----

    def teacher(self, model: str) -> str | None:
        """The model or ensemble whose test predictions a student learns from, or None."""
        return self.config["models"][model]["teacher"] or None

    def reads_fold_teacher(self, model: str) -> bool:
        """``pseudo.source: fold`` (the default): fold k's student reads the teacher's fold-k predictions.

        Those come from models that never saw fold k's validation rows; ``all`` reads
        the teacher's final test file (a model's gathered one, an ensemble's blend).
        """
        return self.levers[model]["pseudo_source"] == "fold"

    def teacher_fold_from_predict(self, teacher: str) -> bool:
        """Whether a teacher's fold-k predictions are one predict job's file (a model with one seed).

        Otherwise a ``fold_teacher`` job averages its seeds (or an ensemble's members) for fold k.
        """
        return self.is_model(teacher) and self.levers[teacher]["seeds"] == 1

    def fold_teacher_members(self, teacher: str) -> list[str]:
        """The models whose fold-k test files make a teacher's fold-k predictions."""
        return [teacher] if self.is_model(teacher) else ensemble_members(self.config, teacher)

    def fold_teacher_jobs(self, teacher: str) -> list[tuple[str, int]]:
        """``(member, seed)`` of each fold-k test file a fold teacher reads, member-major."""
        return [(m, s) for m in self.fold_teacher_members(teacher) for s in range(self.levers[m]["seeds"])]

    def fold_teacher_spec(self, teacher: str) -> dict:
        """The teacher's kind, members and their seed counts, and an ensemble's combiner."""
        members = self.fold_teacher_members(teacher)
        spec = {
            "teacher": teacher,
            "kind": "model" if self.is_model(teacher) else "ensemble",
            "members": members,
            "seeds": {m: self.levers[m]["seeds"] for m in members},
            "task": self.config["task"],
        }
        if spec["kind"] == "ensemble":
            ens = self.config["ensembles"][teacher]
            spec.update(method=ens["method"], combiner=ens["combiner"], power=ens["power"])
        return spec

    # ---- ensembles, submissions, report ----

    def ensemble_members(self, ensemble: str) -> list[str]:
        return ensemble_members(self.config, ensemble)

    def ensemble_params(self, ensemble: str) -> dict:
        """The ensemble's members and settings, and the seed of its stacker."""
        return {**self.config["ensembles"][ensemble], "members": self.ensemble_members(ensemble),
                "seed": self.config["seed"]}

    def submission_params(self) -> dict:
        """How to shape and score a submission."""
        d = self.config["data"]
        return {
            "id_col": d["id_col"],
            "target_col": d["target_col"],
            "sample_submission": self.data_path("sample_submission"),
            "solution": self.data_path("solution"),
            "label_cols": d["label_cols"],
            "metric": self.config["metric"],
            "task": self.config["task"],
            "multilabel": self.config["multilabel"],
        }

    def report_names(self) -> list[str]:
        """Submission names as the report lists them, ``best`` last when asked for."""
        return self.submissions + (["best"] if self.best else [])

    def report_params(self) -> dict:
        """What the prediction figures depend on besides their input files."""
        return {
            "entries": self.candidates,
            "submissions": self.submissions,
            "target_col": self.config["data"]["target_col"],
            "task": self.config["task"],
            "multilabel": self.config["multilabel"],
        }

    def job_labels(self) -> list[str]:
        """One ``model/fold`` label per training job, in the order of the jobs figure's inputs."""
        return [f"{m}/fold{k}" for m in self.models for k in self.folds]
