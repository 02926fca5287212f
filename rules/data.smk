rule tables:
    output:
        train="results/data/train.parquet",
        classes="results/data/classes.json",
    log:
        "logs/tables.log",
    conda:
        ENV
    params:
        data=table_params,
        task=task,
        checksums=raw_checksums("train_csv"),
        code=code("tables"),
    script:
        "../workflow_scripts/tables.py"


rule test_table:
    output:
        test="results/data/test.parquet",
    log:
        "logs/test_table.log",
    conda:
        ENV
    params:
        data=test_table_params,
        checksums=raw_checksums("test_csv", "sample_submission"),
        code=code("test_table"),
    script:
        "../workflow_scripts/test_table.py"


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
        inputs_sha256=cache_inputs,
        code=code(CACHE_SCRIPT),
    script:
        f"../workflow_scripts/{CACHE_SCRIPT}.py"
