rule aggregate_trials:
    input:
        records=dataset_source(),
    output:
        csv=results("data/aggregated.csv"),
    log:
        logs("aggregate_trials.log"),
    benchmark:
        benchmarks("aggregate_trials.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        trials=config.get("trials"),
    script:
        "../../scripts/aggregate_trials.py"


rule validate_data:
    input:
        csv=grouped_csv(),
    output:
        data=results("data/data.parquet"),
    log:
        logs("validate_data.log"),
    benchmark:
        benchmarks("validate_data.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        columns=data_columns(),
    script:
        "../../scripts/validate_data.py"
