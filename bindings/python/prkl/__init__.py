# SPDX-License-Identifier: MIT
"""prkl: freight-rate data. Daily price statistics between ports and regions, all-or-nothing
price batches, and port lookup, over SQLite or PostgreSQL.

    import prkl
    db = prkl.connect("sqlite:rates.db")
    for day in db.rates("2016-01-01", "2016-01-10", "CNSGH", "north_europe_main"):
        print(day.day, day.count, day.average_price)
"""

from ._prkl import (  # noqa: F401
    AnswerTooLarge,
    BatchConflict,
    BatchResult,
    Busy,
    ConnectionLost,
    Database,
    Error,
    InDoubt,
    InvalidArgument,
    MarketAnswer,
    MarketDay,
    NotFound,
    Port,
    RankDay,
    RateDay,
    RegionNode,
    RowError,
    SCHEMA_VERSION,
    StorageError,
    ValidationError,
    __version__,
    connect,
    metrics_text,
    redact_url,
    set_metrics_enabled,
    set_slow_call_threshold,
)
from . import _prkl

from .columns import rates_columns, rates_frame  # noqa: F401


def _rates_columns(self, *args, **kwargs):
    """db.rates(...) as columns: {"day": [...], "count": [...], "average_price": [...], ...}."""
    return rates_columns(self.rates(*args, **kwargs))


def _rates_frame(self, *args, **kwargs):
    """db.rates(...) as a pandas DataFrame indexed by day (pandas imported only now)."""
    return rates_frame(self.rates(*args, **kwargs))


Database.rates_columns = _rates_columns
Database.rates_frame = _rates_frame

__all__ = [
    "AnswerTooLarge", "BatchConflict", "BatchResult", "Busy", "ConnectionLost", "Database", "Error", "InDoubt",
    "InvalidArgument", "MarketAnswer", "MarketDay", "NotFound", "Port", "RankDay", "RateDay", "RegionNode", "RowError", "SCHEMA_VERSION",
    "StorageError",
    "ValidationError", "connect", "metrics_text", "rates_columns", "rates_frame", "redact_url",
    "set_metrics_enabled", "set_slow_call_threshold",
]


# The library's reports (slow calls, reconnects, batches applied and refused) go to the "prkl"
# logger, with the event's name and fields as `prkl_event` and `prkl_fields` on the record.
import atexit as _atexit  # noqa: E402
import logging as _logging  # noqa: E402

_logger = _logging.getLogger("prkl")
_LEVELS = (_logging.DEBUG, _logging.INFO, _logging.WARNING, _logging.ERROR)


def _log(level, event, message, fields):
    python_level = _LEVELS[level] if 0 <= level < len(_LEVELS) else _logging.INFO
    if _logger.isEnabledFor(python_level):
        _logger.log(python_level, message, extra={"prkl_event": event, "prkl_fields": fields})


_prkl._set_log_callback(_log)
# Before the interpreter goes: no report may reach for a Python object after that.
_atexit.register(_prkl._set_log_callback, None)
