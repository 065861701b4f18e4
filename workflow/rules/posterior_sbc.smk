# Posterior SBC: calibration conditional on the observed data (binoval.sbc.posterior). Shards of simulations per
# model, each drawing its reference parameters from the stored fit, then a summary per model. Sharding, seeding and
# reruns as for prior SBC (sbc.smk): a shard's params do not include posterior_sbc.simulations.
from binoval.verdict.report import stage_plot_report


rule posterior_sbc_shard:
    input:
        data=rules.validate_data.output.data,
        idata=rules.fit.output.idata,
        parameters=rules.fit.output.parameters,
        sampler=rules.fit.output.sampler,
    output:
        table=results("posterior_sbc/shards/{model_id}/{shard}.parquet"),
    log:
        logs("posterior_sbc_shard/{model_id}/{shard}.log"),
    benchmark:
        benchmarks("posterior_sbc_shard/{model_id}/{shard}.tsv")
    wildcard_constraints:
        shard=r"\d+",
    priority: LONG_JOB_PRIORITY
    conda:
        "../../envs/binoval.yaml"
    threads: 1  # as sbc_shard
    resources:
        mem_mb=memory_of("posterior_sbc_shard"),
        runtime=runtime_of("posterior_sbc_shard", shard_size(posterior_sbc_config())),
    params:
        model=model_params,
        sbc=posterior_sbc_shard_params(),
        sampler=sbc_inherited_sampler(),
        seed=config["seed"],
    script:
        "../../scripts/posterior_sbc_shard.py"


rule posterior_sbc_summary:
    input:
        shards=lambda wc: expand(
            results("posterior_sbc/shards/{model_id}/{shard}.parquet"),
            model_id=wc.model_id,
            shard=range(posterior_sbc_shard_count()),
        ),
    output:
        summary=results("posterior_sbc/{model_id}.parquet"),
        simulations=results("posterior_sbc/simulations/{model_id}.parquet"),
        ecdf=report(
            results("posterior_sbc/plots/{model_id}_ecdf.png"), **stage_plot_report("posterior_sbc", "ECDF difference")
        ),
        ranks=report(
            results("posterior_sbc/plots/{model_id}_ranks.png"),
            **stage_plot_report("posterior_sbc", "rank histograms"),
        ),
    log:
        logs("posterior_sbc_summary/{model_id}.log"),
    benchmark:
        benchmarks("posterior_sbc_summary/{model_id}.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=memory_of("posterior_sbc_summary"),
        runtime=runtime_of("posterior_sbc_summary"),
    params:
        simulations=int(posterior_sbc_config()["simulations"]),
        label="posterior SBC",
    script:
        "../../scripts/sbc_summary.py"
