#!/usr/bin/env python3
"""Status command for the local cluster stand-in: prints running, success or failed for a job id."""

import os
import sys
from pathlib import Path

jobs = Path(os.environ.get("BINOVAL_CLUSTER_JOBS", ".cluster-jobs")).resolve()
exit_file = jobs / f"{sys.argv[1]}.exit"
if not exit_file.exists():
    print("running")
else:
    print("success" if exit_file.read_text().strip() == "0" else "failed")
