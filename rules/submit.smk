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


rule best_submission:
    input:
        scores=score_files,
        tests=candidate_files("test"),
        oofs=candidate_files("oof"),
        classes=rules.tables.output.classes,
    output:
        csv="results/submissions/best.csv",
        report="results/submissions/best.json",
    log:
        "logs/submission/best.log",
    conda:
        ENV
    params:
        names=CANDIDATES,
        settings=submission_params,
        checksums=raw_checksums("sample_submission", "solution"),
        code=code("best_submission"),
    script:
        "../workflow_scripts/best_submission.py"


rule leaderboard:
    input:
        scores=score_files,
        reports=submission_reports(),
    output:
        csv="results/leaderboard.csv",
    log:
        "logs/leaderboard.log",
    conda:
        ENV
    params:
        names=report_names(),
        code=code("leaderboard"),
    script:
        "../workflow_scripts/leaderboard.py"
