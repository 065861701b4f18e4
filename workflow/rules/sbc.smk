# Simulation-based calibration: shards of simulations per model, then a summary per model.
# Shard s runs simulations s*sims_per_shard .. (s+1)*sims_per_shard - 1, always all of them; its params
# do not include sbc.simulations, so raising it adds shards and reruns only those and the summary.
from binoval.verdict.report import stage_plot_report


rule sbc_shard:
    input:
        data=rules.validate_data.output.data,
    output:
        table=results("sbc/shards/{model_id}/{shard}.parquet"),
        predictive=results("sbc/shards/{model_id}/{shard}_predictive.parquet"),
    log:
        logs("sbc_shard/{model_id}/{shard}.log"),
    benchmark:
        benchmarks("sbc_shard/{model_id}/{shard}.tsv")
    wildcard_constraints:
        shard=r"\d+",
    priority: LONG_JOB_PRIORITY
    conda:
        "../../envs/binoval.yaml"
    threads: 1  # like fit: compilation dominates; draws do not depend on threads
    resources:
        mem_mb=memory_of("sbc_shard"),
        runtime=runtime_of("sbc_shard", shard_size(sbc_config())),
    params:
        model=model_params,
        sbc=sbc_shard_params,
        sampler=sbc_inherited_sampler(),
        seed=config["seed"],
    script:
        "../../scripts/sbc_shard.py"


rule sbc_summary:
    input:
        shards=lambda wc: expand(
            results("sbc/shards/{model_id}/{shard}.parquet"), model_id=wc.model_id, shard=range(sbc_shard_count())
        ),
        predictive=lambda wc: expand(
            results("sbc/shards/{model_id}/{shard}_predictive.parquet"),
            model_id=wc.model_id,
            shard=range(sbc_shard_count()),
        ),
    output:
        summary=results("sbc/{model_id}.parquet"),
        simulations=results("sbc/simulations/{model_id}.parquet"),
        predictive=results("sbc/predictive/{model_id}.parquet"),
        ecdf=report(results("sbc/plots/{model_id}_ecdf.png"), **stage_plot_report("sbc", "ECDF difference")),
        ranks=report(results("sbc/plots/{model_id}_ranks.png"), **stage_plot_report("sbc", "rank histograms")),
    log:
        logs("sbc_summary/{model_id}.log"),
    benchmark:
        benchmarks("sbc_summary/{model_id}.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=memory_of("sbc_summary"),
        runtime=runtime_of("sbc_summary"),
    params:
        simulations=int(sbc_config()["simulations"]),
    script:
        "../../scripts/sbc_summary.py"
