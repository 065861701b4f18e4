# Posterior predictive check per model, from the fit's posterior_predictive draws:
# statistics with p-values, per-group interval coverage, randomised PIT, plots.
# Thresholds are applied at verdict time.
from binoval.verdict.report import stage_plot_report


rule ppc:
    input:
        idata=results("fits/{model_id}.nc"),
    output:
        statistics=results("ppc/{model_id}.parquet"),
        groups=results("ppc/{model_id}_groups.parquet"),
        calibration=results("ppc/{model_id}_calibration.parquet"),
        plot_statistics=report(results("ppc/{model_id}_statistics.png"), **stage_plot_report("ppc", "statistics")),
        plot_groups=report(results("ppc/{model_id}_groups.png"), **stage_plot_report("ppc", "groups")),
        plot_pit=report(results("ppc/{model_id}_pit.png"), **stage_plot_report("ppc", "PIT")),
    log:
        logs("ppc/{model_id}.log"),
    benchmark:
        benchmarks("ppc/{model_id}.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=memory_of("ppc"),
        runtime=runtime_of("ppc"),
    params:
        seed=config["seed"],
    script:
        "../../scripts/ppc.py"
