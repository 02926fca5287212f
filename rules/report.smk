# Figures and tables for `snakemake --report results/report.html`. Each is made by
# its own small rule from files already in results/, so the report never retrains
# anything and a figure is redrawn only when its inputs, params or code change.
# They are light: on a cluster they run in the main process, not as jobs.


localrules:
    report_leaderboard,
    plot_folds,
    plot_curves,
    plot_confusion,
    plot_recall,
    plot_calibration,
    plot_classes,
    plot_weights,
    plot_jobs,


rule report_leaderboard:
    input:
        leaderboard=rules.leaderboard.output.csv,
    output:
        html=report(
            f"{REPORT}/leaderboard.html",
            caption="../report/leaderboard.rst",
            category="1. Leaderboard",
            subcategory="table",
            labels={"figure": "leaderboard"},
        ),
    log:
        "logs/report/leaderboard.log",
    conda:
        ENV
    params:
        code=code("report_leaderboard"),
    script:
        "../workflow_scripts/report_leaderboard.py"


rule plot_folds:
    input:
        leaderboard=rules.leaderboard.output.csv,
    output:
        plot=report(
            f"{REPORT}/fold_scores.png",
            caption="../report/fold_scores.rst",
            category="1. Leaderboard",
            subcategory="scores per fold",
            labels={"figure": "scores per fold"},
        ),
    log:
        "logs/report/fold_scores.log",
    conda:
        ENV
    params:
        code=code("plot_folds"),
    script:
        "../workflow_scripts/plot_folds.py"


rule plot_curves:
    input:
        histories=fold_files(rules.train.output.history),
        runs=fold_files(rules.train.output.metrics),
    output:
        plot=report(
            f"{REPORT}/curves/{{model}}.png",
            caption="../report/curves.rst",
            category="2. Learning curves",
            subcategory="{model}",
            labels={"model": "{model}", "figure": "learning curves"},
        ),
    log:
        "logs/report/curves/{model}.log",
    conda:
        ENV
    params:
        code=code("plot_curves"),
    script:
        "../workflow_scripts/plot_curves.py"


rule plot_confusion:
    input:
        leaderboard=rules.leaderboard.output.csv,
        oofs=submitted_predictions("oof"),
        reports=expand(rules.submission.output.report, name=SUBMISSIONS),
        classes=rules.tables.output.classes,
    output:
        plot=report(
            f"{REPORT}/confusion.png",
            caption="../report/confusion.rst",
            category="3. Predictions",
            subcategory="confusion matrix",
            labels={"figure": "confusion matrix (best submission)"},
        ),
    log:
        "logs/report/confusion.log",
    conda:
        ENV
    params:
        settings=report_params,
        code=code("plot_confusion"),
    script:
        "../workflow_scripts/plot_confusion.py"


rule plot_recall:
    input:
        oofs=candidate_files("oof"),
        reports=expand(rules.submission.output.report, name=SUBMISSIONS),
        classes=rules.tables.output.classes,
    output:
        plot=report(
            f"{REPORT}/recall.png",
            caption="../report/recall.rst",
            category="3. Predictions",
            subcategory="recall per class",
            labels={"figure": "recall per class"},
        ),
    log:
        "logs/report/recall.log",
    conda:
        ENV
    params:
        settings=report_params,
        code=code("plot_recall"),
    script:
        "../workflow_scripts/plot_recall.py"


rule plot_calibration:
    input:
        oofs=candidate_files("oof"),
        classes=rules.tables.output.classes,
    output:
        plot=report(
            f"{REPORT}/calibration.png",
            caption="../report/calibration.rst",
            category="3. Predictions",
            subcategory="calibration",
            labels={"figure": "calibration (reliability diagram)"},
        ),
    log:
        "logs/report/calibration.log",
    conda:
        ENV
    params:
        settings=report_params,
        code=code("plot_calibration"),
    script:
        "../workflow_scripts/plot_calibration.py"


rule plot_classes:
    input:
        leaderboard=rules.leaderboard.output.csv,
        table=rules.tables.output.train,
        oofs=submitted_predictions("oof"),
        tests=submitted_predictions("test"),
        reports=expand(rules.submission.output.report, name=SUBMISSIONS),
        classes=rules.tables.output.classes,
    output:
        plot=report(
            f"{REPORT}/classes.png",
            caption="../report/classes.rst",
            category="3. Predictions",
            subcategory="class distribution",
            labels={"figure": "class distribution, train vs. predicted test"},
        ),
    log:
        "logs/report/classes.log",
    conda:
        ENV
    params:
        settings=report_params,
        code=code("plot_classes"),
    script:
        "../workflow_scripts/plot_classes.py"


rule plot_weights:
    input:
        weights=rules.ensemble.output.weights,
    output:
        plot=report(
            f"{REPORT}/weights/{{ensemble}}.png",
            caption="../report/weights.rst",
            category="4. Ensembles",
            subcategory="{ensemble}",
            labels={"ensemble": "{ensemble}", "figure": "member weights"},
        ),
    log:
        "logs/report/weights/{ensemble}.log",
    conda:
        ENV
    params:
        code=code("plot_weights"),
    script:
        "../workflow_scripts/plot_weights.py"


rule plot_jobs:
    input:
        runs=expand(rules.train.output.metrics, model=MODELS, fold=FOLDS),
    output:
        plot=report(
            f"{REPORT}/jobs.png",
            caption="../report/jobs.rst",
            category="5. Jobs",
            subcategory="training jobs",
            labels={"figure": "wall time, samples/s, GPU memory"},
        ),
    log:
        "logs/report/jobs.log",
    conda:
        ENV
    params:
        labels=job_labels,
        code=code("plot_jobs"),
    script:
        "../workflow_scripts/plot_jobs.py"
