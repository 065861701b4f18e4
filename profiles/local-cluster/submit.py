#!/usr/bin/env python3
"""Submit command for Snakemake's cluster-generic executor that runs each job as its own local process.

It stands in for `sbatch`/`qsub`: Snakemake writes a job script, calls this with
the script's path as the last argument, and reads a job id from stdout. The
job runs detached; its exit code lands in <jobs dir>/<id>.exit for status.py.
Jobs dir: $BINOVAL_CLUSTER_JOBS or .cluster-jobs in the working directory.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

jobs = Path(os.environ.get("BINOVAL_CLUSTER_JOBS", ".cluster-jobs")).resolve()
jobs.mkdir(parents=True, exist_ok=True)
job_id = uuid.uuid4().hex[:12]
script = sys.argv[-1]
log, status = jobs / f"{job_id}.out", jobs / f"{job_id}.exit"
subprocess.Popen(
    ["/bin/sh", "-c", f'/bin/sh "{script}" > "{log}" 2>&1; echo $? > "{status}.tmp" && mv "{status}.tmp" "{status}"'],
    start_new_session=True,
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
print(job_id)
