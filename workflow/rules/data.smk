rule aggregate_trials:
    input:
        records=dataset_source(),
    output:
        csv=results("data/aggregated.csv"),
    params:
        trials=config.get("trials"),
    log:
        logs("aggregate_trials.log"),
    benchmark:
        benchmarks("aggregate_trials.tsv")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/binoval.yaml"
    script:
        "../../scripts/aggregate_trials.py"


rule validate_data:
    input:
        csv=grouped_csv(),
    output:
        data=results("data/data.parquet"),
    params:
        columns=data_columns(),
    log:
        logs("validate_data.log"),
    benchmark:
        benchmarks("validate_data.tsv")
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/binoval.yaml"
    script:
        "../../scripts/validate_data.py"
