# SPDX-License-Identifier: MIT
"""Peak memory of the `prkl` tool on inputs of any size: a gzip of 40M batch rows (a few MB on
disk) given to `batch validate` and `batch apply`, a batch of exactly the limit's 1M rows, a
200 MB exchange-rate file, and dump imports (the real dump, generated ones of 4M and 40M
prices), each as one process timed by /usr/bin/time.

    python3 bench/memory_bench.py --prkl build/prkl --dump ../shared/data/xeneta/ratestask-2016.sql
    python3 bench/memory_bench.py ... --smoke     small inputs, answers checked (bench/run.sh --smoke)

Prints a Markdown table: what ran, its exit status, peak RSS and wall time."""

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROW = b"CNSGH,NLRTM,2016-02-01,900\n"
HEADER = b"origin,destination,day,price\n"


def measure(command):
    """Exit status, stderr's first line, peak RSS in MB and seconds of one run of `command`."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M %e", *map(str, command)],
                            capture_output=True, timeout=3600)
    lines = [line for line in result.stderr.decode(errors="replace").splitlines()
             if not line.startswith("Command exited with non-zero status")]
    kib, seconds = lines[-1].split()
    return result.returncode, (lines[:-1] or [""])[0], int(kib) / 1024, float(seconds)


def write_gzip_rows(path, rows):
    with gzip.open(path, "wb", compresslevel=6) as f:
        f.write(HEADER)
        block = ROW * 100_000
        for _ in range(rows // 100_000):
            f.write(block)
        f.write(ROW * (rows % 100_000))


def write_rows(path, rows):
    ports = [b"CNSGH", b"NLRTM", b"CNYTN", b"NOOSL", b"DEHAM", b"GBFXT", b"BEANR"]
    with open(path, "wb") as f:
        f.write(HEADER)
        for i in range(rows):
            origin, destination = ports[i % 7], ports[(i // 7 + 1 + i) % 7]
            if origin == destination:
                destination = ports[(i + 1) % 7]
            f.write(b"%s,%s,2016-%02d-%02d,%d\n" % (origin, destination, 1 + i % 12,
                                                    1 + i % 28, 100 + i % 900))


def write_dump(path, prices):
    """A dump in pg_dump's order (ports, prices, regions) of `prices` prices on 400 lanes."""
    ports = [b"P%04d" % i for i in range(40)]
    with open(path, "wb") as f:
        f.write(b"COPY public.ports (code, name, parent_slug) FROM stdin;\n")
        f.writelines(b"%s\tPort %s\tr%d\n" % (p, p, i % 4) for i, p in enumerate(ports))
        f.write(b"\\.\nCOPY public.prices (orig_code, dest_code, day, price) FROM stdin;\n")
        lanes = [(o, d) for o in ports[:20] for d in ports[20:]]
        # A day's block: every lane once, the price varying by lane.
        for n in range(prices // len(lanes) + 1):
            count = min(len(lanes), prices - n * len(lanes))
            if count <= 0:
                break
            day = b"%04d-%02d-%02d" % (2000 + n // 336, 1 + n // 28 % 12, 1 + n % 28)
            f.write(b"".join(b"%s\t%s\t%s\t%d\n" % (o, d, day, 100 + (i * 7 + n) % 900)
                             for i, (o, d) in enumerate(lanes[:count])))
        f.write(b"\\.\nCOPY public.regions (slug, name, parent_slug) FROM stdin;\n"
                b"world\tWorld\t\\N\n")
        f.writelines(b"r%d\tRegion %d\tworld\n" % (i, i) for i in range(4))
        f.write(b"\\.\n")


def write_fx(path, size):
    with open(path, "wb") as f:
        f.write(b'{"base": "USD", "note": "')
        chunk = b"x" * (1 << 20)
        for _ in range(size >> 20):
            f.write(chunk)
        f.write(b'", "rates": {"EUR": 0.9}}')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prkl", required=True)
    parser.add_argument("--dump", required=True)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--dump-prices", type=int, default=40_000_000,
                        help="prices in the largest generated dump (a tenth of it too)")
    args = parser.parse_args()
    big_rows = 3_000_000 if args.smoke else 40_000_000
    limit_rows = 1_000_000  # Options::max_batch_prices' default
    accepted_rows = 100_000 if args.smoke else limit_rows
    fx_size = (8 if args.smoke else 200) << 20
    dump_prices = [20_000, 200_000] if args.smoke else [args.dump_prices // 10, args.dump_prices]
    generate_sizes = [(36_500, 365)] if args.smoke else [(args.dump_prices // 4, 365)]
    work = Path(tempfile.mkdtemp(prefix="prkl-memory-"))
    try:
        store = f"sqlite:{work / 'rates.db'}"
        loaded = measure([args.prkl, "--db", store, "import-dump", args.dump])
        assert loaded[0] == 0, loaded
        bomb = work / "rows.csv.gz"
        write_gzip_rows(bomb, big_rows)
        accepted = work / "accepted.csv"
        write_rows(accepted, accepted_rows)
        fx = work / "2016-01-04.json"
        write_fx(fx, fx_size)
        table = [("import-dump, the real dump (53k prices)", loaded)]
        for command in ("validate", "apply"):
            result = measure([args.prkl, "--db", store, "batch", command, bomb])
            assert result[0] == 2 and f"more than {limit_rows} rows" in result[1], result
            table.append((f"batch {command}, gzip of {big_rows:,} rows "
                          f"({bomb.stat().st_size / 2**20:.1f} MB), refused at the limit", result))
        for command in ("validate", "apply"):
            result = measure([args.prkl, "--db", store, "batch", command, accepted])
            assert result[0] == 0, result
            table.append((f"batch {command}, {accepted_rows:,} rows, accepted", result))
        for prices in dump_prices:
            # A dump streams into the store: memory must not grow with its prices.
            dump = work / "generated.sql"
            write_dump(dump, prices)
            size = dump.stat().st_size / 2**20
            result = measure([args.prkl, "--db", f"sqlite:{work / 'generated.db'}",
                              "import-dump", dump])
            assert result[0] == 0, result
            table.append((f"import-dump, {prices:,} prices ({size:.0f} MB)", result))
            (work / "generated.db").unlink()
            dump.unlink()
        for prices, days in generate_sizes:
            # The generator streams too: into a dump, and into a store with the market's mix
            # (dimensions, 20% contracts).
            lanes = ["--ports", "1000", "--lanes", str(prices // days), "--days", str(days),
                     "--prices-per-day", "1"]
            dump = work / "generated.sql"
            result = measure([args.prkl, "generate", *lanes, "--dump", dump])
            assert result[0] == 0, result
            table.append((f"generate --dump, {prices:,} prices "
                          f"({dump.stat().st_size / 2**20:.0f} MB)", result))
            dump.unlink()
            result = measure([args.prkl, "--db", f"sqlite:{work / 'generated.db'}", "generate",
                              *lanes, "--dimensions", "--contracts-percent", "20"])
            assert result[0] == 0, result
            table.append((f"generate into a store, {prices:,} rows, dimensions, 20% contracts",
                          result))
            (work / "generated.db").unlink()
        result = measure([args.prkl, "--db", store, "fx", "import", fx])
        assert result[0] == 2 and "longer than 4194304 bytes" in result[1], result
        table.append((f"fx import, a {fx_size >> 20} MB file, refused", result))
        print("| command | exit | peak RSS (MB) | seconds |")
        print("|---|---|---|---|")
        for what, (status, _, mb, seconds) in table:
            print(f"| {what} | {status} | {mb:.0f} | {seconds:.1f} |")
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
