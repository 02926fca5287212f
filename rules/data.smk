rule tables:
    output:
        train="results/data/train.parquet",
        test="results/data/test.parquet",
        classes="results/data/classes.json",
    log:
        "logs/tables.log",
    conda:
        ENV
    params:
        data=table_params,
        task=task,
        checksums=raw_checksums("train_csv", "test_csv", "sample_submission"),
        code=code("tables"),
    script:
        "../workflow_scripts/tables.py"


rule cache:
    input:
        table="results/data/{split}.parquet",
    output:
        npy="results/cache/{size}/{split}.npy",
    log:
        "logs/cache/{size}/{split}.log",
    benchmark:
        "results/benchmarks/cache/{size}/{split}.tsv"
    conda:
        ENV
    threads: 1
    params:
        data=cache_params,
        code=code("cache"),
    script:
        "../workflow_scripts/cache.py"
