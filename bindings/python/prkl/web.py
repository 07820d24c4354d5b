# SPDX-License-Identifier: MIT
"""What any web front end on prkl needs between the request and the Database, whatever its
framework: the store's URL resolved as the operator meant it, request bodies read no further than
a limit (chunked ones too), JSON read with a depth limit and without duplicate keys, and batch ids
that are text. Each refusal is a `BadInput` (HTTP 400) or a `TooLarge` (413) whose message names
the bad value, escaped as prkl's own messages escape it."""

import json
import os
import re
import shlex
import urllib.parse

# JSON bodies nest no deeper than this: a batch is {"rows": [{...}]}, three levels.
MAX_JSON_DEPTH = 32
_READ_PIECE = 64 * 1024


class BadInput(ValueError):
    """A request the app refuses with 400; the message names the bad value."""

    status = 400


class TooLarge(ValueError):
    """A body over the size limit: 413."""

    status = 413


def quoted(value):
    """`value` (str or bytes) quoted as prkl's messages quote values (prkl::quoted_value): UTF-8
    text as it is, a backslash doubled, control characters and bytes that are not UTF-8 as \\xNN
    (\\t, \\n, \\r); at most 200 bytes shown, then the size."""
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)
    out, size = [], 0
    for ch in data.decode("utf-8", "surrogateescape"):
        raw = ch.encode("utf-8", "surrogateescape")
        if size + len(raw) > 200:
            return "'" + "".join(out) + f"...' ({len(data)} bytes)"
        size += len(raw)
        if ch == "\\":
            out.append("\\\\")
        elif 0xDC80 <= ord(ch) <= 0xDCFF or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(
                ch, "".join(f"\\x{b:02x}" for b in raw)))
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def store_url(url, start_dir=None):
    """`url` with a relative SQLite path made absolute against the directory the server was
    started from: `start_dir`, else the shell's $PWD (which `gunicorn --chdir` does not change),
    else the current directory. Other URLs are returned as they are."""
    if not url.startswith("sqlite:"):
        return url
    path = url[len("sqlite:"):]
    slashes = "//" if path.startswith("//") and not path.startswith("///") else ""
    path = path[len(slashes):]
    if not path or path == ":memory:" or path.startswith("file:") or os.path.isabs(path):
        return url
    if start_dir is None:
        pwd = os.environ.get("PWD")
        start_dir = pwd if pwd and os.path.isabs(pwd) and os.path.isdir(pwd) else os.getcwd()
    return "sqlite:" + os.path.normpath(os.path.join(start_dir, path))


class StoreUnavailable(Exception):
    """The store cannot be opened (a SQLite file that is not there): 503, with the reason."""

    status = 503


def connect(url, read_url=None, **options):
    """prkl.connect() for a server: relative SQLite paths resolved by store_url(), and a store
    that is not there a StoreUnavailable whose message shows its absolute path and the command
    that makes it."""
    import prkl
    url = store_url(url)
    try:
        return prkl.connect(url, read_url=store_url(read_url) if read_url else None, **options)
    except prkl.NotFound as e:
        advice = f"; create it with: prkl --db {shlex.quote(url)} init" if url.startswith("sqlite:") else ""
        raise StoreUnavailable(f"the rate store cannot be opened: {str(e).split('; ')[0]}"
                               f"{advice}") from None


def read_body(stream, content_length, limit):
    """The whole body from a WSGI input `stream`, refused with TooLarge past `limit` bytes.
    Without a Content-Length (a chunked body) it is read in pieces and counted as it comes, so
    a client cannot make the worker hold more than the limit."""
    if limit is None:
        limit = float("inf")
    if content_length is not None:
        if content_length > limit:
            raise TooLarge(f"the body is {content_length} bytes, over the limit of {limit}")
        return stream.read(content_length) if content_length else b""
    pieces, size = [], 0
    while True:
        piece = stream.read(_READ_PIECE)
        if not piece:
            break
        size += len(piece)
        if size > limit:
            raise TooLarge(f"the body is over the limit of {limit} bytes")
        pieces.append(piece)
    return b"".join(pieces)


def _no_duplicates(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise BadInput(f"malformed JSON: the key {quoted(key)} appears twice in one object")
        seen.add(key)
    return dict(pairs)


def _depth(text):
    """How deep the brackets of JSON text `text` nest, counted outside strings."""
    deepest = depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads(body, max_depth=MAX_JSON_DEPTH):
    """A JSON request body (bytes or str) as Python values; BadInput when it is not UTF-8, not
    JSON, nests deeper than `max_depth`, or repeats a key within an object."""
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadInput(f"the JSON body is not UTF-8 (byte {e.start + 1} is "
                           f"{quoted(body[e.start:e.start + 1])})") from None
    too_deep = BadInput(f"the JSON body nests deeper than {max_depth} levels")
    # Counting every character is slow in Python; a body with few brackets cannot be deep.
    if body.count("[") + body.count("{") > max_depth and _depth_exceeds(body, max_depth):
        raise too_deep
    try:
        return json.loads(body, object_pairs_hook=_no_duplicates)
    except BadInput:
        raise
    except RecursionError:
        raise too_deep from None
    except ValueError as e:
        raise BadInput(f"malformed JSON: {e}") from None


def _depth_exceeds(text, max_depth):
    # Strings removed (brackets inside them do not count), then everything but brackets, then
    # the innermost empty pairs once per level: what is left after max_depth rounds nests deeper.
    brackets = re.sub(r"[^\[\]{}]+", "", re.sub(r'"(?:[^"\\]|\\.)*"', "", text))
    for _ in range(max_depth):
        if not brackets:
            return False
        reduced = brackets.replace("[]", "").replace("{}", "")
        if reduced == brackets:
            # Unbalanced: broken JSON, which json.loads names, unless it is deep as well.
            return _depth(brackets) > max_depth
        brackets = reduced
    return bool(brackets)


_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")
# Digits and at most six after one point: "2.5", never "2.5.1", "1e3" or "0x10".
_PERCENTILE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?", re.ASCII)


def whole_number(text, name, default=None, minimum=0, maximum=1_000_000_000):
    """A query parameter that is a whole number, written in ASCII digits only: Python's int()
    also takes "5_0", " 5", "+5" and other scripts' digits, which no other front end of prkl
    (the tool, C++) reads as numbers. `default` when absent or empty."""
    if text is None or text == "":
        return default
    if not _WHOLE_NUMBER.fullmatch(text):
        raise BadInput(f"parameter {name!r}: {quoted(text)} is not a whole number")
    value = int(text)
    if not minimum <= value <= maximum:
        raise BadInput(f"parameter {name!r}: {value} is outside {minimum}..{maximum}")
    return value


def percentiles(text):
    """The `percentiles` parameter, "25,50,75" or "2.5,97.5", as floats of at most six fraction
    digits (prkl judges their range); None when absent or empty."""
    if not text:
        return None
    items = text.split(",")
    if not all(_PERCENTILE.fullmatch(item) for item in items):
        raise BadInput(f"parameter 'percentiles': {quoted(text)} is not a list of percentiles "
                       "like 25,50,75 or 2.5,97.5")
    return [float(item) for item in items]


def price_filter(get):
    """The filter parameters every question takes, from a query's `get`: `equipment` (one code
    or several, comma-separated), `term` (short or long) and `max_age_days`, as the keyword
    arguments prkl's questions take. prkl judges the codes and the term, naming a bad one."""
    equipment = get("equipment")
    return {"equipment": equipment.split(",") if equipment else None,
            "term": get("term") or None,
            "max_age_days": whole_number(get("max_age_days"), "max_age_days", maximum=36525)}


def flag(text, name):
    """A true/false parameter: "true" or "1", "false" or "0"; False when absent or empty."""
    if not text:
        return False
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise BadInput(f"parameter {name!r}: {quoted(text)} is not true or false")


def percentile_key(percent):
    """The answer's key for a percentile: "p50", "p2.5" (as prkl writes them: shortest form)."""
    return f"p{int(percent) if percent == int(percent) else percent}"


def text_value(value, name):
    """A value that must be text (a batch id): a str, else BadInput naming its JSON type."""
    if isinstance(value, str):
        return value
    kind = {dict: "an object", list: "an array", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)
    raise BadInput(f"{name!r} must be a string, not {kind}")


def query_text(raw_query, name):
    """The value of query parameter `name` from the raw query string (bytes or str, as the client
    sent it), percent-decoded as UTF-8 strictly: a value that is not UTF-8 once decoded (%FF) is
    BadInput naming it as sent, where frameworks would put U+FFFD in its place. None if absent."""
    if isinstance(raw_query, str):
        raw_query = raw_query.encode("latin-1", "replace")
    for item in raw_query.split(b"&"):
        key, _, value = item.partition(b"=")
        if urllib.parse.unquote_to_bytes(key.replace(b"+", b" ")) != name.encode():
            continue
        try:
            return urllib.parse.unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"parameter {name!r}: {quoted(value)} is not UTF-8 text once "
                           "percent-decoded") from None
    return None


def header_text(value, name):
    """A header value as text: WSGI hands headers over as latin-1, so its bytes are taken back
    and read as UTF-8 strictly; BadInput naming them if they are not."""
    if value is None:
        return None
    raw = value.encode("latin-1", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"header {name}: {quoted(raw)} is not UTF-8 text") from None
