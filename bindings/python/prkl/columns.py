# SPDX-License-Identifier: MIT
"""Rates as columns: plain lists for any code, a pandas DataFrame for those who have pandas.

pandas (Debian: python3-pandas) is imported only when a DataFrame is asked for.
"""


def rates_columns(days):
    """{"day": [...], "count": [...], "average_price": [...], "min": [...], "max": [...],
    "p25": [...], ...}: one list per field, one entry per RateDay, values as the RateDay's
    attributes give them (dates, ints, Decimals, None)."""
    columns = {"day": [], "count": [], "average_price": [], "min": [], "max": []}
    percents = list(days[0].percentiles) if days else []
    for percent in percents:
        columns[f"p{percent}"] = []
    for d in days:
        columns["day"].append(d.day)
        columns["count"].append(d.count)
        columns["average_price"].append(d.average_price)
        columns["min"].append(d.min)
        columns["max"].append(d.max)
        values = d.percentiles
        for percent in percents:
            columns[f"p{percent}"].append(values[percent])
    return columns


def rates_frame(days):
    """The columns as a pandas DataFrame indexed by day (datetime64). Counts, minima and maxima
    are nullable integers (Int64); averages and percentiles stay exact: integers when no scale
    was asked, decimal.Decimal objects when one was."""
    try:
        import pandas
    except ImportError as e:
        raise ImportError("prkl: a DataFrame needs pandas (Debian: apt-get install "
                          "python3-pandas); rates_columns() gives plain lists") from e
    columns = rates_columns(days)
    index = pandas.DatetimeIndex(pandas.to_datetime(columns.pop("day")), name="day")
    frame = pandas.DataFrame(index=index)
    for name, values in columns.items():
        exact_integers = all(v is None or isinstance(v, int) for v in values)
        frame[name] = pandas.array(values, dtype="Int64" if exact_integers else object)
    return frame
