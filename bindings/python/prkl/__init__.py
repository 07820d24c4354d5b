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
    StorageError,
    ValidationError,
    __version__,
    connect,
    redact_url,
)

__all__ = [
    "BatchConflict", "BatchResult", "ConnectionLost", "Database", "Error", "InDoubt",
    "InvalidArgument", "NotFound", "Port", "RateDay", "RegionNode", "RowError", "StorageError",
    "ValidationError", "connect", "redact_url",
]
