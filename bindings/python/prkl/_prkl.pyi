# SPDX-License-Identifier: MIT
"""Type stubs for prkl's native module."""

import datetime
import decimal
import os
from typing import Iterable, Mapping, Optional, Sequence, Union

__version__: str

DateLike = Union[datetime.date, str]
Equipment = Union[str, Sequence[str], None]
# A CSV file by path, CSV text as bytes (read by the same reader, named "CSV" in messages), or rows.
Rows = Union[str, "os.PathLike[str]", bytes, Iterable[Union[Mapping[str, object], Sequence[object]]]]
PathLike = Union[str, "os.PathLike[str]"]
Value = Union[int, decimal.Decimal, None]

class Error(Exception):
    """Root of every prkl error."""

class InvalidArgument(Error, ValueError):
    """A value is malformed or out of range; the message names it."""

class BatchConflict(InvalidArgument):
    """A batch id was applied before with different rows."""

class AnswerTooLarge(InvalidArgument):
    """The answer would hold more values than max_answer_values allows; nothing was read."""

class NotFound(Error, LookupError):
    """A port, region or database does not exist."""

class ValidationError(Error):
    """Rows are bad; nothing was written."""
    errors: list[RowError]

class StorageError(Error):
    """The storage backend failed."""
    code: str
    """The backend's code: PostgreSQL's SQLSTATE, SQLite's extended result code in decimal;
    '' when it gave none."""

class ConnectionLost(StorageError):
    """The connection was lost, or could not be made, before anything was committed: nothing
    was written, and asking again is safe."""

class InDoubt(StorageError):
    """The connection was lost while a write was committing: it may or may not have landed.
    Apply a batch again with the same batch_id."""

class Busy(StorageError):
    """The data changed under a read every time it tried (writers adding lanes it covers):
    nothing was answered. Asking again after a moment is safe."""

class RateDay:
    """Price statistics of one calendar day, or of one week or month (day is its start)."""
    @property
    def day(self) -> datetime.date: ...
    @property
    def count(self) -> int: ...
    @property
    def average_price(self) -> Union[int, decimal.Decimal, None]:
        """Exact average rounded half away from zero; Decimal when a scale was asked; None below min_count."""
    @property
    def average_float(self) -> float | None:
        """The unrounded average as the nearest float (ties to even), as float(AVG(price)) gives."""
    @property
    def min(self) -> int | None: ...
    @property
    def max(self) -> int | None: ...
    @property
    def percentiles(self) -> dict[float, Value]:
        """The asked percentiles by percent, valued like average_price."""
    def to_dict(self, *, float_ok: bool = False) -> dict[str, object]:
        """For JSON: day as 'YYYY-MM-DD', count, min, max, and average_price (and p25, p50, ...)
        exact: int, decimal.Decimal (when a scale was asked) or None. float_ok=True gives floats
        in place of Decimals, exact only to 15 significant digits."""

Exact = Union[int, decimal.Decimal]

class MarketDay:
    """One day (or bucket) of the market's band; every value None below min_count."""
    @property
    def day(self) -> datetime.date: ...
    @property
    def count(self) -> int: ...
    @property
    def low(self) -> Optional[Exact]:
        """The 2.5th percentile."""
    @property
    def midlow(self) -> Optional[Exact]:
        """The 25th percentile."""
    @property
    def median(self) -> Optional[Exact]: ...
    @property
    def mean(self) -> Optional[Exact]: ...
    @property
    def midhigh(self) -> Optional[Exact]:
        """The 75th percentile."""
    @property
    def high(self) -> Optional[Exact]:
        """The 97.5th percentile."""

class MarketAnswer:
    @property
    def asked(self) -> tuple[str, str]: ...
    @property
    def answered(self) -> tuple[str, str]:
        """The lane the band is of: asked, unless fallback stepped up."""
    @property
    def steps(self) -> int: ...
    @property
    def days(self) -> list[MarketDay]: ...
    def to_dict(self) -> dict[str, object]:
        """market_json()'s document: values as decimal strings or None."""

class RankDay:
    @property
    def day(self) -> datetime.date: ...
    @property
    def count(self) -> int: ...
    @property
    def percent_rank(self) -> Optional[Exact]:
        """Prices below / count, at 6 digits; None below min_count."""
    @property
    def cume_dist(self) -> Optional[Exact]:
        """(Prices at or below + 1) / (count + 1), at 6 digits."""

class Port:
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def region(self) -> str: ...
    def to_dict(self) -> dict[str, str]: ...

class RegionNode:
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def parent(self) -> str | None: ...
    @property
    def ports(self) -> list[str]: ...
    @property
    def regions(self) -> list[RegionNode]: ...
    def to_dict(self) -> dict[str, object]: ...

class RowError:
    @property
    def row(self) -> int:
        """1-based row of the batch (or line of the dump)."""
    @property
    def field(self) -> str: ...
    @property
    def message(self) -> str: ...
    def to_dict(self) -> dict[str, object]: ...

class BatchResult:
    @property
    def batch_id(self) -> str: ...
    @property
    def rows(self) -> int: ...
    @property
    def prices(self) -> int: ...
    @property
    def applied_at(self) -> str: ...
    @property
    def replayed(self) -> bool: ...
    @property
    def rates_used(self) -> list[dict[str, object]]:
        """Exchange rates prices were converted at: currency, day (datetime.date), rate (Decimal)."""
    def to_dict(self) -> dict[str, object]: ...

class Database:
    """A prkl store, safe to share between threads; `with prkl.connect(url) as db:` closes it
    at the end of the block."""
    @property
    def data_version(self) -> str:
        """A token that moves with every committed change to prices, ports or regions, by prkl
        or by any SQL client: equal tokens, equal answers in USD (exchange-rate loads do not
        move it)."""
    def readiness(self, max_replay_lag: float = 30.0) -> dict[str, object]:
        """ready, reason (None when ready), schema_version, readable_from, standby,
        replay_lag_seconds: whether the store can serve. Never raises for the store's sake."""
    def url(self) -> str:
        """The URL, with any password shown as ***."""
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Database": ...
    def __exit__(self, *exc: object) -> bool: ...
    @property
    def backend(self) -> str: ...
    def rates(self, date_from: DateLike, date_to: DateLike, origin: str, destination: str,
              min_count: int = 3, scale: int = 0, bucket: str = "day",
              percentiles: Sequence[float] | None = None, currency: str = "USD",
              with_version: bool = False, *, equipment: Equipment = None, term: str | None = None,
              max_age_days: int | None = None) -> list[RateDay] | tuple[list[RateDay], str]:
        """with_version=True: (days, the data_version() token they were read at)."""
    def rates_json(self, date_from: DateLike, date_to: DateLike, origin: str, destination: str,
                   min_count: int = 3, scale: int = 0,
                   fields: Sequence[str] = ("day", "count", "average_price", "min", "max"),
                   newest_first: bool = False, bucket: str = "day",
                   percentiles: Sequence[float] | None = None, currency: str = "USD",
                   with_version: bool = False, *, equipment: Equipment = None,
                   term: str | None = None,
                   max_age_days: int | None = None) -> str | tuple[str, str]:
        """with_version=True: (text, the data_version() token it was read at), for an ETag
        without a second read of the version."""
    def market(self, date_from: DateLike, date_to: DateLike, origin: str, destination: str, *,
               fallback: bool = False, bucket: str = "day", currency: str = "USD",
               scale: int = 0, min_count: int = 3, equipment: Equipment = None, term: str | None = None,
              max_age_days: int | None = None) -> MarketAnswer:
        """The band per day: count, low (2.5th), midlow (25th), median, mean, midhigh (75th),
        high (97.5th); equipment/term/max_age_days count only those prices."""
    def market_json(self, date_from: DateLike, date_to: DateLike, origin: str,
                    destination: str, *, fallback: bool = False, bucket: str = "day",
                    currency: str = "USD", scale: int = 0, min_count: int = 3,
                    equipment: Equipment = None, term: str | None = None,
              max_age_days: int | None = None) -> str: ...
    def rank(self, price: Union[int, decimal.Decimal, str], date_from: DateLike,
             date_to: DateLike, origin: str, destination: str, *, bucket: str = "day",
             currency: str = "USD", min_count: int = 1, equipment: Equipment = None, term: str | None = None,
              max_age_days: int | None = None) -> list[RankDay]: ...
    def rank_json(self, price: Union[int, decimal.Decimal, str], date_from: DateLike,
                  date_to: DateLike, origin: str, destination: str, *, bucket: str = "day",
                  currency: str = "USD", min_count: int = 1,
                  equipment: Equipment = None, term: str | None = None,
              max_age_days: int | None = None) -> str: ...
    def rates_columns(self, date_from: DateLike, date_to: DateLike, origin: str,
                      destination: str, **options: object) -> dict[str, list[object]]:
        """rates() as one list per field (day, count, average_price, min, max, p25, ...)."""
    def rates_frame(self, date_from: DateLike, date_to: DateLike, origin: str, destination: str,
                    **options: object) -> "pandas.DataFrame":
        """rates() as a pandas DataFrame indexed by day (needs python3-pandas)."""
    def rates_matrix(self, date_from: DateLike, date_to: DateLike, origins: Sequence[str],
                     destinations: Sequence[str], min_count: int = 3, scale: int = 0,
                     bucket: str = "day", percentiles: Sequence[float] | None = None,
                     currency: str = "USD", *, equipment: Equipment = None, term: str | None = None,
              max_age_days: int | None = None) -> list[tuple[str, str, list[RateDay]]]: ...
    def rates_matrix_json(self, date_from: DateLike, date_to: DateLike, origins: Sequence[str],
                          destinations: Sequence[str], min_count: int = 3, scale: int = 0,
                          fields: Sequence[str] = ("day", "count", "average_price", "min", "max"),
                          bucket: str = "day", percentiles: Sequence[float] | None = None,
                          currency: str = "USD",
                          with_version: bool = False, *, equipment: Equipment = None,
                          term: str | None = None,
                          max_age_days: int | None = None) -> str | tuple[str, str]: ...
    def batch(self, batch_id: str) -> BatchResult | None: ...
    def equipment(self) -> list[str]:
        """The equipment codes prices may carry and filters may name, sorted."""
    def add_equipment(self, codes: Sequence[str]) -> int:
        """Adds codes (four digits or capital letters each); how many were new."""
    def import_exchange_rates(self, path: PathLike, replace: bool = False) -> int: ...
    def resolve(self, location: str) -> list[str]: ...
    def port(self, code: str, with_version: bool = False) -> Port | tuple[Port, str]: ...
    def ports(self, region: str | None = None, search: str | None = None, limit: int = 100,
              offset: int = 0,
              with_version: bool = False) -> list[Port] | tuple[list[Port], str]: ...
    def region_tree(
        self, with_version: bool = False) -> list[RegionNode] | tuple[list[RegionNode], str]: ...
    def validate(self, rows: Rows) -> list[RowError]: ...
    def apply(self, rows: Rows, batch_id: str | None = None) -> BatchResult: ...
    def import_dump(self, path: Union[str, "os.PathLike[str]"], replace: bool = False) -> tuple[int, int, int]: ...
    def init(self) -> list[str]: ...
    def ping(self) -> None: ...

def connect(url: str, create: bool = False, pool_size: int = 8, max_range_days: int = 1830,
            max_price: int = 1000000, max_rate_age_days: int = 7, max_matrix_lanes: int = 100,
            max_percentile_prices: int = 5000000, connect_timeout: int = 10,
            busy_timeout: float = 30.0, max_region_depth: int = 64,
            pool_timeout: float = 30.0, read_url: Optional[str] = None,
            replica_wait: float = 1.0, max_batch_prices: int = 1000000,
            max_answer_values: int = 1000000,
            max_batch_contracts: int = 1000000,
            max_copied_prices: int = 20000000) -> Database: ...

SCHEMA_VERSION: int

def metrics_text() -> str:
    """prkl's metrics of this process in Prometheus' text format."""
def set_slow_call_threshold(seconds: float) -> None:
    """Calls slower than this are logged as warnings to logging.getLogger('prkl') (1 s)."""
def set_metrics_enabled(enabled: bool) -> None:
    """Turns prkl's metrics on (the default) or off."""
def redact_url(url: str) -> str:
    """The URL with any password shown as ***."""
