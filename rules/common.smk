# Glue between the config and the rules: validation, then one foldwise.workflow.Plan whose answers
# (names, job params) the functions below turn into the rules' files. Decisions live in the package
# (foldwise/workflow, foldwise/kinds.py), tested without Snakemake; paths come from rules.<name>.output.
import dataclasses
import json
import re
from pathlib import Path

from foldwise.classic import families
from foldwise.config import SCHEMA_PATH, validate
from foldwise.errors import FoldwiseError
from foldwise.models.weights import cached_file, tracked_content
from foldwise.runtime.provenance import code_version
from foldwise.runtime.scheduling import job_gpus, job_threads, local_gpus
from foldwise.runtime.tracking import file_checksum
from foldwise.workflow import Plan

try:  # the schema, then foldwise.checks: names, references, contradictions, files (all listed at once)
    validate(config, SCHEMA_PATH, files=True)
    PLAN = Plan(config)
except FoldwiseError as exc:
    raise WorkflowError(f"invalid config: {exc}") from None

MODELS, ENSEMBLES, FOLDS = PLAN.models, PLAN.ensembles, PLAN.folds
SUBMISSIONS, CANDIDATES = PLAN.submissions, PLAN.candidates
KIND = PLAN.kind.name
CACHE_SCRIPT = PLAN.kind.cache_script
ENV = "../envs/foldwise.yaml"
GPUS_HERE = (
    local_gpus()
)  # read once per plan; runtime/scheduling.py says how jobs share a machine
REPORT = "results/report"


def _alternatives(names):
    return "|".join(re.escape(n) for n in names) or "(?!)"


NETS, CLASSICS = _alternatives(PLAN.nets), _alternatives(
    PLAN.classics
)  # per-rule {model}


wildcard_constraints:
    model=_alternatives(MODELS),
    ensemble=_alternatives(ENSEMBLES),
    name=_alternatives(SUBMISSIONS),
    fold=r"\d+",
    seed=r"[1-9]\d*",
    teacher=_alternatives(CANDIDATES),
    size=r"\d+(x\d+)?",
    split="train|test",
    source=_alternatives(PLAN.weight_sources),


def _planned(what):
    """Run a Plan question, turning a user error (an unreadable table) into one clear message."""
    try:
        return what()
    except FoldwiseError as exc:
        raise WorkflowError(f"invalid data: {exc}") from None


##### params: what each job's output depends on (a changed value re-runs the job) #####


def code(rule_name):
    """Hash of the foldwise modules a rule's script imports: a change re-runs the rule."""
    return code_version(Path(workflow.basedir) / "workflow_scripts" / f"{rule_name}.py")


def raw_checksums(*keys):
    """Params function: content hashes of raw files, so that touching one re-runs nothing."""
    return lambda wildcards: PLAN.raw_checksums(keys)


def table_params(wildcards):
    return PLAN.table_params()


def test_table_params(wildcards):
    return PLAN.test_table_params()


def cache_params(wildcards):
    return _planned(lambda: PLAN.cache_params(wildcards.split))


def cache_inputs(wildcards):
    """Params function: the content digest of the split's raw inputs (memoised by file stat)."""
    return PLAN.split_inputs_digest(wildcards.split)


def fold_params(wildcards):
    return dict(config["folds"])


def model_params(wildcards):
    return _planned(lambda: PLAN.model_params(wildcards.model))


def gather_levers(wildcards):
    return PLAN.levers[wildcards.model]


def fold_teacher_spec(wildcards):
    return PLAN.fold_teacher_spec(wildcards.teacher)


def ensemble_params(wildcards):
    return PLAN.ensemble_params(wildcards.ensemble)


def submission_params(wildcards):
    return PLAN.submission_params()


def report_params(wildcards):
    return PLAN.report_params()


def job_labels(wildcards):
    return PLAN.job_labels()


def task(wildcards):
    return config["task"]


def target_col(wildcards=None):
    return config["data"]["target_col"]


def metric(wildcards):
    return config["metric"]


##### pretrained weights (rules/weights.smk) #####


def weights_inputs(wildcards):
    """Input function: the fetched hub weights and their record for a pretrained: true model; {} otherwise."""
    source = PLAN.hub_weights.get(wildcards.model)
    if source is None:
        return {}
    return {"pretrained": source.path, "pretrained_info": source.info_path}


def weights_source(wildcards):
    """The hub source of one weights job (repository, files, url, licence)."""
    return dataclasses.asdict(PLAN.weight_sources[wildcards.source])


def weights_content(wildcards):
    """Params function: the cached file's SHA-256, so a changed cache re-fetches (and re-trains) by content."""
    source = PLAN.weight_sources[wildcards.source]
    path = cached_file(source)
    info = Path(source.info_path)
    record = json.loads(info.read_text()) if info.is_file() else None
    return tracked_content(file_checksum(path) if path else None, record)


##### model jobs: nets or classic (CPU-only) families, seeds and refits #####


def model_code(script):
    """Params function: hash of a train/predict/refit job's script and, for a classic model, the
    modules of its family's features and head (imported by name): an edit re-runs only their models.
    """

    def inner(wildcards):
        modules = families.family_modules(config["models"][wildcards.model], KIND)
        path = Path(workflow.basedir) / "workflow_scripts" / f"{script}.py"
        return code_version(path, tuple(modules))

    return inner


def model_gpus(wildcards):
    """Resources function: 1 GPU for a net's train/predict job on a GPU machine, else 0 (classic: none)."""
    return job_gpus(PLAN.is_net(wildcards.model), GPUS_HERE)


def model_threads(wildcards):
    """Threads function: the run's cores split over the train (or predict) jobs that run side by side."""
    return job_threads(
        workflow._cores, len(MODELS) * len(FOLDS), model_gpus(wildcards), GPUS_HERE
    )


def model_cache(split):
    """Input function: the cache of the model's size for one split."""
    return lambda wildcards: rules.cache.output.npy.format(
        size=PLAN.cache_size(wildcards.model), split=split
    )


def job_output(rule_name, key, seed=0, **wildcards):
    """One output of a train/predict/refit job: seed 0 from ``rule_name``, seed s > 0 from ``<rule_name>_seed``."""
    job_rule = getattr(rules, rule_name if seed == 0 else f"{rule_name}_seed")
    return job_rule.output[key].format(seed=seed, **wildcards)


def seed_files(rule_name, key):
    """Input function: a train or predict output of every (seed, fold) of a model, seed-major."""
    return lambda w: [
        job_output(rule_name, key, s, model=w.model, fold=k)
        for s, k in PLAN.seed_jobs(w.model)
    ]


def refit_files(key):
    """Input function: a refit output of each seed of a model with refit full or blend; [] with refit none."""
    return lambda w: [
        job_output("refit", key, s, model=w.model) for s in PLAN.refit_seeds(w.model)
    ]


def refit_fold_runs(wildcards):
    """Input function: the same seed's folds' metrics.json, for the refits that derive their length from them."""
    if not PLAN.refit_reads_folds(wildcards.model):
        return []
    seed = int(wildcards.get("seed", 0))
    return [
        job_output("train", "metrics", seed, model=wildcards.model, fold=k)
        for k in FOLDS
    ]


def reference_inputs(wildcards):
    """Input function: the training table for an ArcFace model's reference labels; {} otherwise."""
    if config["models"][wildcards.model]["head"]["kind"] != "arcface":
        return {}
    return {"train_table": rules.tables.output.train}


def fold_files(rule_output):
    """Input function: one file per fold of a model (a train or predict output)."""
    return lambda wildcards: expand(rule_output, model=wildcards.model, fold=FOLDS)


##### pseudo-labelled students and their teachers #####


def teacher_fold_test(teacher, fold):
    """The fold-k test predictions of a teacher: its fold-k model's file, or a fold_teacher job's."""
    if PLAN.teacher_fold_from_predict(teacher):
        return rules.predict.output.test.format(model=teacher, fold=fold)
    return rules.fold_teacher.output.test.format(teacher=teacher, fold=fold)


def teacher_inputs(wildcards):
    """Input function: a student's teacher test file (fold-wise or final), the test cache and table; {} otherwise."""
    teacher = PLAN.teacher(wildcards.model)
    if not teacher:
        return {}
    if PLAN.reads_fold_teacher(wildcards.model):
        test = teacher_fold_test(teacher, wildcards.fold)
    else:
        test = prediction_path(teacher, "test")
    return {
        "teacher": test,
        "test_cache": model_cache("test")(wildcards),
        "test_table": rules.test_table.output.test,
    }


def refit_teacher_inputs(wildcards):
    """Input function: a student's refit reads the teacher's final test file (no fold to keep out); {} otherwise."""
    teacher = PLAN.teacher(wildcards.model)
    return {"teacher": prediction_path(teacher, "test")} if teacher else {}


def fold_teacher_tests(wildcards):
    """Input function: each member's fold-k test file of every seed, member-major."""
    jobs = PLAN.fold_teacher_jobs(wildcards.teacher)
    return [
        job_output("predict", "test", s, model=m, fold=wildcards.fold) for m, s in jobs
    ]


def fold_teacher_weights(wildcards):
    """Input function: an ensemble teacher's weights.json (its per-fold nested weights); {} for a model."""
    if PLAN.is_model(wildcards.teacher):
        return {}
    return {"weights": rules.ensemble.output.weights.format(ensemble=wildcards.teacher)}


##### predictions of models and ensembles #####


def prediction_path(name, key, member=False):
    """A model's gathered OOF/test/scores file or an ensemble's; as a member, an ensemble's nested OOF."""
    if PLAN.is_model(name):
        return rules.gather.output[key].format(model=name)
    key = "oof_nested" if member and key == "oof" else key
    return rules.ensemble.output[key].format(ensemble=name)


def member_files(key):
    """Input function: the OOF or test file of each member of an ensemble."""
    return lambda w: [
        prediction_path(m, key, member=True) for m in PLAN.ensemble_members(w.ensemble)
    ]


def prediction_file(key):
    """Input function: the OOF or test predictions of a model or ensemble."""
    return lambda wildcards: prediction_path(wildcards.name, key)


def score_files(wildcards):
    """Every model's and ensemble's CV scores (in CANDIDATES order)."""
    return [prediction_path(n, "scores") for n in CANDIDATES]


def candidate_files(key):
    """Input function: the OOF or test file of every model and ensemble (CANDIDATES order)."""
    return lambda wildcards: [prediction_path(n, key) for n in CANDIDATES]


def submitted_predictions(key):
    """Input function: the OOF or test file of every submitted model or ensemble."""
    return lambda wildcards: [prediction_path(n, key) for n in SUBMISSIONS]


##### targets #####


def submission_reports():
    """The report of every submission, `best` last when asked for."""
    reports = expand(rules.submission.output.report, name=SUBMISSIONS)
    return reports + ([rules.best_submission.output.report] if PLAN.best else [])


def report_names():
    return PLAN.report_names()


def final_outputs():
    """What `snakemake` builds by default."""
    best = ["results/submissions/best.csv"] if PLAN.best else []
    return [
        "results/leaderboard.csv",
        *expand("results/submissions/{name}.csv", name=SUBMISSIONS),
        *best,
    ]


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
