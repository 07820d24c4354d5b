# SPDX-License-Identifier: MIT
"""prkl: freight-rate data. Daily price statistics between ports and regions, all-or-nothing
price batches, and port lookup, over SQLite or PostgreSQL.

    import prkl
    db = prkl.connect("sqlite:rates.db")
    for day in db.rates("2016-01-01", "2016-01-10", "CNSGH", "north_europe_main"):
        print(day.day, day.count, day.average_price)
"""

from ._prkl import (  # noqa: F401
    BatchConflict,
    BatchResult,
    ConnectionLost,
    Database,
    Error,
    InDoubt,
    InvalidArgument,
    NotFound,
    Port,
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
)

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
    "BatchConflict", "BatchResult", "ConnectionLost", "Database", "Error", "InDoubt",
    "InvalidArgument", "NotFound", "Port", "RateDay", "RegionNode", "RowError", "SCHEMA_VERSION",
    "StorageError",
    "ValidationError", "connect", "metrics_text", "rates_columns", "rates_frame", "redact_url",
    "set_metrics_enabled",
]
