rule submission:
    input:
        test=prediction_file,
        classes=rules.tables.output.classes,
        sample=data_file("sample_submission"),
        solution=data_file("solution"),
    output:
        csv="results/submissions/{name}.csv",
        report="results/submissions/{name}.json",
    log:
        "logs/submission/{name}.log",
    conda:
        ENV
    params:
        settings=submission_params,
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
    script:
        "../workflow_scripts/leaderboard.py"
