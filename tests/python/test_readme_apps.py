# SPDX-License-Identifier: MIT
"""The README's commands for the web apps, read from README.md and run as written, in a directory
laid out as after scripts/demo.sh (build/sample.db made by the same prkl generate command,
build/python and examples/ beside it): each server answers from the sample database, and /ready
is 503 with the absolute path and the command that makes the store when it is not there."""

import json
import os
import re
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import prkl

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(prkl.__file__).resolve().parents[2]


def readme_section_commands(heading):
    """The lines of the ```sh blocks in the README section `heading`."""
    text = (ROOT / "README.md").read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def demo_generate_args():
    """scripts/demo.sh's `prkl generate` arguments."""
    for line in (ROOT / "scripts" / "demo.sh").read_text().splitlines():
        if " generate " in line:
            return shlex.split(line.split(" generate ", 1)[1])
    raise AssertionError("scripts/demo.sh makes no sample database")


def demo_tree(tmp_path):
    """A directory as the repository is after scripts/demo.sh, for the commands' relative paths."""
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "python").symlink_to(BUILD / "python")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    subprocess.run([str(BUILD / "prkl"), "--db", "sqlite:build/sample.db", "generate",
                    *demo_generate_args()], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def start(command, cwd, env=None):
    """`command` as a shell runs it in `cwd`; gunicorn bound to a free port through
    GUNICORN_CMD_ARGS, so that the command itself stays as the README writes it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("PRKL_") and k not in ("PYTHONPATH", "PWD")}
    environment.update(GUNICORN_CMD_ARGS=f"--bind=127.0.0.1:{port} --graceful-timeout=5",
                       **(env or {}))
    process = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"{command}: {process.stdout.read().decode()}")
            time.sleep(0.1)


def stop(process):
    process.terminate()
    process.wait(timeout=30)


def test_the_readme_app_commands_work_as_written(tmp_path):
    tree = demo_tree(tmp_path)
    commands = readme_section_commands("Flask and Bottle")
    servers = [c for c in commands if " gunicorn " in c]
    assert len(servers) == 2 and all("sqlite:build/sample.db" in c for c in servers)
    lane = {"date_from": "2024-01-01", "date_to": "2024-01-10", "origin": "china_main",
            "destination": "north_europe"}
    query = "&".join(f"{k}={v}" for k, v in lane.items())
    for command in servers:
        process, port = start(command, tree)
        try:
            status, body = get(port, "/ready")
            assert status == 200, (command, body)
            status, body = get(port, f"/rates?{query}")
            assert status == 200, (command, body)
            assert len(body) == 10 and any(d["average_price"] for d in body), body
            status, body = get(port, "/ports?limit=5")
            assert status == 200 and len(body["ports"]) == 5, body
        finally:
            stop(process)
    for command in commands:
        if command not in servers:
            done = subprocess.run(["bash", "-c", command], cwd=tree, capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0, (command, done.stderr)


def test_a_store_that_is_not_there_is_not_ready_and_says_where(tmp_path):
    tree = demo_tree(tmp_path)
    for command in readme_section_commands("Flask and Bottle"):
        if " gunicorn " not in command:
            continue
        command = command.replace("sqlite:build/sample.db", "sqlite:build/missing.db")
        process, port = start(command, tree)
        try:
            missing = tree / "build" / "missing.db"
            status, body = get(port, "/ready")
            assert status == 503, (command, body)
            assert body["error"] == (f"the rate store cannot be opened: no SQLite database at "
                                     f"'{missing}'; create it with: prkl --db sqlite:{missing} init")
            status, body = get(port, "/ports")
            assert status == 503 and str(missing) in body["error"], body
            assert get(port, "/health")[0] == 200
        finally:
            stop(process)
        assert not missing.exists()
