rule submission:
    input:
        test=prediction_file("test"),
        oof=prediction_file("oof"),
        classes=rules.tables.output.classes,
    output:
        csv="results/submissions/{name}.csv",
        report="results/submissions/{name}.json",
    log:
        "logs/submission/{name}.log",
    conda:
        ENV
    params:
        settings=submission_params,
        checksums=raw_checksums("sample_submission", "solution"),
        code=code("submission"),
    script:
        "../workflow_scripts/submission.py"


rule leaderboard:
    input:
        scores=score_files,
        reports=expand(rules.submission.output.report, name=SUBMISSIONS),
    output:
        csv="results/leaderboard.csv",
    log:
        "logs/leaderboard.log",
    conda:
        ENV
    params:
        names=SUBMISSIONS,
        code=code("leaderboard"),
    script:
        "../workflow_scripts/leaderboard.py"
