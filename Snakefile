# foldwise: raw competition files -> cache -> folds -> per-fold training -> OOF
# -> ensembles -> submissions -> leaderboard. Wiring only: helpers live in
# rules/common.smk, logic in the foldwise package.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


##### helpers and config validation #####


include: "rules/common.smk"


##### target #####


rule all:
    default_target: True
    input:
        final_outputs(),
        report_outputs(),


##### stages #####


include: "rules/data.smk"
include: "rules/folds.smk"
include: "rules/weights.smk"
include: "rules/train.smk"
include: "rules/classic.smk"
include: "rules/ensemble.smk"
include: "rules/submit.smk"
include: "rules/report.smk"
