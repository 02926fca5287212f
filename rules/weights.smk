# Pretrained weights by name: one job per distinct hub source, the only step that may
# download (on a cluster it runs on the login node). Every train job of a model that
# starts from it takes the file as an input, so compute nodes never need internet.


localrules:
    weights,


rule weights:
    output:
        weights="results/weights/{source}.safetensors",
        info="results/weights/{source}.json",
    log:
        "logs/weights/{source}.log",
    conda:
        ENV
    params:
        source=weights_source,
        content=weights_content,
        code=code("weights"),
    script:
        "../workflow_scripts/weights.py"
