rule folds:
    input:
        table=rules.tables.output.train,
    output:
        folds="results/folds/folds.pkl",
    log:
        "logs/folds.log",
    conda:
        ENV
    params:
        folds=fold_params,
        code=code("folds"),
    script:
        "../workflow_scripts/folds.py"
