rule tables:
    input:
        train=data_file("train_csv"),
        test=data_file("test_csv"),
        sample=data_file("sample_submission"),
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
    script:
        "../workflow_scripts/cache.py"
