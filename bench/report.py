# SPDX-License-Identifier: MIT
"""Turns bench/run.sh's measurements (JSON lines) into benchmarks.md and benchmarks.png.

    python3 bench/report.py RESULTS.jsonl OUT_DIR COMMAND SECONDS
"""

import datetime
import json
import os
import platform
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_kb = int(f.readline().split()[1])
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({model}), {mem_kb / 2**20:.0f} GiB, "
            f"{platform.system()} {platform.release()}, {pg}")


def ms(value):
    return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms" if value < 1000 else \
        f"{value / 1000:.2f} s"


def main():
    results_path, out_dir, command, seconds = sys.argv[1:5]
    with open(results_path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]

    def find(**match):
        return [r for r in rows if all(r.get(k) == v for k, v in match.items())]

    def one(**match):
        found = find(**match)
        return found[0] if found else None

    lines = [
        "# prkl benchmarks",
        "",
        f"Written by `{command}` on {datetime.date.today().isoformat()} in {int(seconds) // 60} "
        f"min {int(seconds) % 60} s. Machine: {machine()}.",
        "",
        "Every figure comes from one run of that command; each comparison is measured in the same "
        "process or script, after checking that prkl on both backends and the plain SQL give the "
        "same answer. Rates are medians of warm runs (the plain SQL at 10M: 3 runs). The plain "
        "SQL is the hand-written recursive-CTE query the ratestask solutions use, on PostgreSQL. "
        "PostgreSQL runs with fsync on, `shared_buffers=1GB`.",
        "",
        "## Rates",
        "",
        "| data | question | prices counted | prkl SQLite | prkl PostgreSQL | plain SQL "
        "on PostgreSQL | SQLite vs plain | PostgreSQL vs plain |",
        "|---|---|---|---|---|---|---|---|",
    ]
    datasets = []
    for r in rows:
        if r["what"] == "rates" and r["data"] not in datasets:
            datasets.append(r["data"])
    for data in datasets:
        questions = []
        for r in find(what="rates", data=data):
            if r["question"] not in questions:
                questions.append(r["question"])
        for q in questions:
            lite = one(what="rates", data=data, question=q, backend="sqlite", way="prkl")
            pg = one(what="rates", data=data, question=q, backend="postgresql", way="prkl")
            plain = one(what="rates", data=data, question=q, way="plain_sql")
            desc = f"{lite['origin']} → {lite['destination']}, {lite['from']}..{lite['to']}"
            lines.append(
                f"| {data} ({lite['prices']:,} prices) | {q}: {desc} | {lite['prices_counted']:,} "
                f"| {ms(lite['median_ms'])} | {ms(pg['median_ms']) if pg else '—'} "
                f"| {ms(plain['median_ms']) if plain else '—'} "
                f"| {plain['median_ms'] / lite['median_ms']:,.0f}x |" if plain else
                f"| {data} ({lite['prices']:,} prices) | {q}: {desc} | {lite['prices_counted']:,} "
                f"| {ms(lite['median_ms'])} | — | — | — | — |")
            if plain and pg:
                lines[-1] += f" {plain['median_ms'] / pg['median_ms']:,.0f}x |"
            elif plain:
                lines[-1] += " — |"

    percentiles = find(what="percentiles")
    if percentiles:
        lines += ["", "## Percentiles", "",
                  "p25, p50 and p75 per day of `region_year` (china → north_europe, a year), read "
                  "from the prices of the lanes the question covers, against the same question "
                  "with `percentile_cont` in plain SQL on PostgreSQL (and, for scale, prkl's "
                  "answer without percentiles, which comes from the lane-day copy).", "",
                  "| data | prkl SQLite | prkl PostgreSQL | plain SQL on PostgreSQL | averages "
                  "only (SQLite) |", "|---|---|---|---|---|"]
        for data in datasets:
            lite = one(what="percentiles", data=data, backend="sqlite", way="prkl")
            if not lite:
                continue
            pg = one(what="percentiles", data=data, backend="postgresql", way="prkl")
            plain = one(what="percentiles", data=data, way="plain_sql")
            averages = one(what="rates", data=data, question="region_year", backend="sqlite",
                           way="prkl")
            lines.append(f"| {data} | {ms(lite['median_ms'])} | "
                         f"{ms(pg['median_ms']) if pg else '—'} | "
                         f"{ms(plain['median_ms']) if plain else '—'} | "
                         f"{ms(averages['median_ms']) if averages else '—'} |")

    bands = find(what="band")
    if bands:
        lines += ["", "## The market's band and rank", "",
                  "`market` (2.5th, 25th, 50th, 75th and 97.5th percentile, mean and count per "
                  "day) and `rank` (percent_rank and cume_dist of the price 1500 per day) of each "
                  "question, against the same answers in plain SQL on PostgreSQL "
                  "(`percentile_cont`, `avg`, and the hypothetical-set `percent_rank` and "
                  "`cume_dist`), checked equal first. Both answer from the prices the in-memory "
                  "copy keeps; the first band of a question reads the lanes the copy lacks into "
                  "it (`first`: the questions run in the order shown, so a later one may find "
                  "its lanes there already), and `copy` is what the copy's prices then hold.", "",
                  "| data | question | answer | prkl SQLite | prkl PostgreSQL | plain SQL | "
                  "plain / prkl SQLite | first SQLite / PostgreSQL | copy |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for data in datasets:
            for question in ("region_month", "region_year", "world_month"):
                for what in ("band", "rank"):
                    lite = one(what=what, data=data, question=question, backend="sqlite",
                               way="prkl")
                    if not lite:
                        continue
                    pg = one(what=what, data=data, question=question, backend="postgresql",
                             way="prkl")
                    plain = one(what=what, data=data, question=question, way="plain_sql")
                    ratio = (f"{plain['median_ms'] / lite['median_ms']:,.1f}x"
                             if plain else "—")
                    first, copy = "", ""
                    if what == "band":
                        firsts = [one(what="band_first", data=data, question=question,
                                      backend=backend) for backend in ("sqlite", "postgresql")]
                        first = " / ".join(ms(f["ms"]) if f else "—" for f in firsts)
                        copied = one(what="copied_prices", data=data, question=question,
                                     backend="sqlite")
                        if copied:
                            copy = (f"{copied['prices']:,} prices, "
                                    f"{copied['bytes'] / 2**20:,.1f} MiB")
                    lines.append(f"| {data} | {question} | {what} | {ms(lite['median_ms'])} | "
                                 f"{ms(pg['median_ms']) if pg else '—'} | "
                                 f"{ms(plain['median_ms']) if plain else '—'} | {ratio} | "
                                 f"{first} | {copy} |")

    filtered = find(what="band_filtered")
    if filtered:
        lines += ["", "## The band under a filter", "",
                  "The band of each question counting only 40HC or 40DC, short-term prices "
                  "received at most 14 days before their day (generated data, with the market's "
                  "mix of dimensions), beside the same band unfiltered and the same filtered band "
                  "in plain SQL, checked equal first. The issue's target: a filter at most 1.5x "
                  "the unfiltered question.", "",
                  "| data | question | prkl SQLite | filtered / unfiltered | prkl PostgreSQL | "
                  "filtered / unfiltered | plain SQL |", "|---|---|---|---|---|---|---|"]
        for data in datasets:
            for question in ("region_month", "region_year", "world_month"):
                cells = []
                for backend in ("sqlite", "postgresql"):
                    got = one(what="band_filtered", data=data, question=question,
                              backend=backend, way="prkl")
                    base = one(what="band", data=data, question=question, backend=backend,
                               way="prkl")
                    cells += [ms(got["median_ms"]) if got else "—",
                              f"{got['median_ms'] / base['median_ms']:.2f}x"
                              if got and base else "—"]
                if cells[0] == "—":
                    continue
                plain = one(what="band_filtered", data=data, question=question, way="plain_sql")
                lines.append(f"| {data} | {question} | {' | '.join(cells)} | "
                             f"{ms(plain['median_ms']) if plain else '—'} |")

    applied = find(what="contracts_apply")
    if applied:
        lines += ["", "## Contracts: applying them, and answering with them", "",
                  "`bench/contracts_bench.py`: one-year contracts (one stored row each, valid "
                  "from the first of a month, on 2,000 random lanes of the real dump's ports) "
                  "beside as many day prices on the same lanes, each batch applied in one call to "
                  "a fresh copy of the real dump; then the band of a region month after it. The "
                  "lane-day aggregates hold a contract on each of its days, so a one-year contract "
                  "touches a lane-day per day where a day price touches one.", "",
                  "| backend | batch | rows | apply | contracts / day prices | band of a region "
                  "month after it |", "|---|---|---|---|---|---|"]
        for r in applied:
            days = one(what="contracts_apply", backend=r["backend"], kind="day prices")
            ratio = (f"{r['ms'] / days['ms']:.1f}x"
                     if days and r["kind"] != "day prices" else "—")
            lines.append(f"| {r['backend']} | {r['kind']} | {r['rows']:,} | {r['ms']:,.0f} ms | "
                         f"{ratio} | {r['band_ms']:.2f} ms |")

    matrices = find(what="matrix")
    if matrices:
        lines += ["", "## Many lanes per call", "",
                  "`rates_matrix` over 10 regions × 10 regions for `region_month`'s month, "
                  "against the 100 `rates` calls it replaces, in the same process, after checking "
                  "they give the same answers.", "",
                  "| data | backend | one matrix call | 100 rates calls | speed-up |",
                  "|---|---|---|---|---|"]
        for r in matrices:
            lines.append(f"| {r['data']} | {r['backend']} | {ms(r['matrix_ms'])} | "
                         f"{ms(r['separate_ms'])} | {r['speedup']:.1f}x |")

    lines += ["", "## Cold start", "",
              "A new connection with nothing in memory opens the store and answers its first "
              "question (loading every lane-day aggregate).", "",
              "| data | backend | open + first answer | lanes | lane-days | memory | bytes per "
              "lane-day |", "|---|---|---|---|---|---|---|"]
    for r in find(what="cold_start"):
        lines.append(f"| {r['data']} | {r['backend']} | {ms(r['ms'])} | {r['lanes']:,} | "
                     f"{r['lane_days']:,} | {r['bytes'] / 2**20:.1f} MiB | "
                     f"{r['bytes_per_lane_day']:.1f} |")

    lines += ["", "## Loading a data set", "", "| data | backend | load (validate + write + "
              "aggregates, one transaction) |", "|---|---|---|"]
    for r in find(what="load"):
        lines.append(f"| {r['data']} ({r['prices']:,} prices) | {r['backend']} | {ms(r['ms'])} |")

    lines += ["", "## Batches", "",
              "`Database::apply` (validation, digest, ledger and the lane-day aggregates, in one "
              "transaction) against the plain way of writing the same rows into a copy of the "
              "prices table with the same index and foreign keys but none of prkl's triggers or "
              "aggregates. Rows are a month of new days on existing lanes, about three prices per "
              "lane and day. Medians of 3 rounds.", "",
              "| data | backend | rows | prkl | plain way | plain | prkl / plain |",
              "|---|---|---|---|---|---|---|"]
    for r in find(what="batch"):
        lines.append(f"| {r['data']} | {r['backend']} | {r['rows']:,} | {ms(r['prkl_ms'])} | "
                     f"{r['plain_way']} | {ms(r['plain_ms'])} | {r['ratio']:.2f} |")

    lines += ["", "## Readers while a large batch is applied", "",
              "A reader asks the first question of the data set over and over while another "
              "connection applies a batch; after each answer it also counts the batch's days and "
              "checks it sees all of the batch or none of it.", "",
              "| data | backend | batch rows | idle p99 | p99 during the write | max during "
              "| ratio | answers showing part of a batch |",
              "|---|---|---|---|---|---|---|---|"]
    for r in find(what="readers_during_write"):
        lines.append(f"| {r['data']} | {r['backend']} | {r['batch_rows']:,} | "
                     f"{ms(r['idle_p99_ms'])} | {ms(r['busy_p99_ms'])} | {ms(r['busy_max_ms'])} "
                     f"| {r['ratio']:.2f} | {r['partial_answers']} |")

    overhead = find(what="metrics_overhead")
    if overhead:
        lines += ["", "## Cost of the metrics", "",
                  "The first question of each data set asked with `prkl::set_metrics_enabled` "
                  "off and on, in alternating blocks of 50 calls, same run (target: within 2%).",
                  "", "| data | backend | off, median | on, median | on / off |",
                  "|---|---|---|---|---|"]
        for r in overhead:
            lines.append(f"| {r['data']} | {r['backend']} | {ms(r['off_median_ms'])} | "
                         f"{ms(r['on_median_ms'])} | {r['ratio']:.3f} |")

    http = {r["app"]: r["rps"] for r in find(what="http")}
    if http:
        lines += ["", "## HTTP", "",
                  "`bench/http_bench.sh`: `GET /rates` china_main → northern_europe, January "
                  "2016, on the real dump; gunicorn `-w 2 --threads 4`, `wrk -t2 -c16`, same "
                  "run. The ceiling is a Flask endpoint returning the same answer as a constant.",
                  "", "| app | req/s | share of the ceiling | vs plain |", "|---|---|---|---|"]
        names = {"constant": "Flask, constant answer (ceiling)",
                 "plain_psycopg2": "plain Flask + psycopg2 + recursive CTE",
                 "prkl_postgresql": "Flask example on prkl, PostgreSQL",
                 "prkl_sqlite": "Flask example on prkl, SQLite",
                 "varnish_prkl_sqlite": "Varnish in front of the Flask example on SQLite (1 s)"}
        for app, name in names.items():
            if app in http:
                lines.append(f"| {name} | {http[app]:,.0f} | {http[app] / http['constant']:.0%} "
                             f"| {http[app] / http['plain_psycopg2']:.1f}x |")

    ceiling = {r["app"]: r for r in find(what="flask_ceiling")}
    if ceiling:
        r = ceiling["ceiling"]
        lines += ["", "## Flask's ceiling", "",
                  "`bench/flask_ceiling.sh`: `GET /rates` china_main → north_europe_main, "
                  "January 2016, on the real dump; each app under gunicorn `-w 2 --threads 4`, "
                  f"`wrk -t1 -c16` for {r['seconds']:.0f} s at a time on loopback, "
                  f"{len(r['rounds'])} rounds taking the apps in turn, medians (the share: "
                  "the median of each round's share of the same round's ceiling); on 2 cores, "
                  "which wrk and the workers share (nothing pinned). Load average before: "
                  f"{r['load_before']}.",
                  "", "| app | req/s | share of the ceiling | rounds |", "|---|---|---|---|"]
        names = {"ceiling": "Flask, constant answer (ceiling)",
                 "plain": "plain Flask + psycopg2 + recursive CTE",
                 "sqlite": "Flask example on prkl, SQLite",
                 "postgres": "Flask example on prkl, PostgreSQL",
                 "sqlite-before": "the same, SQLite, baseline version",
                 "postgres-before": "the same, PostgreSQL, baseline version"}
        for app, name in names.items():
            if app in ceiling:
                rps = ceiling[app]["rps"]
                lines.append(f"| {name} | {rps:,.0f} | {ceiling[app]['share']:.0%} | "
                             + ", ".join(f"{v:,.0f}" for v in ceiling[app]["rounds"]) + " |")

    replica = find(what="replica")
    if replica:
        lines += ["", "## Reads from a hot standby", "",
                  "`bench/replica_bench.py`: the real dump on a primary and its `pg_basebackup -R` "
                  "standby (loopback, fsync on); `prkl.connect(primary)` against "
                  "`prkl.connect(primary, read_url=standby)`, alternating blocks, same run. After "
                  "a batch through the same Database, the read waits for the standby to replay "
                  "it (read-your-writes).", "",
                  "| measure | calls each | primary, median | standby, median | standby, max "
                  "| standby / primary |", "|---|---|---|---|---|---|"]
        for r in replica:
            lines.append(f"| {r['measure']} | {r['calls']} | {ms(r['primary_median_ms'])} | "
                         f"{ms(r['standby_median_ms'])} | {ms(r['standby_max_ms'])} | "
                         f"{r['ratio']:.2f} |")

    writers = find(what="writers")
    if writers:
        lines += ["", "## Writers in parallel", "",
                  "`bench/writers_bench.py`: PostgreSQL on loopback (fsync on), a generated store "
                  "(200 ports, 4,000 lanes); writer processes apply batches on lanes of their own "
                  "(no two touch one lane-day), first one, then four, each for the same time; "
                  "pg_locks sampled every 50 ms for what waits. Every batch is checked to have "
                  "landed once.", "",
                  "| writers | rows a batch | prices/s | against one | lock waits seen (samples) |",
                  "|---|---|---|---|---|"]
        for r in writers:
            lines.append(f"| {r['writers']} | {r['rows']:,} | {r['prices_per_s']:,.0f} | "
                         f"{r['ratio']:.2f}x | {r['lock_waits']} |")

    # Cost against data size, region → region month, log-log.
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for backend, way, label in (("sqlite", "prkl", "prkl, SQLite"),
                                ("postgresql", "prkl", "prkl, PostgreSQL"),
                                ("postgresql", "plain_sql", "plain SQL, PostgreSQL")):
        points = sorted((r["prices"], r["median_ms"]) for r in
                        find(what="rates", question="region_month", backend=backend, way=way))
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("prices in the store")
    ax.set_ylabel("median latency, ms (log)")
    ax.set_title("region → region month: latency against data size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "benchmarks.png"), dpi=110)
    lines += ["", "## How cost grows", "",
              "region → region month at each size (the real dump's china_main → northern_europe, "
              "then china → north_europe on generated data):", "",
              "![latency against data size](benchmarks.png)", ""]
    with open(os.path.join(out_dir, "benchmarks.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
