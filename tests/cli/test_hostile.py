# SPDX-License-Identifier: MIT
"""The `prkl` tool against inputs an attacker or a careless script would give it: -o pointed at
devices, FIFOs, links and its own input, unwritable answers after a commit, paths that loop."""

import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

PRKL = os.environ["PRKL_BIN"]
XENETA = Path(os.environ["PRKL_XENETA_DIR"])
RATESTASK = XENETA / "ratestask-2016.sql"

BATCH = "origin,destination,day,price\nCNSGH,NLRTM,2016-02-01,900\n"
# Set by CTest in the sanitizer build, whose peak-memory figures measure ASan, not prkl.
SANITIZED = os.environ.get("PRKL_SANITIZED") in ("1", "ON", "TRUE", "true")


def prkl(*args, check=None, stdin=None):
    args = [a if isinstance(a, bytes) else str(a) for a in args]
    result = subprocess.run([PRKL, *args], capture_output=True, input=stdin, timeout=300)
    if check is not None:
        assert result.returncode == check, (result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = f"sqlite:{tmp_path_factory.mktemp('hostile') / 'rates.db'}"
    prkl("--db", url, "import-dump", RATESTASK, check=0)
    return url


def count(db, day="2016-02-01"):
    import json
    out = prkl("--db", db, "rates", "--from", day, "--to", day, "--origin", "CNSGH",
               "--destination", "NLRTM", "--format", "json", check=0)
    return json.loads(out.stdout)[0]["count"]


def test_o_writes_through_a_device_and_never_replaces_it(db, tmp_path):
    # As root, renaming over /dev/null would replace the device with a file; a copy of the
    # device node in the test's folder shows the same without touching the machine's.
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    prkl("--db", db, "ports", "--limit", "2", "-o", node, check=0)
    assert stat.S_ISCHR(node.stat().st_mode)
    prkl("--db", db, "ports", "--limit", "2", "-o", "/dev/null", check=0)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary left


def test_o_writes_into_a_fifo(db, tmp_path):
    fifo = tmp_path / "answer"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    prkl("--db", db, "ports", "--code", "CNSGH", "--format", "csv", "-o", fifo, check=0)
    reader.join(timeout=60)
    assert got and got[0].startswith(b"code,name,region\nCNSGH,")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_o_follows_a_symbolic_link_and_keeps_it(db, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    prkl("--db", db, "ports", "--code", "CNSGH", "-o", link, check=0)
    assert link.is_symlink() and '"CNSGH"' in target.read_text()
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "new.json")
    prkl("--db", db, "ports", "--code", "CNSGH", "-o", dangling, check=0)
    assert dangling.is_symlink() and '"CNSGH"' in (tmp_path / "new.json").read_text()


def test_o_refuses_a_directory_and_a_link_loop_as_bad_input(db, tmp_path):
    out = prkl("--db", db, "ports", "-o", tmp_path, check=2)
    assert "is a directory" in out.stderr.decode()
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    out = prkl("--db", db, "ports", "-o", loop, check=2)
    assert f"cannot write '{loop}'" in out.stderr.decode()
    assert loop.is_symlink()


@pytest.mark.parametrize("how", ["same", "link", "hardlink", "stdin"])
def test_o_naming_the_input_is_refused_before_any_work(db, tmp_path, how):
    batch = tmp_path / "x.csv"
    batch.write_text(BATCH)
    output = {"same": batch, "stdin": batch, "link": tmp_path / "l.csv",
              "hardlink": tmp_path / "h.csv"}[how]
    if how == "link":
        output.symlink_to(batch)
    if how == "hardlink":
        os.link(batch, output)
    before = count(db)
    if how == "stdin":
        with open(batch, "rb") as stdin:
            result = subprocess.run([PRKL, "--db", db, "batch", "apply", "-", "--id", "self",
                                     "-o", str(output)], stdin=stdin, capture_output=True)
        assert result.returncode == 2, result.stderr
        assert "standard input" in result.stderr.decode()
    else:
        out = prkl("--db", db, "batch", "apply", batch, "--id", "self", "-o", output, check=2)
        assert "which this command reads" in out.stderr.decode()
    assert batch.read_text() == BATCH and count(db) == before


def test_o_naming_the_dump_or_an_fx_file_is_refused(tmp_path):
    dump = tmp_path / "d.sql"
    dump.write_bytes(RATESTASK.read_bytes())
    store = tmp_path / "never.db"
    prkl("--db", f"sqlite:{store}", "import-dump", dump, "--replace", "-o", dump, check=2)
    assert dump.stat().st_size == RATESTASK.stat().st_size and not store.exists()
    fx = tmp_path / "fx"
    fx.mkdir()
    day = fx / "2016-01-04.json"
    day.write_text('{"base": "USD", "timestamp": 1451865600, "rates": {"EUR": 0.92}}')
    out = prkl("--db", f"sqlite:{store}", "fx", "import", fx, "-o", day, check=2)
    assert str(day) in out.stderr.decode() and not store.exists()


def test_a_committed_batch_whose_answer_cannot_be_written_says_so_with_exit_3(db, tmp_path):
    batch = tmp_path / "b.csv"
    batch.write_text(BATCH)
    before = count(db)
    out = prkl("--db", db, "batch", "apply", batch, "--id", "lost-answer", "-o",
               tmp_path / "missing" / "answer.txt", check=3)
    message = out.stderr.decode()
    assert "batch 'lost-answer' is applied, but the answer was not written" in message
    assert count(db) == before + 1
    # The retry replays: it lands once.
    prkl("--db", db, "batch", "apply", batch, "--id", "lost-answer", check=0)
    assert count(db) == before + 1


def test_help_documents_exit_3():
    assert "3 the store was changed" in prkl("--help", check=0).stdout.decode()


FX = b'{"base": "USD", "timestamp": 1451865600, "rates": {"EUR": 0.92, "NOK": 8.8}}'


def stored_rate(db, day):
    batch = f"origin,destination,day,price,currency\nCNSGH,NLRTM,{day},100,EUR\n"
    out = prkl("--db", db, "batch", "validate", "-", stdin=batch.encode())
    return out.returncode == 0


def test_fx_import_reads_standard_input_and_gzip(tmp_path):
    import gzip
    db = f"sqlite:{tmp_path / 'fx.db'}"
    prkl("--db", db, "import-dump", RATESTASK, check=0)
    out = prkl("--db", db, "fx", "import", "-", check=2, stdin=FX)
    assert "--day" in out.stderr.decode()
    out = prkl("--db", db, "fx", "import", "-", "--day", "2016-01-04", stdin=gzip.compress(FX),
               check=0)
    assert out.stdout.decode() == ("read 2 exchange rates from <stdin>; 2 were new or changed\n")
    assert stored_rate(db, "2016-01-04")
    packed = tmp_path / "2016-02-01.json.gz"
    packed.write_bytes(gzip.compress(FX))
    out = prkl("--db", db, "fx", "import", packed, check=0)
    assert "read 2 exchange rates" in out.stdout.decode() and stored_rate(db, "2016-02-01")
    misnamed = tmp_path / "rates.gz"
    misnamed.write_bytes(gzip.compress(FX))
    out = prkl("--db", db, "fx", "import", misnamed, check=2)
    assert f"'{misnamed}': an exchange-rate file is named for its day" in out.stderr.decode()
    out = prkl("--db", db, "fx", "import", packed, "--day", "2016-02-01", check=2)
    assert "--day is for rates read from standard input" in out.stderr.decode()


def test_fx_import_of_a_huge_file_is_refused_in_bounded_memory(tmp_path):
    huge = tmp_path / "2016-01-04.json"
    with open(huge, "wb") as f:
        f.write(b'{"base": "USD", "note": "')
        f.write(b"x" * (200 << 20))
        f.write(b'", "rates": {"EUR": 0.9}}')
    store = tmp_path / "never.db"
    result = subprocess.run(["/usr/bin/time", "-f", "%M", PRKL, "--db", f"sqlite:{store}", "fx",
                             "import", huge], capture_output=True, timeout=300)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert lines[0] == f"prkl: '{huge}': longer than 4194304 bytes; a day's exchange rates need far less"
    assert SANITIZED or int(lines[-1]) < 100_000  # KiB of peak RSS
    assert not store.exists()


def peak_kib(command, **kwargs):
    """Runs `command` under /usr/bin/time; its exit status, stderr lines and peak RSS in KiB."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, command)],
                            capture_output=True, timeout=600, **kwargs)
    lines = [line for line in result.stderr.decode().splitlines()
             if not line.startswith("Command exited with non-zero status")]
    return result.returncode, lines[:-1], int(lines[-1])


@pytest.mark.parametrize("command", ["validate", "apply"])
def test_a_gzip_of_millions_of_rows_stops_at_the_limit_in_bounded_memory(db, tmp_path, command):
    import gzip
    bomb = tmp_path / "bomb.csv.gz"
    row = b"CNSGH,NLRTM,2016-02-01,900\n"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        f.write(b"origin,destination,day,price\n")
        for _ in range(30):
            f.write(row * 100_000)  # 3M rows, 3x the default limit, in a few hundred KB
    assert bomb.stat().st_size < 1_000_000
    before = count(db)
    status, errors, kib = peak_kib([PRKL, "--db", db, "batch", command, bomb])
    assert status == 2
    assert errors == [f"prkl: {bomb}: more than 1000000 rows (line 1000002 is one too many); a "
                      "batch holds at most Options::max_batch_prices prices: split it"]
    if not SANITIZED:  # there the peak is ASan's quarantine and shadow memory
        # Rows are checked a chunk at a time and not kept: validate holds a chunk (26 MB in all
        # when measured), apply the 1M prices they became (168 MB; was 405 MB with the rows).
        assert kib < (64 if command == "validate" else 256) * 1024, kib
    assert count(db) == before


def test_a_batch_refused_as_a_whole_says_so_without_a_row_0(db, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("origin,destination,day,price\n")
    out = prkl("--db", db, "batch", "apply", empty, check=2)
    assert out.stderr.decode() == (f"prkl: {empty}: batch is refused: the batch has no rows; "
                                   "nothing was written\n"
                                   "  the batch: the batch has no rows\n")


def test_data_after_the_gzip_stream_is_refused_naming_the_byte(db, tmp_path):
    import gzip
    packed = gzip.compress(BATCH.encode())
    for tail in (b"garbage\n", b"\x1f"):
        bad = tmp_path / "tail.csv.gz"
        bad.write_bytes(packed + tail)
        out = prkl("--db", db, "batch", "validate", bad, check=2)
        assert out.stderr.decode() == (f"prkl: {bad}: data that is not gzip follows the "
                                       f"compressed data, at byte {len(packed) + 1}\n")
    # Members one after another are one stream, as gzip itself reads them.
    two = tmp_path / "two.csv.gz"
    two.write_bytes(gzip.compress(BATCH.encode()) + gzip.compress(b"CNSGH,NLRTM,2016-02-02,9\n"))
    assert "2 rows, all valid" in prkl("--db", db, "batch", "validate", two, check=0).stdout.decode()


def test_a_dump_whose_gzip_goes_bad_after_its_last_statement_is_not_loaded(tmp_path):
    # The dump reads as complete up to the junk: the load must not commit before the read fails.
    import gzip
    import json
    store = f"sqlite:{tmp_path / 'kept.db'}"
    prkl("--db", store, "import-dump", XENETA / "operations-task-2021.sql", check=0)

    def lane():  # one price on this lane and day in the ratestask dump, none in the other
        out = prkl("--db", store, "rates", "--from", "2016-01-04", "--to", "2016-01-04",
                   "--origin", "CNSGH", "--destination", "GBFXT", "--format", "json", check=0)
        return json.loads(out.stdout)[0]["count"]

    assert lane() == 0
    bad = tmp_path / "ratestask.sql.gz"
    bad.write_bytes(gzip.compress(RATESTASK.read_bytes()) + b"junk")
    for args, stdin in (([bad], None), (["-"], bad.read_bytes())):
        out = prkl("--db", store, "import-dump", *args, "--replace", stdin=stdin, check=2)
        assert "data that is not gzip follows the compressed data" in out.stderr.decode()
        assert lane() == 0
        new = tmp_path / "never.db"
        prkl("--db", f"sqlite:{new}", "import-dump", *args, stdin=stdin, check=2)
        assert not new.exists()


def test_a_failed_import_removes_only_a_store_it_created(tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("COPY ports (code, name, parent_slug) FROM stdin;\nAAAAA\tA\tnowhere\n\\.\n")
    for made in ("empty", "link"):
        target = tmp_path / f"{made}.db"
        if made == "empty":
            target.touch()
        else:
            target.symlink_to(tmp_path / "elsewhere.db")
        prkl("--db", f"sqlite:{target}", "import-dump", bad, check=2)
        assert target.exists() or target.is_symlink(), made


def test_integers_too_large_for_their_option_are_refused(db):
    out = prkl("--db", db, "rates", "--from", "2016-01-01", "--to", "2016-01-01", "--origin",
               "CNSGH", "--destination", "NLRTM", "--min-count", "99999999999999999999", check=2)
    assert "--min-count: '99999999999999999999' is out of range" in out.stderr.decode()
    out = prkl("--db", db, "ports", "--limit", "1e3", check=2)
    assert "--limit: '1e3' is not a whole number" in out.stderr.decode()


def test_words_the_parser_repeats_are_escaped(db):
    out = prkl("--db", db, "ports", b"\xff\x1b", check=2)
    assert out.stderr.decode("utf-8") == ("prkl: The following argument was not expected: \\xff\\x1b\n"
                                          "Run with --help for more information.\n")
    out = prkl("--db", db, "import-dump", b"/tmp/\xff", check=2)
    assert out.stderr.decode("utf-8") == "prkl: cannot read dump file '/tmp/\\xff'\n"
