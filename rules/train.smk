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
        script=model_script("train"),
    script:
        "../workflow_scripts/{params.script}.py"


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
    conda:
        ENV
    threads: model_threads
    resources:
        gpu=model_gpus,
    params:
        settings=model_params,
        code=model_code("predict"),
        script=model_script("predict"),
    script:
        "../workflow_scripts/{params.script}.py"


rule gather:
    input:
        oofs=fold_files(rules.train.output.oof),
        tests=fold_files(rules.predict.output.test),
        runs=fold_files(rules.train.output.metrics),
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
        code=code("gather"),
    script:
        "../workflow_scripts/gather.py"
