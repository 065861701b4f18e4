"""A rule's log keeps what says something about the run, without the libraries' import chatter."""

from conftest import json_from_a_new_process

RULE_LIKE = """
import json, logging, sys
from binoval.logs import log_to

log = log_to(sys.argv[1])
import arviz  # noqa: F401  (PyTensor and ArviZ log at INFO while importing)
import pymc  # noqa: F401

log.info("compiled the model")
logging.getLogger("pymc").warning("a warning from a library")
print(json.dumps(open(sys.argv[1]).read()))
"""


def test_the_log_has_the_rule_and_library_warnings_without_import_chatter(tmp_path):
    text = json_from_a_new_process(RULE_LIKE, str(tmp_path / "rule.log"))
    assert "INFO binoval: compiled the model" in text
    assert "WARNING pymc: a warning from a library" in text
    assert "Suppressed KeyError" not in text
    assert "default backend" not in text
