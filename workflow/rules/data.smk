rule validate_data:
    input:
        csv=dataset_csv(),
    output:
        data=results("data/data.parquet"),
    params:
        columns=config["columns"],
    log:
        logs("validate_data.log"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/binoval.yaml"
    script:
        "../../scripts/validate_data.py"
