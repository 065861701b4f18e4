rule fit:
    input:
        data=rules.validate_data.output.data,
    output:
        idata=results("fits/{model_id}.nc"),
        parameters=results("diagnostics/{model_id}_parameters.parquet"),
        sampler=results("diagnostics/{model_id}_sampler.parquet"),
    log:
        logs("fit/{model_id}.log"),
    benchmark:
        benchmarks("fit/{model_id}.tsv")
    priority: LONG_JOB_PRIORITY
    conda:
        "../../envs/binoval.yaml"
    # one thread on small data: a fit job is mostly single-threaded compilation (10-25 s) against < 1 s of
    # sampling, so two jobs side by side beat one job on two threads; one per chain on large data (binoval.resources)
    threads: fit_threads()
    resources:
        mem_mb=memory_of("fit"),
        runtime=runtime_of("fit"),
    params:
        model=model_params,
        sampler=config["sampler"],
        extension=config["fit"],
        targets=convergence_targets(),
        seed=config["seed"],
        # what a fit stores (binoval.loo.tasks): a change here reruns fits written before it
        log_likelihood=list(LOG_LIKELIHOOD_VARS.values()),
    script:
        "../../scripts/fit.py"
