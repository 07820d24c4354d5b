# SPDX-License-Identifier: MIT
"""The `prkl` tool behaves as command-line tools people know do: output formats, -o, standard
input, compressed input, options in any place, help for every option, a man page, completion."""

import csv
import gzip
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

PRKL = os.environ["PRKL_BIN"]
SOURCE = Path(os.environ["PRKL_SOURCE_DIR"])
XENETA = Path(os.environ["PRKL_XENETA_DIR"])
RATESTASK = XENETA / "ratestask-2016.sql"
RATES = ["rates", "--from", "2016-01-01", "--to", "2016-01-03", "--origin", "CNSGH",
         "--destination", "north_europe_main"]


def prkl(*args, check=None, stdin=None, env=None, cwd=None):
    result = subprocess.run([PRKL, *map(str, args)], capture_output=True, input=stdin, env=env,
                            cwd=cwd, timeout=300)
    if check is not None:
        assert result.returncode == check, (result.stdout, result.stderr)
    return result


def text(result):
    return result.stdout.decode()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = f"sqlite:{tmp_path_factory.mktemp('conv') / 'rates.db'}"
    prkl("--db", url, "import-dump", RATESTASK, check=0)
    return url


def test_every_listing_in_every_format_says_the_same(db):
    as_json = json.loads(text(prkl("--db", db, *RATES, "--percentiles", "50", check=0)))
    assert [d["day"] for d in as_json] == ["2016-01-01", "2016-01-02", "2016-01-03"]
    ndjson = [json.loads(line) for line in
              text(prkl("--db", db, *RATES, "--percentiles", "50", "--format", "ndjson",
                        check=0)).splitlines()]
    assert ndjson == as_json
    rows = list(csv.DictReader(io.StringIO(text(prkl("--db", db, *RATES, "--percentiles", "50",
                                                     "--format", "csv", check=0)))))
    assert list(rows[0]) == ["day", "average_price", "count", "min", "max", "p50"]
    assert [{k: (None if v == "" else v if k == "day" else int(v)) for k, v in r.items()}
            for r in rows] == as_json
    table = text(prkl("--db", db, *RATES, "--percentiles", "50", "--format", "table",
                      check=0)).splitlines()
    assert table[0].split() == ["day", "average_price", "count", "min", "max", "p50"]
    assert table[1].split() == ["2016-01-01", "1112", "24", "705", "1703", "971"]
    assert table[3].split() == ["2016-01-03", "-", "0", "-", "-", "-"]

    for listing, columns in ((["ports", "--limit", "1000"], ["code", "name", "region"]),
                             (["regions"], ["slug", "name", "parent", "depth", "ports"])):
        rows = list(csv.DictReader(io.StringIO(text(prkl("--db", db, *listing, "--format", "csv",
                                                         check=0)))))
        assert list(rows[0]) == columns, listing
        lines = text(prkl("--db", db, *listing, "--format", "ndjson", check=0)).splitlines()
        assert len(lines) == len(rows), listing
    ports = json.loads(text(prkl("--db", db, "ports", "--limit", "1000", check=0)))
    assert len(ports) == len(rows := list(csv.DictReader(io.StringIO(text(prkl(
        "--db", db, "ports", "--limit", "1000", "--format", "csv", check=0)))))) == 143
    assert [dict(r) for r in rows] == ports


def test_an_empty_listing_still_has_its_header(db):
    empty = ["rates", "--from", "2016-01-01", "--to", "2016-01-01", "--origin", "CNSGH",
             "--destination", "NLRTM", "--percentiles", "25,75"]
    assert text(prkl("--db", db, "ports", "--search", "zzz", "--format", "csv",
                     check=0)) == "code,name,region\n"
    assert json.loads(text(prkl("--db", db, "ports", "--search", "zzz", check=0))) == []
    assert text(prkl("--db", db, "ports", "--search", "zzz", "--format", "ndjson", check=0)) == ""
    header = text(prkl("--db", db, *empty, "--format", "csv", check=0)).splitlines()[0]
    assert header == "day,average_price,count,min,max,p25,p75"


def test_matrix_flattens_to_one_row_per_lane_and_day(db):
    matrix = ["matrix", "--from", "2016-01-01", "--to", "2016-01-02", "--origins",
              "CNSGH,china_main", "--destinations", "NLRTM"]
    nested = json.loads(text(prkl("--db", db, *matrix, check=0)))["lanes"]
    rows = list(csv.DictReader(io.StringIO(text(prkl("--db", db, *matrix, "--format", "csv",
                                                     check=0)))))
    assert [(r["origin"], r["destination"], r["day"], int(r["count"])) for r in rows] == [
        (lane["origin"], lane["destination"], d["day"], d["count"])
        for lane in nested for d in lane["rates"]]
    lines = [json.loads(line) for line in
             text(prkl("--db", db, *matrix, "--format", "ndjson", check=0)).splitlines()]
    assert lines[0] == {"origin": "CNSGH", "destination": "NLRTM", **nested[0]["rates"][0]}


def test_csv_quotes_what_needs_quoting(tmp_path):
    dump = tmp_path / "quoted.sql"
    dump.write_text("COPY regions (slug, name, parent_slug) FROM stdin;\n"
                    "r\tNorth, \"Upper\" Region\t\\N\n\\.\n"
                    "COPY ports (code, name, parent_slug) FROM stdin;\n"
                    "AAAAA\tSaint-Pierre, Miquelon\tr\nBBBBB\tSay \"Cheese\"\tr\n\\.\n")
    db = f"sqlite:{tmp_path / 'q.db'}"
    prkl("--db", db, "import-dump", dump, check=0)
    out = text(prkl("--db", db, "ports", "--format", "csv", check=0))
    assert out == ('code,name,region\nAAAAA,"Saint-Pierre, Miquelon",r\n'
                   'BBBBB,"Say ""Cheese""",r\n')
    rows = list(csv.reader(io.StringIO(text(prkl("--db", db, "regions", "--format", "csv",
                                                 check=0)))))
    assert rows[1] == ["r", 'North, "Upper" Region', "", "0", "AAAAA BBBBB"]


def test_format_defaults_to_json_off_a_terminal_and_refuses_unknown_ones(db):
    assert json.loads(text(prkl("--db", db, "ports", "--code", "CNSGH", check=0)))
    out = prkl("--db", db, "ports", "--format", "xml", check=2)
    assert out.stderr.decode() == "prkl: --format 'xml' is not table, json, csv or ndjson\n"
    # A report (what a batch did) has a sentence and JSON, nothing flat.
    out = prkl("--db", db, "batch", "show", "nope", "--format", "csv", check=2)
    assert "--format 'csv': this command reports in table or json" in out.stderr.decode()
    # On a terminal, a table: `script` gives the command one.
    result = subprocess.run(["script", "-qec", f"{PRKL} --db {db} ports --code CNSGH",
                             "/dev/null"], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["code", "name", "region", "CNSGH", "Shanghai",
                                     "china_east_main"], result.stdout


def test_output_file_is_written_whole_or_not_at_all(db, tmp_path):
    target = tmp_path / "ports.csv"
    prkl("--db", db, "ports", "--limit", "3", "--format", "csv", "-o", target, check=0)
    first = target.read_text()
    assert first.startswith("code,name,region\n") and len(first.splitlines()) == 4
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())
    # -o after the command, and JSON by default: the file is not a terminal.
    prkl("ports", "--limit", "2", "--db", db, "--output", target, check=0)
    assert len(json.loads(target.read_text())) == 2
    before = target.read_text()
    prkl("--db", db, "ports", "--code", "NOPE1", "-o", target, check=2)
    prkl("--db", db, *RATES, "--from", "2016-13-01", "-o", target, check=2)
    assert target.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ports.csv"]  # no temporary left
    out = prkl("--db", db, "ports", "-o", tmp_path / "missing" / "x.json", check=2)
    assert f"cannot write '{tmp_path / 'missing' / 'x.json'}'" in out.stderr.decode()


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_standard_input_and_gzip(tmp_path):
    raw = RATESTASK.read_bytes()
    (tmp_path / "dump.sql.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "dump.sql").write_bytes(gzip.compress(raw))  # compressed, whatever its name
    stores = {}
    for name, args, stdin in (("plain", [RATESTASK], None),
                              ("stdin", ["-"], raw),
                              ("gz", [tmp_path / "dump.sql.gz"], None),
                              ("misnamed", [tmp_path / "dump.sql"], None),
                              ("stdin-gz", ["-"], gzip.compress(raw))):
        stores[name] = f"sqlite:{tmp_path / (name + '.db')}"
        out = text(prkl("--db", stores[name], "import-dump", *args, stdin=stdin, check=0))
        assert "53056 prices" in out, name
        assert ("from <stdin>" in out) == (args == ["-"])
    answers = {name: text(prkl("--db", url, *RATES, check=0)) for name, url in stores.items()}
    assert len(set(answers.values())) == 1

    batch = b"origin,destination,day,price\nCNSGH,NLRTM,2016-02-01,900\nCNSGH,NLRTM,2016-02-01,9x\n"
    out = prkl("--db", stores["plain"], "batch", "validate", "-", stdin=batch, check=2)
    assert out.stderr.decode() == ("prkl: <stdin>: 1 bad row\n"
                                   "  row 2 (line 3): price: price '9x' is not a whole number of dollars\n")
    good = batch.splitlines(keepends=True)[:2]
    out = prkl("--db", stores["plain"], "batch", "apply", "-", "--id", "in", "--format", "json",
               stdin=gzip.compress(b"".join(good)), check=0)
    assert json.loads(out.stdout)["prices"] == 1


def test_a_cut_or_corrupt_gzip_file_is_refused_and_nothing_is_created(tmp_path):
    whole = gzip.compress(RATESTASK.read_bytes())
    cut = tmp_path / "cut.sql.gz"
    cut.write_bytes(whole[:len(whole) // 2])
    corrupt = tmp_path / "corrupt.sql.gz"
    corrupt.write_bytes(whole[:20] + bytes(200) + whole[220:])
    for path, why in ((cut, "unexpected end of file"), (corrupt, "")):
        store = tmp_path / "never.db"
        out = prkl("--db", f"sqlite:{store}", "import-dump", path, check=2)
        assert out.stderr.decode().startswith(f"prkl: {path}: {why}"), out.stderr
        assert not store.exists()
    out = prkl("--db", f"sqlite:{tmp_path / 'never.db'}", "import-dump", "-",
               stdin=whole[:1000], check=2)
    assert out.stderr.decode() == "prkl: <stdin>: unexpected end of file\n"


def test_store_option_before_or_after_the_command(db):
    before = text(prkl("--db", db, "ports", "--code", "CNSGH", check=0))
    assert text(prkl("ports", "--code", "CNSGH", "--db", db, check=0)) == before
    assert text(prkl("ports", f"--db={db}", "--code", "CNSGH", check=0)) == before
    out = prkl("batch", "show", "nope", "--db", db, check=2)
    assert out.stderr.decode() == "prkl: no batch 'nope' was applied\n"


@pytest.mark.parametrize("args, named", [
    (["frobnicate"], "frobnicate"),
    (["--db", "sqlite:x.db", "frobnicate", "--limit", "3"], "frobnicate"),
    (["batch", "frob"], "batch frob"),
    (["fx", "export"], "fx export"),
])
def test_unknown_command_is_named(args, named, tmp_path):
    out = prkl(*args, check=2, cwd=tmp_path)
    assert out.stderr.decode() == f"prkl: unknown command '{named}'; see prkl --help\n"
    assert list(tmp_path.iterdir()) == []


COMMANDS = [[], ["init"], ["import-dump"], ["rates"], ["matrix"], ["market"], ["rank"], ["fx"],
            ["fx", "import"], ["ports"], ["regions"], ["batch"], ["batch", "validate"],
            ["batch", "apply"], ["batch", "show"], ["generate"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "prkl")
def test_every_option_has_a_help_line(command):
    help_text = text(prkl(*command, "--help", check=0))
    section = None
    entries = []
    for line in help_text.splitlines():
        if re.match(r"^[A-Z][a-z]+:$", line):
            section = line
        elif section in ("Options:", "Positionals:", "Subcommands:") and line.startswith("  "):
            if line.startswith("   "):  # a description continued below its option
                entries[-1] = (entries[-1][0], entries[-1][1] + line.strip())
            else:
                name, _, description = line.strip().partition("  ")
                entries.append((name, description.strip()))
        elif not line.strip():
            section = None
    assert entries, help_text
    for name, description in entries:
        assert description, f"{' '.join(command)}: {name} has no help line"


def test_version():
    out = text(prkl("--version", check=0))
    assert re.fullmatch(r"prkl \d+\.\d+\.\d+\n", out)


def test_man_page_documents_every_command():
    page = Path(os.environ["PRKL_MAN_PAGE"]).read_text()
    assert page.startswith(".\\\" DO NOT MODIFY THIS FILE!") and ".TH PRKL \"1\"" in page
    for command in COMMANDS[1:]:
        if command not in (["fx"], ["batch"]):
            assert f'.SS "prkl {" ".join(command)}"' in page, command
    assert "--percentiles" in page



def complete(*words):
    """COMPREPLY of the installed completion function for `prkl words...`, the last being the
    word under the cursor."""
    script = SOURCE / "examples" / "cli" / "prkl.bash-completion"
    line = " ".join(["prkl", *words])
    program = (f"prkl() {{ {PRKL} \"$@\"; }}\nsource {script}\n"
               f"COMP_WORDS=(prkl {' '.join(repr(w) if w else repr('') for w in words)})\n"
               f"COMP_CWORD={len(words)}\nCOMP_LINE={line!r}\nCOMP_POINT={len(line)}\n"
               "_prkl prkl\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    result = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True,
                            timeout=60, env=dict(os.environ, PATH=os.environ["PATH"]))
    assert result.returncode == 0, result.stderr
    return sorted(w for w in result.stdout.splitlines() if w)


def test_bash_completion():
    assert complete("") == ["batch", "fx", "generate", "import-dump", "init", "market", "matrix",
                            "ports", "rank", "rates", "regions"]
    assert "--fallback" in complete("market", "--f")
    assert complete("ba") == ["batch"]
    assert complete("batch", "") == ["apply", "show", "validate"]
    assert "--percentiles" in complete("rates", "--p")
    assert complete("rates", "--format", "") == ["csv", "json", "ndjson", "table"]
    assert complete("rates", "--bucket", "w") == ["week"]
    assert "--db" in complete("ports", "--d")
    assert "--search" in complete("--db", "sqlite:x.db", "ports", "--s")
