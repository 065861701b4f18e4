rule fit:
    input:
        data=rules.validate_data.output.data,
    output:
        idata=results("fits/{model_id}.nc"),
        parameters=results("diagnostics/{model_id}_parameters.parquet"),
        sampler=results("diagnostics/{model_id}_sampler.parquet"),
    params:
        model=model_params,
        sampler=config["sampler"],
        seed=config["seed"],
    log:
        logs("fit/{model_id}.log"),
    benchmark:
        results("benchmarks/fit/{model_id}.tsv")
    threads: min(config["sampler"]["chains"], workflow.cores)
    resources:
        mem_mb=3000,
        runtime=30,
    script:
        "../../scripts/fit.py"


# The fit stage's tables for the verdict (keys as binoval.checks.fit.fit_status names them).
fit_tables = lambda model_id: {
    "parameters": results(f"diagnostics/{model_id}_parameters.parquet"),
    "sampler": results(f"diagnostics/{model_id}_sampler.parquet"),
}
