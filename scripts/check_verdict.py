"""Rule check_verdict: with fail_on_reject, exit non-zero when no model is accepted (a CI gate)."""

import json
import sys

from binoval.io import write_text
from binoval.logs import log_to

log = log_to(snakemake.log[0])
verdict = json.loads(open(snakemake.input.verdict).read())
accepted = [m for m, v in verdict["models"].items() if v["verdict"] == "ACCEPT"]
message = f"overall {verdict['overall']}: {len(accepted)}/{len(verdict['models'])} models accepted"
if verdict["overall"] == "REJECT" and snakemake.params.fail_on_reject:
    log.error("%s; fail_on_reject is true", message)
    print(
        f"binoval: no model accepted and fail_on_reject is true; see {snakemake.input.report}",
        file=sys.__stdout__,
        flush=True,
    )
    sys.exit(1)
log.info(message)
write_text(message + "\n", snakemake.output.checked)
