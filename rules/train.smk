# Nets (torch): one train and one predict job per (fold, seed), one refit per seed. The classic
# families' jobs, writing the same files, are in classic.smk.


rule train:
    input:
        unpack(teacher_inputs),
        unpack(weights_inputs),
        table=rules.tables.output.train,
        classes=rules.tables.output.classes,
        folds=rules.folds.output.folds,
        train_cache=model_cache("train"),
    output:
        oof="results/models/{model}/fold{fold}/oof.parquet",
        history="results/models/{model}/fold{fold}/history.csv",
        weights="results/models/{model}/fold{fold}/best.pt",
        metrics="results/models/{model}/fold{fold}/metrics.json",
    log:
        "logs/train/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/train/{model}/fold{fold}.tsv"
    wildcard_constraints:
        model=NETS,
    conda:
        ENV
    threads: model_threads
    resources:
        gpu=model_gpus,
    params:
        settings=model_params,
        target_col=target_col,
        checkpoint_dir="results/checkpoints/{model}/fold{fold}",
        code=model_code("train"),
    script:
        "../workflow_scripts/train.py"


rule predict:
    input:
        unpack(reference_inputs),
        unpack(weights_inputs),
        weights=rules.train.output.weights,
        classes=rules.tables.output.classes,
        folds=rules.folds.output.folds,
        train_cache=model_cache("train"),
        test_cache=model_cache("test"),
        test_table=rules.test_table.output.test,
    output:
        test="results/models/{model}/fold{fold}/test.parquet",
    log:
        "logs/predict/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/predict/{model}/fold{fold}.tsv"
    wildcard_constraints:
        model=NETS,
    conda:
        ENV
    threads: model_threads
    resources:
        gpu=model_gpus,
    params:
        settings=model_params,
        code=model_code("predict"),
    script:
        "../workflow_scripts/predict.py"


# models.<name>.seeds: seed s > 0 of a fold is its own train and predict job, in fold{k}/seed{s}/


rule train_seed:
    input:
        unpack(teacher_inputs),
        table=rules.tables.output.train,
        classes=rules.tables.output.classes,
        folds=rules.folds.output.folds,
        train_cache=model_cache("train"),
    output:
        oof="results/models/{model}/fold{fold}/seed{seed}/oof.parquet",
        history="results/models/{model}/fold{fold}/seed{seed}/history.csv",
        weights="results/models/{model}/fold{fold}/seed{seed}/best.pt",
        metrics="results/models/{model}/fold{fold}/seed{seed}/metrics.json",
    log:
        "logs/train/{model}/fold{fold}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{model}/fold{fold}/seed{seed}.tsv"
    wildcard_constraints:
        model=NETS,
    conda:
        ENV
    threads: model_threads
    resources:
        gpu=model_gpus,
    params:
        settings=model_params,
        target_col=target_col,
        checkpoint_dir="results/checkpoints/{model}/fold{fold}/seed{seed}",
        code=model_code("train"),
    script:
        "../workflow_scripts/train.py"


rule predict_seed:
    input:
        unpack(reference_inputs),
        weights=rules.train_seed.output.weights,
        classes=rules.tables.output.classes,
        folds=rules.folds.output.folds,
        train_cache=model_cache("train"),
        test_cache=model_cache("test"),
        test_table=rules.test_table.output.test,
    output:
        test="results/models/{model}/fold{fold}/seed{seed}/test.parquet",
    log:
        "logs/predict/{model}/fold{fold}/seed{seed}.log",
    benchmark:
        "results/benchmarks/predict/{model}/fold{fold}/seed{seed}.tsv"
    wildcard_constraints:
        model=NETS,
    conda:
        ENV
    threads: model_threads
    resources:
        gpu=model_gpus,
    params:
        settings=model_params,
        code=model_code("predict"),
    script:
        "../workflow_scripts/predict.py"


# models.<name>.refit: full | blend: one more job per seed fits on every labelled row and predicts the test set


rule refit:
    input:
        unpack(refit_teacher_inputs),
        unpack(weights_inputs),
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
        model=NETS,
    conda:
        ENV
    threads: model_threads
    resources:
        gpu=model_gpus,
    params:
        settings=model_params,
        target_col=target_col,
        checkpoint_dir="results/checkpoints/{model}/refit",
        code=model_code("refit"),
    script:
        "../workflow_scripts/refit.py"


rule refit_seed:
    input:
        unpack(refit_teacher_inputs),
        unpack(weights_inputs),
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
        model=NETS,
    conda:
        ENV
    threads: model_threads
    resources:
        gpu=model_gpus,
    params:
        settings=model_params,
        target_col=target_col,
        checkpoint_dir="results/checkpoints/{model}/refit/seed{seed}",
        code=model_code("refit"),
    script:
        "../workflow_scripts/refit.py"


# pseudo.source: fold - a teacher's fold-k test predictions when they are not one file already
# (a teacher with several seeds: their mean; an ensemble teacher: its fold-k blend)


rule fold_teacher:
    input:
        unpack(fold_teacher_weights),
        tests=fold_teacher_tests,
        folds=rules.folds.output.folds,
    output:
        test="results/pseudo/{teacher}/fold{fold}.parquet",
    log:
        "logs/fold_teacher/{teacher}/fold{fold}.log",
    conda:
        ENV
    params:
        spec=fold_teacher_spec,
        code=code("fold_teacher"),
    script:
        "../workflow_scripts/fold_teacher.py"


rule gather:
    input:
        oofs=seed_files("train", "oof"),
        tests=seed_files("predict", "test"),
        runs=seed_files("train", "metrics"),
        refits=refit_files("test"),
        refit_runs=refit_files("metrics"),
        folds=rules.folds.output.folds,
        table=rules.tables.output.train,
        classes=rules.tables.output.classes,
    output:
        oof="results/oof/{model}.parquet",
        test="results/test/{model}.parquet",
        scores="results/scores/{model}.json",
        manifest="results/models/{model}/manifest.json",
    log:
        "logs/gather/{model}.log",
    conda:
        ENV
    params:
        target_col=target_col,
        metric=metric,
        task=task,
        levers=gather_levers,
        code=code("gather"),
    script:
        "../workflow_scripts/gather.py"
