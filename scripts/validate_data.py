"""Rule validate_data: read the dataset CSV, check it, write data.parquet."""

from binoval.data.grouped import read_grouped_csv
from binoval.logs import log_to
from binoval.schemas import BinomialData, write_table

log = log_to(snakemake.log[0])
frame = read_grouped_csv(snakemake.input.csv, snakemake.params.columns)
write_table(frame, snakemake.output.data, BinomialData)
log.info("%d groups, %d trials, %d successes", len(frame), frame["n"].sum(), frame["r"].sum())
