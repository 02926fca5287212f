rule folds:
    input:
        table=rules.tables.output.train,
        classes=rules.tables.output.classes,
    output:
        folds="results/folds/folds.pkl",
    log:
        "logs/folds.log",
    conda:
        ENV
    params:
        folds=fold_params,
        task=task,
        code=code("folds"),
    script:
        "../workflow_scripts/folds.py"
