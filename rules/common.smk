import dataclasses
import functools
import json
import re
from pathlib import Path

from foldwise.classic import families
from foldwise.config import (
    SCHEMA_PATH,
    ensemble_members,
    model_levers,
    model_settings,
    submission_names,
    validate,
    wants_best_submission,
)
from foldwise.data.tables import DataConfig, split_image_paths, split_table
from foldwise.errors import FoldwiseError
from foldwise.runtime.provenance import code_version
from foldwise.runtime.scheduling import job_gpus, job_threads, local_gpus
from foldwise.runtime.tracking import default_state, file_checksum, files_digest
from foldwise.models.weights import (
    cached_file,
    hub_name,
    resolve_source,
    tracked_content,
)

try:  # the schema, then foldwise.checks: names, references, contradictions, files (all listed at once)
    validate(config, SCHEMA_PATH, files=True)
except FoldwiseError as exc:
    raise WorkflowError(f"invalid config: {exc}") from None

MODELS = list(config["models"])
ENSEMBLES = list(config["ensembles"])
FOLDS = list(range(config["folds"]["n_splits"]))
SUBMISSIONS = submission_names(config)
BEST_SUBMISSION = wants_best_submission(config)
CANDIDATES = MODELS + ENSEMBLES
# seeds, refit, pseudo_source of each model
LEVERS = {m: model_levers(config, m) for m in MODELS}
KIND = config["data"]["kind"]
CACHE_SCRIPT = {
    "images": "cache_images",
    "timeseries": "cache_series",
    "tabular": "cache_tabular",
    "video": "cache_video",
}[KIND]
ENV = "../envs/foldwise.yaml"
GPUS_HERE = (
    local_gpus()
)  # read once per plan; runtime/scheduling.py says how jobs share a machine
# models starting from hub weights (pretrained: true) -> their source; one weights job per source
HUB_WEIGHTS = {
    m: resolve_source(hub_name(spec))
    for m, spec in config["models"].items()
    if not families.is_classic(spec) and hub_name(spec)
}
WEIGHT_SOURCES = {s.name: s for s in HUB_WEIGHTS.values()}


def _alternatives(names):
    return "|".join(re.escape(n) for n in names) or "(?!)"


wildcard_constraints:
    model=_alternatives(MODELS),
    ensemble=_alternatives(ENSEMBLES),
    name=_alternatives(SUBMISSIONS),
    fold=r"\d+",
    seed=r"[1-9]\d*",
    teacher=_alternatives(CANDIDATES),
    size=r"\d+(x\d+)?",
    split="train|test",
    source=_alternatives(WEIGHT_SOURCES),


def code(rule_name):
    """Hash of the foldwise modules a rule's script imports: a change re-runs the rule."""
    return code_version(Path(workflow.basedir) / "workflow_scripts" / f"{rule_name}.py")


def data_path(key):
    """Path of a competition file named by config key data.<key>, or None when unset."""
    name = config["data"][key]
    return f"{config['data']['dir']}/{name}" if name else None


def raw_checksums(*keys):
    """Params function: content hashes of raw files, so that touching one re-runs nothing."""

    def inner(wildcards):
        return {
            key: file_checksum(data_path(key)) if data_path(key) else None
            for key in keys
        }

    return inner


def _data_subset(*keys):
    return {k: config["data"][k] for k in keys}


# data keys naming a split's inputs, by data.kind (tabular: the table's own columns)
INPUT_KEYS = {
    split: {
        "images": [f"{split}_images"],
        "timeseries": [f"{split}_series"],
        "tabular": [],
        "video": [f"{split}_videos"],
    }
    for split in ("train", "test")
}


def table_params(wildcards):
    """What the training table depends on (not the test files)."""
    keys = [
        "dir",
        "train_csv",
        "id_col",
        "target_col",
        "label_cols",
        "group_col",
        "kind",
    ]
    keys += INPUT_KEYS["train"][KIND]
    return _data_subset(*keys)


def test_table_params(wildcards):
    """What the test table depends on (not the training files)."""
    keys = ["dir", "test_csv", "sample_submission", "id_col", "kind"]
    keys += INPUT_KEYS["test"][KIND]
    return _data_subset(*keys)


def cache_params(wildcards):
    """What building one split's cache depends on (not labels, folds or models)."""
    split = wildcards.split
    if KIND in ("images", "video"):  # video: frames and size are in the path
        return _data_subset("dir", "channels")
    if KIND == "tabular":
        keys = ("dir", "train_csv", "test_csv", "sample_submission", "id_col")
        return {**_data_subset(*keys), "layout": tabular_layout()}
    keys = (
        "dir",
        f"{split}_series",
        "id_col",
        "step_col",
        "series_channels",
        "derived_channels",
    )
    return _data_subset(*keys)


@functools.cache
def split_inputs_digest(split):
    """Content digest of every raw input of one split: each image, or the series CSV.

    Memoised on disk by file stat (foldwise.runtime.tracking), so a plan re-hashes only
    files whose size, mtime or inode changed. None when the split's table cannot be
    read: the tables rules report that with a clear message.
    """
    d = DataConfig.from_dict(config["data"])
    if KIND == "timeseries":
        return file_checksum(d.path(getattr(d, f"{split}_series")))
    if KIND == "tabular":  # the split's table holds the features
        name = d.train_csv if split == "train" else d.test_csv
        return file_checksum(d.path(name)) if name else None
    try:
        names = split_image_paths(d, split, split_table(d, split)[0])
    except FoldwiseError:
        return None
    if KIND == "video":  # a clip is a file or a folder of frames
        from foldwise.data.video import clip_files

        names = clip_files(d.dir, names)
    state = default_state()
    digest = files_digest(d.dir, names, state)
    state.save()
    return digest


def cache_inputs(wildcards):
    """Params function: the content digest of the split's raw inputs."""
    return split_inputs_digest(wildcards.split)


@functools.cache
def tabular_layout():
    """data.kind tabular: the feature columns and the categorical ones, read from train_csv once per plan."""
    from foldwise.data.tabular import tabular_layout as layout

    d = config["data"]
    try:
        return layout(DataConfig.from_dict(d), d["feature_cols"], d["categorical_cols"])
    except FoldwiseError as exc:
        raise WorkflowError(f"invalid data: {exc}") from None


def cache_size(model):
    """The cache a model reads: its image size, the data's series length, 0 (tabular) or frames x size (video)."""
    if config["data"]["kind"] == "tabular":
        return 0
    if config["data"]["kind"] == "timeseries":
        return config["data"]["series_length"]
    if config["data"]["kind"] == "video":
        return f"{config['data']['frames']}x{config['models'][model]['img_size']}"
    return config["models"][model]["img_size"]


def fold_params(wildcards):
    """The fold scheme, count and seed."""
    return dict(config["folds"])


def model_params(wildcards):
    """Everything that determines one model's training (tabular: and the cache's column layout).

    Hub weights: ``pretrained`` is the fetched file (its SHA-256 is added by the job, from
    the file's record); a local weights file: its content hash, so a new file re-trains.
    """
    settings = model_settings(config, wildcards.model)
    if KIND == "tabular":
        settings["layout"] = tabular_layout()
    if wildcards.model in HUB_WEIGHTS:
        settings["pretrained"] = HUB_WEIGHTS[wildcards.model].path
    elif isinstance(settings.get("pretrained"), str):
        settings["pretrained_sha256"] = file_checksum(settings["pretrained"])
    return settings


##### pretrained weights (rules/weights.smk) #####


def weights_inputs(wildcards):
    """Input function: the fetched hub weights and their record for a pretrained: true model; {} otherwise."""
    source = HUB_WEIGHTS.get(wildcards.model)
    if source is None:
        return {}
    return {"pretrained": source.path, "pretrained_info": source.info_path}


def weights_source(wildcards):
    """The hub source of one weights job (repository, files, url, licence)."""
    return dataclasses.asdict(WEIGHT_SOURCES[wildcards.source])


def weights_content(wildcards):
    """Params function: the cached file's SHA-256, so a changed cache re-fetches (and re-trains) by content."""
    source = WEIGHT_SOURCES[wildcards.source]
    path = cached_file(source)
    info = Path(source.info_path)
    record = json.loads(info.read_text()) if info.is_file() else None
    return tracked_content(file_checksum(path) if path else None, record)


##### model families: torch nets or classic (CPU-only) families #####


def model_script(rule_name):
    """Params function: the workflow script of a train/predict job, by the model's family."""

    def inner(wildcards):
        return families.script(rule_name, config["models"][wildcards.model])

    return inner


def model_code(rule_name):
    """Params function: hash of the code a model's train/predict job runs (its family's modules only)."""

    def inner(wildcards):
        model = config["models"][wildcards.model]
        if not families.is_classic(model):
            return code(rule_name)
        script = families.script(rule_name, model)
        return families.code_version(
            Path(workflow.basedir) / "workflow_scripts" / f"{script}.py", model, KIND
        )

    return inner


def model_gpus(wildcards):
    """Resources function: 1 GPU for a net's train/predict job on a GPU machine, else 0."""
    return job_gpus(families.gpus(config["models"][wildcards.model]) > 0, GPUS_HERE)


def model_threads(wildcards):
    """Threads function: the run's cores split over the train (or predict) jobs that run side by side."""
    return job_threads(
        workflow._cores, len(MODELS) * len(FOLDS), model_gpus(wildcards), GPUS_HERE
    )


def task(wildcards):
    """The competition type."""
    return config["task"]


def target_col(wildcards=None):
    return config["data"]["target_col"]


def model_cache(split):
    """Input function: the image cache of the model's size for one split."""

    def inner(wildcards):
        size = cache_size(wildcards.model)
        return rules.cache.output.npy.format(size=size, split=split)

    return inner


def teacher_final_test(teacher):
    """The final test file of a teacher: a model's gathered one or an ensemble's blended one."""
    if teacher in config["models"]:
        return rules.gather.output.test.format(model=teacher)
    return rules.ensemble.output.test.format(ensemble=teacher)


def teacher_fold_test(teacher, fold):
    """The fold-k test predictions of a teacher: its fold-k model's file, or (several seeds, an ensemble) a fold_teacher file."""
    if teacher in config["models"] and LEVERS[teacher]["seeds"] == 1:
        return rules.predict.output.test.format(model=teacher, fold=fold)
    return rules.fold_teacher.output.test.format(teacher=teacher, fold=fold)


def teacher_inputs(wildcards):
    """Input function: a pseudo-labelled student's teacher test file, the test cache and table; {} otherwise.

    pseudo.source fold (the default): fold k's student reads the teacher's fold-k predictions,
    made by models that never saw fold k's validation rows; all: the teacher's final test file
    (a model's gathered one, an ensemble's blended one). Changing the teacher re-runs its
    students' train jobs and nothing else.
    """
    teacher = config["models"][wildcards.model]["teacher"]
    if not teacher:
        return {}
    if LEVERS[wildcards.model]["pseudo_source"] == "fold":
        test = teacher_fold_test(teacher, wildcards.fold)
    else:
        test = teacher_final_test(teacher)
    return {
        "teacher": test,
        "test_cache": model_cache("test")(wildcards),
        "test_table": rules.test_table.output.test,
    }


def refit_teacher_inputs(wildcards):
    """Input function: a student's refit reads the teacher's final test file (no fold to keep out); {} otherwise."""
    teacher = config["models"][wildcards.model]["teacher"]
    return {"teacher": teacher_final_test(teacher)} if teacher else {}


##### levers: seeds, refits, fold-wise teachers #####


def seed_rule(rule_name, seed):
    """Which rules make one seed's jobs: ``train`` for seed 0 (today's paths), ``train_seed`` for seed s > 0."""
    return getattr(rules, rule_name if seed == 0 else f"{rule_name}_seed")


def seed_files(rule_name, key):
    """Input function: a train or predict output of every (seed, fold) of a model, seed-major."""

    def inner(wildcards):
        model = wildcards.model
        return [
            seed_rule(rule_name, s).output[key].format(model=model, fold=k, seed=s)
            for s in range(LEVERS[model]["seeds"])
            for k in FOLDS
        ]

    return inner


def refit_files(key):
    """Input function: a refit output of each seed of a model with refit full or blend; [] with refit none."""

    def inner(wildcards):
        model = wildcards.model
        if LEVERS[model]["refit"] == "none":
            return []
        seeds = range(LEVERS[model]["seeds"])
        return [
            seed_rule("refit", s).output[key].format(model=model, seed=s) for s in seeds
        ]

    return inner


def refit_fold_runs(wildcards):
    """Input function: the metrics.json of the same seed's folds, which a refit derives its epochs from.

    Nets (the epochs) and LightGBM (the boosting rounds) read them; the other classic families
    refit as they are and depend on no fold job, so re-training a fold leaves their refit alone.
    """
    if families.family_of(config["models"][wildcards.model]) not in (
        families.TORCH,
        "lightgbm",
    ):
        return []
    seed = int(wildcards.get("seed", 0))
    job_rule = seed_rule("train", seed)
    return [
        job_rule.output.metrics.format(model=wildcards.model, fold=k, seed=seed)
        for k in FOLDS
    ]


def gather_levers(wildcards):
    """Params function: how many seeds the gather averages, which test predictions it submits, the pseudo source."""
    return LEVERS[wildcards.model]


def fold_teacher_members(teacher):
    """The models whose fold-k test files make a teacher's fold-k predictions: itself, or an ensemble's members."""
    if teacher in config["models"]:
        return [teacher]
    return ensemble_members(config, teacher)


def fold_teacher_tests(wildcards):
    """Input function: each member's fold-k test file of every seed, member-major."""
    files = []
    for m in fold_teacher_members(wildcards.teacher):
        for s in range(LEVERS[m]["seeds"]):
            job_rule = seed_rule("predict", s)
            files.append(
                job_rule.output.test.format(model=m, fold=wildcards.fold, seed=s)
            )
    return files


def fold_teacher_weights(wildcards):
    """Input function: an ensemble teacher's weights.json (its per-fold nested weights); {} for a model."""
    if wildcards.teacher in config["models"]:
        return {}
    return {"weights": rules.ensemble.output.weights.format(ensemble=wildcards.teacher)}


def fold_teacher_spec(wildcards):
    """Params function: the teacher's kind, members and their seed counts, and an ensemble's combiner."""
    teacher = wildcards.teacher
    members = fold_teacher_members(teacher)
    spec = {
        "teacher": teacher,
        "kind": "model" if teacher in config["models"] else "ensemble",
        "members": members,
        "seeds": {m: LEVERS[m]["seeds"] for m in members},
        "task": config["task"],
    }
    if spec["kind"] == "ensemble":
        ens = config["ensembles"][teacher]
        spec.update(method=ens["method"], combiner=ens["combiner"], power=ens["power"])
    return spec


def reference_inputs(wildcards):
    """Input function: the training table for an ArcFace model's reference labels; {} otherwise."""
    if config["models"][wildcards.model]["head"]["kind"] != "arcface":
        return {}
    return {"train_table": rules.tables.output.train}


def fold_files(rule_output):
    """Input function: one file per fold of a model (a train or predict output)."""

    def inner(wildcards):
        return expand(rule_output, model=wildcards.model, fold=FOLDS)

    return inner


def member_file(name, key):
    """The OOF or test file of a model, or of an ensemble used as a member (its nested OOF)."""
    if name in config["models"]:
        return rules.gather.output[key].format(model=name)
    ens_key = "oof_nested" if key == "oof" else key
    return rules.ensemble.output[ens_key].format(ensemble=name)


def member_files(key):
    """Input function: the OOF or test file of each member of an ensemble."""

    def inner(wildcards):
        members = ensemble_members(config, wildcards.ensemble)
        return [member_file(m, key) for m in members]

    return inner


def ensemble_params(wildcards):
    """The ensemble's members and settings, and the seed of its stacker."""
    return {
        **config["ensembles"][wildcards.ensemble],
        "members": ensemble_members(config, wildcards.ensemble),
        "seed": config["seed"],
    }


def prediction_file(key):
    """Input function: the OOF or test predictions of a model or ensemble."""

    def inner(wildcards):
        if wildcards.name in config["models"]:
            return rules.gather.output[key].format(model=wildcards.name)
        return rules.ensemble.output[key].format(ensemble=wildcards.name)

    return inner


def submission_params(wildcards):
    """How to shape and score a submission."""
    d = config["data"]
    return {
        "id_col": d["id_col"],
        "target_col": d["target_col"],
        "sample_submission": data_path("sample_submission"),
        "solution": data_path("solution"),
        "label_cols": d["label_cols"],
        "metric": config["metric"],
        "task": config["task"],
        "multilabel": config["multilabel"],
    }


def metric(wildcards):
    """The CV metric."""
    return config["metric"]


def score_files(wildcards):
    """Every model's and ensemble's CV scores (in CANDIDATES order)."""
    return expand(rules.gather.output.scores, model=MODELS) + expand(
        rules.ensemble.output.scores, ensemble=ENSEMBLES
    )


def candidate_files(key):
    """Input function: the OOF or test file of every model and ensemble (CANDIDATES order)."""

    def inner(wildcards):
        models = expand(rules.gather.output[key], model=MODELS)
        return models + expand(rules.ensemble.output[key], ensemble=ENSEMBLES)

    return inner


def submission_reports():
    """The report of every submission, `best` last when asked for."""
    reports = expand(rules.submission.output.report, name=SUBMISSIONS)
    return reports + ([rules.best_submission.output.report] if BEST_SUBMISSION else [])


def report_names():
    """Submission names in submission_reports() order."""
    return SUBMISSIONS + (["best"] if BEST_SUBMISSION else [])


def final_outputs():
    """What `snakemake` builds by default."""
    best = ["results/submissions/best.csv"] if BEST_SUBMISSION else []
    return [
        "results/leaderboard.csv",
        *expand("results/submissions/{name}.csv", name=SUBMISSIONS),
        *best,
    ]


##### report: figures and tables for `snakemake --report` (rules/report.smk) #####


REPORT = "results/report"


def entry_prediction(name, key):
    """The OOF or test predictions file of one model or ensemble."""
    if name in config["models"]:
        return f"results/{key}/{name}.parquet"
    return f"results/ensembles/{name}/{key}.parquet"


def entries_predictions(key):
    """Input function: the OOF or test file of every model and ensemble."""

    def inner(wildcards):
        return [entry_prediction(n, key) for n in MODELS + ENSEMBLES]

    return inner


def submitted_predictions(key):
    """Input function: the OOF or test file of every submitted model or ensemble."""

    def inner(wildcards):
        return [entry_prediction(n, key) for n in SUBMISSIONS]

    return inner


def report_params(wildcards):
    """What the prediction figures depend on besides their input files."""
    return {
        "entries": MODELS + ENSEMBLES,
        "submissions": SUBMISSIONS,
        "target_col": config["data"]["target_col"],
        "task": config["task"],
        "multilabel": config["multilabel"],
    }


def job_labels(wildcards):
    """One `model/fold` label per training job, in the order of the jobs figure's inputs."""
    return [f"{m}/fold{k}" for m in MODELS for k in FOLDS]


def report_outputs():
    """The report's figures and tables: a normal run makes them, `--report` only assembles."""
    return [
        f"{REPORT}/leaderboard.html",
        f"{REPORT}/fold_scores.png",
        *expand(f"{REPORT}/curves/{{model}}.png", model=MODELS),
        *([f"{REPORT}/confusion.png"] if SUBMISSIONS else []),  # of the best submission
        f"{REPORT}/recall.png",
        f"{REPORT}/calibration.png",
        *([f"{REPORT}/classes.png"] if SUBMISSIONS else []),
        *expand(f"{REPORT}/weights/{{ensemble}}.png", ensemble=ENSEMBLES),
        f"{REPORT}/jobs.png",
    ]
