"""A run killed with SIGKILL during SBC resumes: only unfinished jobs rerun and the outputs equal an uninterrupted run."""

import os
import re
import signal
import subprocess
import time

import pytest
from conftest import assert_same_outputs, run_snakemake, scheduled_jobs, snakemake_command

pytestmark = pytest.mark.workflow


def finished_jobs(log_text: str) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job Snakemake reported finished in its log."""
    jobs, finished = {}, set()
    for block in re.split(r"\n(?=\[[^\n]*\]\n(?:local)?rule )", log_text):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        jobid = re.search(r"^\s+jobid: (\d+)", block, re.M)
        if rule and jobid:
            wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
            jobs[jobid.group(1)] = (rule.group(1), wildcards.group(1).strip() if wildcards else "")
    for jobid in re.findall(r"Finished jobid: (\d+)", log_text):
        if jobid in jobs:
            finished.add(jobs[jobid])
    return finished


def test_killed_run_resumes_to_identical_outputs(tiny_run, tmp_path):
    reference, config = tiny_run
    log = tmp_path / "killed_run.log"
    command = snakemake_command(tmp_path, config, cores=2)
    with open(log, "w") as handle:
        process = subprocess.Popen(
            command, cwd=tmp_path, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 600
        while not any(rule == "sbc_shard" for rule, _ in finished_jobs(log.read_text())):
            assert process.poll() is None, "the run ended before any SBC shard finished"
            assert time.monotonic() < deadline, "no SBC shard finished within 10 minutes"
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)  # the whole job tree, as a crash or a scheduler kill would
        process.wait()
    finished = finished_jobs(log.read_text())
    assert ("verdict", "") not in finished, "the kill came too late to interrupt anything"

    run_snakemake(tmp_path, None, "--unlock")
    scheduled = scheduled_jobs(tmp_path, config, "--rerun-incomplete")
    assert scheduled, "nothing left to do after the kill"
    assert not finished & scheduled, f"finished jobs scheduled again: {sorted(finished & scheduled)}"

    run_snakemake(tmp_path, config, "--rerun-incomplete")
    assert_same_outputs(reference, tmp_path)
