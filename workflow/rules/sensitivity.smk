# Prior sensitivity: power-scaling of each fit's prior and likelihood (binoval.sensitivity); no refits.
from binoval.verdict.report import stage_plot_report


rule sensitivity:
    input:
        data=rules.validate_data.output.data,
        idata=rules.fit.output.idata,
    output:
        table=results("sensitivity/{model_id}.parquet"),
        sequence=results("sensitivity/{model_id}_sequence.parquet"),
        plot=report(
            results("sensitivity/plots/{model_id}_powerscale.png"),
            **stage_plot_report("sensitivity", "posterior under power-scaling"),
        ),
    log:
        logs("sensitivity/{model_id}.log"),
    benchmark:
        benchmarks("sensitivity/{model_id}.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=memory_of("sensitivity"),
        runtime=runtime_of("sensitivity"),
    params:
        model=model_params,
        # the stored diagnosis uses it (the verdict recomputes it from thresholds.sensitivity either way)
        threshold=sensitivity_threshold(),
    script:
        "../../scripts/sensitivity.py"
