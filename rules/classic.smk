# Classic families (ROCKET, HYDRA, QUANT, logistic, LightGBM, ...): one CPU job per (fold, seed) fits the
# fold and predicts its test rows in the same process; one refit per seed. They write the files the
# nets' train, predict and refit jobs write (train.smk), so gather reads both alike.


rule train_classic:
    input:
        table=rules.tables.output.train,
        classes=rules.tables.output.classes,
        folds=rules.folds.output.folds,
        train_cache=model_cache("train"),
        test_cache=model_cache("test"),
        test_table=rules.test_table.output.test,
    output:
        oof="results/models/{model}/fold{fold}/oof.parquet",
        history="results/models/{model}/fold{fold}/history.csv",
        weights="results/models/{model}/fold{fold}/best.pt",
        metrics="results/models/{model}/fold{fold}/metrics.json",
        test="results/models/{model}/fold{fold}/test.parquet",
    log:
        "logs/train/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/train/{model}/fold{fold}.tsv"
    wildcard_constraints:
        model=CLASSICS,
    conda:
        ENV
    threads: model_threads
    params:
        settings=model_params,
        target_col=target_col,
        code=model_code("train_classic"),
    script:
        "../workflow_scripts/train_classic.py"


rule train_classic_seed:
    input:
        table=rules.tables.output.train,
        classes=rules.tables.output.classes,
        folds=rules.folds.output.folds,
        train_cache=model_cache("train"),
        test_cache=model_cache("test"),
        test_table=rules.test_table.output.test,
    output:
        oof="results/models/{model}/fold{fold}/seed{seed}/oof.parquet",
        history="results/models/{model}/fold{fold}/seed{seed}/history.csv",
        weights="results/models/{model}/fold{fold}/seed{seed}/best.pt",
        metrics="results/models/{model}/fold{fold}/seed{seed}/metrics.json",
        test="results/models/{model}/fold{fold}/seed{seed}/test.parquet",
    log:
        "logs/train/{model}/fold{fold}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{model}/fold{fold}/seed{seed}.tsv"
    wildcard_constraints:
        model=CLASSICS,
    conda:
        ENV
    threads: model_threads
    params:
        settings=model_params,
        target_col=target_col,
        code=model_code("train_classic"),
    script:
        "../workflow_scripts/train_classic.py"


rule refit_classic:
    input:
        table=rules.tables.output.train,
        classes=rules.tables.output.classes,
        folds=rules.folds.output.folds,
        train_cache=model_cache("train"),
        test_cache=model_cache("test"),
        test_table=rules.test_table.output.test,
        fold_runs=refit_fold_runs,
    output:
        test="results/models/{model}/refit/test.parquet",
        weights="results/models/{model}/refit/best.pt",
        metrics="results/models/{model}/refit/metrics.json",
    log:
        "logs/refit/{model}.log",
    benchmark:
        "results/benchmarks/refit/{model}.tsv"
    wildcard_constraints:
        model=CLASSICS,
    conda:
        ENV
    threads: model_threads
    params:
        settings=model_params,
        code=model_code("refit_classic"),
    script:
        "../workflow_scripts/refit_classic.py"


rule refit_classic_seed:
    input:
        table=rules.tables.output.train,
        classes=rules.tables.output.classes,
        folds=rules.folds.output.folds,
        train_cache=model_cache("train"),
        test_cache=model_cache("test"),
        test_table=rules.test_table.output.test,
        fold_runs=refit_fold_runs,
    output:
        test="results/models/{model}/refit/seed{seed}/test.parquet",
        weights="results/models/{model}/refit/seed{seed}/best.pt",
        metrics="results/models/{model}/refit/seed{seed}/metrics.json",
    log:
        "logs/refit/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/refit/{model}/seed{seed}.tsv"
    wildcard_constraints:
        model=CLASSICS,
    conda:
        ENV
    threads: model_threads
    params:
        settings=model_params,
        code=model_code("refit_classic"),
    script:
        "../workflow_scripts/refit_classic.py"
