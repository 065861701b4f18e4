# Prior predictive check per model: datasets drawn from the prior, their test statistics,
# where the observed data fall among them, and plots. Thresholds are applied at verdict time.
from binoval.verdict.report import stage_plot_report


rule prior_predictive:
    input:
        data=rules.validate_data.output.data,
    output:
        summary=results("prior_predictive/{model_id}.parquet"),
        draws=results("prior_predictive/{model_id}_draws.parquet"),
        groups=results("prior_predictive/{model_id}_groups.parquet"),
        plot_groups=report(
            results("prior_predictive/{model_id}_proportions.png"),
            **stage_plot_report("prior_predictive", "proportions"),
        ),
        plot_statistics=report(
            results("prior_predictive/{model_id}_statistics.png"),
            **stage_plot_report("prior_predictive", "statistics"),
        ),
    log:
        logs("prior_predictive/{model_id}.log"),
    benchmark:
        benchmarks("prior_predictive/{model_id}.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=memory_of("prior_predictive"),
        runtime=runtime_of("prior_predictive"),
    params:
        model=model_params,
        draws=config["prior_predictive"]["draws"],
        seed=config["seed"],
    script:
        "../../scripts/prior_predictive.py"
