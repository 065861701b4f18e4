# Simulation-based calibration: shards of simulations per model, then a summary per model.
# Shard s runs simulations s*sims_per_shard .. (s+1)*sims_per_shard - 1, always all of them; its params
# do not include sbc.simulations, so raising it adds shards and reruns only those and the summary.
import math

from binoval.sbc import DEFAULT_SBC_CONFIG


def sbc_config():
    return {**DEFAULT_SBC_CONFIG, **config.get("sbc", {})}


def sbc_shard_count():
    c = sbc_config()
    return math.ceil(int(c["simulations"]) / int(c["sims_per_shard"]))


def sbc_shard_params(wildcards):
    """The SBC settings a shard depends on (not sbc.simulations), with this model's simulate_priors only."""
    c = sbc_config()
    from binoval.sbc.simulate import check_simulate_priors

    overrides = check_simulate_priors(c.get("simulate_priors"), MODEL_SPECS).get(wildcards.model_id, {})
    return {"sims_per_shard": int(c["sims_per_shard"]), "sampler": c.get("sampler") or {}, "thin": c["thin"],
            "min_ranks": int(c["min_ranks"]), "simulate_priors": overrides}


def sbc_inherited_sampler():
    """The global sampler keys SBC fits inherit (backend, target_accept, max_treedepth)."""
    return {k: v for k, v in config["sampler"].items() if k in ("backend", "target_accept", "max_treedepth")}


def sbc_threads():
    from binoval.sbc.shard import DEFAULT_SBC_SAMPLER

    chains = (sbc_config().get("sampler") or {}).get("chains", DEFAULT_SBC_SAMPLER["chains"])
    return min(int(chains), workflow.cores)


def sbc_tables(model_id):
    """Tables sbc_status (binoval.checks.sbc) needs, by key."""
    return {"summary": results(f"sbc/{model_id}.parquet"), "simulations": results(f"sbc/simulations/{model_id}.parquet")}


rule sbc_shard:
    input:
        data=rules.validate_data.output.data,
    output:
        table=results("sbc/shards/{model_id}/{shard}.parquet"),
    params:
        model=model_params,
        sbc=sbc_shard_params,
        sampler=sbc_inherited_sampler(),
        seed=config["seed"],
    wildcard_constraints:
        shard=r"\d+",
    log:
        logs("sbc/{model_id}/shard_{shard}.log"),
    benchmark:
        results("benchmarks/sbc_shard/{model_id}_{shard}.tsv")
    threads: sbc_threads()
    resources:
        mem_mb=3000,
        runtime=120,
    script:
        "../../scripts/sbc_shard.py"


rule sbc_summary:
    input:
        shards=lambda wc: expand(results("sbc/shards/{model_id}/{shard}.parquet"), model_id=wc.model_id,
                                 shard=range(sbc_shard_count())),
    output:
        summary=results("sbc/{model_id}.parquet"),
        simulations=results("sbc/simulations/{model_id}.parquet"),
        ecdf=results("sbc/plots/{model_id}_ecdf.png"),
        ranks=results("sbc/plots/{model_id}_ranks.png"),
    params:
        simulations=int(sbc_config()["simulations"]),
    log:
        logs("sbc/{model_id}/summary.log"),
    benchmark:
        results("benchmarks/sbc_summary/{model_id}.tsv")
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    script:
        "../../scripts/sbc_summary.py"
