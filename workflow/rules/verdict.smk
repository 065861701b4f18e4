# Verdict, report and the CI gate. Include this file LAST: it collects the
# stages whose rule files define `<stage>_tables(model_id)` (and, for the report,
# optionally `<stage>_plots(model_id)` -> list of PNG paths, beside it in common.smk); see compare_common.smk.
from binoval.verdict.report import REPORT_PLOT_SUBCATEGORY, report_plot_category


# Front page of `snakemake --report report.html`: the verdict table written by rule verdict.
report: os.path.join(os.getcwd(), results("verdict.rst"))


rule verdict:
    input:
        **verdict_table_inputs(),
        data=rules.validate_data.output.data,
    output:
        verdict=report(results("verdict.json"), category="Verdict", caption="../report/verdict.rst"),
        notes=results("verdict_notes.json"),
        summary=results("summary.txt"),
        rst=results("verdict.rst"),
    log:
        logs("verdict.log"),
    benchmark:
        benchmarks("verdict.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        thresholds=config.get("thresholds", {}),
        false_reject_rate=config["verdict"]["false_reject_rate"],
        tolerance=config["compare"],
        models=model_families(),
        run=run_dir(),
        dataset=config["dataset"],
    script:
        "../../scripts/verdict.py"


rule report:
    input:
        **report_plot_inputs(),
        verdict=rules.verdict.output.verdict,
        notes=rules.verdict.output.notes,
        comparison=rules.compare.output.comparison,
        data=rules.validate_data.output.data,
        loo=expand(results("loo/{model_id}.parquet"), model_id=list(MODEL_SPECS)),
        fits=expand(results("fits/{model_id}.nc"), model_id=list(MODEL_SPECS)),
        prior_draws=expand(results("prior_predictive/{model_id}_draws.parquet"), model_id=list(MODEL_SPECS)),
        sbc_predictive=expand(results("sbc/predictive/{model_id}.parquet"), model_id=list(MODEL_SPECS)),
    output:
        md=report(results("report.md"), category="Report", caption="../report/report_md.rst"),
        plots=report(
            directory(results("report")),
            patterns=["{name}.png"],
            category=lambda wc: report_plot_category(wc.name),
            subcategory=REPORT_PLOT_SUBCATEGORY,
            caption="../report/plots.rst",
        ),
    log:
        logs("report.log"),
    benchmark:
        benchmarks("report.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=memory_of("report"),
        runtime=runtime_of("report"),
    params:
        model_ids=list(MODEL_SPECS),
        models=model_families(),
        readout=config["readout"],
        tolerance=config["compare"],
        thresholds=config.get("thresholds", {}),
        false_reject_rate=config["verdict"]["false_reject_rate"],
        seed=config["seed"],
    script:
        "../../scripts/report.py"


rule check_verdict:
    input:
        verdict=rules.verdict.output.verdict,
        report=rules.report.output.md,
    output:
        checked=results("verdict.checked"),
    log:
        logs("check_verdict.log"),
    benchmark:
        benchmarks("check_verdict.tsv")
    conda:
        "../../envs/binoval.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    params:
        fail_on_reject=config["fail_on_reject"],
    script:
        "../../scripts/check_verdict.py"
