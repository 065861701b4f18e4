# PSIS-LOO / WAIC per model and task, SMC evidence per mixture K, then the comparison of all models.
include: "compare_common.smk"


rule loo:
    input:
        data=rules.validate_data.output.data,
        idata=results("fits/{model_id}.nc"),
    output:
        loo=results("loo/{model_id}.parquet"),
    log:
        logs("loo/{model_id}.log"),
    benchmark:
        benchmarks("loo/{model_id}.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=memory_of("loo"),
        runtime=runtime_of("loo"),
    params:
        model=model_params,
        loo=config["loo"],
        sampler=config["sampler"],
        seed=config["seed"],
    script:
        "../../scripts/loo.py"


rule evidence:
    input:
        data=rules.validate_data.output.data,
    output:
        evidence=results("evidence/{model_id}.parquet"),
    log:
        logs("evidence/{model_id}.log"),
    benchmark:
        benchmarks("evidence/{model_id}.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=memory_of("evidence"),
        runtime=runtime_of("evidence"),
    params:
        model=model_params,
        mixture=lambda wildcards: mixture_ids()[wildcards.model_id],
        evidence=config["compare"].get("evidence", {}),
        seed=config["seed"],
    script:
        "../../scripts/evidence.py"


rule compare:
    input:
        loo=expand(results("loo/{model_id}.parquet"), model_id=list(MODEL_SPECS)),
        evidence=expand(results("evidence/{model_id}.parquet"), model_id=list(mixture_ids())),
    output:
        comparison=results("compare.parquet"),
    log:
        logs("compare.log"),
    benchmark:
        benchmarks("compare.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        model_ids=list(MODEL_SPECS),
        mixtures=mixture_ids(),
        tolerance=config["compare"],
    script:
        "../../scripts/compare.py"
