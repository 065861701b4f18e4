"""Send a rule's warnings, progress and library chatter to its log file."""

from __future__ import annotations

import logging
import sys
import warnings

#: Loggers whose INFO messages say nothing about the run: PyTensor announces six "Suppressed KeyError in
#: PyTensorConfigParser.add" lines on every import, ArviZ which plotting backend it found. Their warnings still show.
QUIET_AT_INFO = ("pytensor.configparser", "arviz")


def log_to(path: str | None, name: str = "binoval") -> logging.Logger:
    """Route logging, Python warnings and stderr to ``path`` (append); return a logger.

    Rules call this first, so PyMC, PyTensor and nutpie messages land in the
    rule's log instead of the terminal.
    """
    handler: logging.Handler
    if path:
        stream = open(path, "a", buffering=1)
        sys.stderr = stream
        handler = logging.StreamHandler(stream)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for chatty in QUIET_AT_INFO:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    warnings.filterwarnings("ignore", category=FutureWarning, module="arviz")
    return logging.getLogger(name)
