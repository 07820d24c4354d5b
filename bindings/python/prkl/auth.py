# SPDX-License-Identifier: MIT
"""Bearer tokens for web apps on prkl: writes need a write token, reads optionally a read token.

The app keeps only the SHA-256 of each token (hex), never the token itself:

    python3 -m prkl.auth new-token          # prints a new token and, on the next line, its hash
    python3 -m prkl.auth hash < token.txt   # the hash of a token you already have

Configuration (environment variables, or the same names in a Flask app's config):

    PRKL_WRITE_TOKEN_HASHES   hashes of tokens that may write (and read), comma- or space-separated
    PRKL_READ_TOKEN_HASHES    hashes of tokens that may only read
    PRKL_TOKEN_FILE           a file of lines "write <hash>" or "read <hash>" ('#' starts a comment)
    PRKL_AUTH_READS           true: reads need a token too (default false: reads are public)

With no write hash configured every write is refused: never open by default. A plain SHA-256 is
the right hash here, unlike for passwords: a token is 256 random bits, so there is nothing to
guess a dictionary of, and a slow hash would only slow every request down.
"""

import hashlib
import hmac
import os
import re
import secrets
import sys

REALM = "prkl"
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# RFC 6750's b64token.
_BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class ConfigError(ValueError):
    """A token setting that cannot be used. The message never repeats the value: it could be a
    token pasted where its hash belongs."""


def new_token():
    """A new random token: 256 bits, URL-safe, with a prefix that secret scanners can match."""
    return "prkl_" + secrets.token_urlsafe(32)


def token_hash(token):
    """What the configuration holds for `token`: its SHA-256, 64 lowercase hex digits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _hashes(text, where):
    out = []
    for number, item in enumerate(re.split(r"[\s,]+", text.strip()) if text.strip() else [], 1):
        item = item.lower()
        if not _HEX_DIGEST.fullmatch(item):
            raise ConfigError(f"{where}: entry {number} is not a SHA-256 hex digest (64 hex "
                              "digits); it takes token hashes, never tokens: make one with "
                              "'python3 -m prkl.auth new-token'")
        out.append(bytes.fromhex(item))
    return out


def _flag(value, name):
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name} is {str(value)[:20]!r}; expected true or false")


class Decision:
    """A refusal: the HTTP status, the JSON body's error message and the headers to send."""

    def __init__(self, status, message, headers):
        self.status, self.message, self.headers = status, message, headers

    def __repr__(self):
        return f"Decision({self.status}, {self.message!r})"


class Tokens:
    """The configured token hashes and the policy. `check()` is the whole decision."""

    def __init__(self, write_hashes=(), read_hashes=(), protect_reads=False):
        self.write = [bytes.fromhex(h) if isinstance(h, str) else bytes(h) for h in write_hashes]
        self.read = [bytes.fromhex(h) if isinstance(h, str) else bytes(h) for h in read_hashes]
        self.protect_reads = protect_reads

    @classmethod
    def from_config(cls, config=None):
        """From a mapping of the PRKL_* settings above (os.environ by default)."""
        config = os.environ if config is None else config

        def text(name):
            value = config.get(name)
            if value is None:
                return ""
            if isinstance(value, (list, tuple)):
                return " ".join(str(v) for v in value)
            return str(value)
        write = _hashes(text("PRKL_WRITE_TOKEN_HASHES"), "PRKL_WRITE_TOKEN_HASHES")
        read = _hashes(text("PRKL_READ_TOKEN_HASHES"), "PRKL_READ_TOKEN_HASHES")
        path = text("PRKL_TOKEN_FILE")
        if path:
            try:
                with open(path, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise ConfigError(f"PRKL_TOKEN_FILE: cannot read {path!r}: "
                                  f"{getattr(e, 'strerror', None) or 'not UTF-8'}") from None
            for number, line in enumerate(lines, 1):
                words = line.split("#", 1)[0].split()
                if not words:
                    continue
                where = f"PRKL_TOKEN_FILE {path!r}, line {number}"
                if len(words) != 2 or words[0] not in ("write", "read"):
                    raise ConfigError(f"{where}: expected 'write <hash>' or 'read <hash>'")
                (write if words[0] == "write" else read).extend(_hashes(words[1], where))
        return cls(write, read, _flag(config.get("PRKL_AUTH_READS"), "PRKL_AUTH_READS"))

    def _scope(self, token):
        """'write', 'read' or None. Every configured hash is compared, in constant time, whatever
        matched before: the time taken says nothing about which hash came close."""
        presented = hashlib.sha256(token.encode("utf-8")).digest()
        may_write = may_read = False
        for h in self.write:
            may_write |= hmac.compare_digest(presented, h)
        for h in self.read:
            may_read |= hmac.compare_digest(presented, h)
        return "write" if may_write else "read" if may_read else None

    def check(self, authorization, write):
        """None when a request with this Authorization header (None if absent) may go on, for a
        write or a read; otherwise the Decision to answer with (401 or 403)."""
        if not write and not self.protect_reads:
            return None
        what = "writing" if write else "reading"
        challenge = f'Bearer realm="{REALM}"'
        match = _BEARER.fullmatch(authorization) if authorization else None
        if authorization is None or not authorization.lower().startswith("bearer"):
            configured = self.write or (self.read and not write)
            return Decision(401, f"{what} needs a bearer token (Authorization: Bearer <token>)"
                            + ("" if configured else "; none is configured on this server "
                               "(PRKL_WRITE_TOKEN_HASHES or PRKL_TOKEN_FILE)"),
                            {"WWW-Authenticate": challenge})
        scope = self._scope(match.group(1)) if match else None
        if scope is None:
            return Decision(401, "the bearer token is not valid here",
                            {"WWW-Authenticate": f'{challenge}, error="invalid_token"'})
        if write and scope != "write":
            return Decision(403, "this token may only read; writing needs a write token",
                            {"WWW-Authenticate": f'{challenge}, error="insufficient_scope"'})
        return None


# Methods that only read; any other method is a write.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["new-token"]:
        token = new_token()
        print(token)
        print(token_hash(token))
        return 0
    if argv == ["hash"]:
        token = sys.stdin.readline().strip()
        if not token:
            print("prkl.auth hash: no token on standard input", file=sys.stderr)
            return 2
        print(token_hash(token))
        return 0
    print("usage: python3 -m prkl.auth new-token   (prints a token, then its SHA-256 hash)\n"
          "       python3 -m prkl.auth hash < FILE (the hash of the token on the first line)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
