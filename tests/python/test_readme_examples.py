# SPDX-License-Identifier: MIT
"""Every example of the README's tour, run as a new user would after scripts/demo.sh (in a tree
laid out as after it, build/sample.db made by the same `prkl generate` command), each output
compared with the text the README shows beneath it: the C++ example compiled against this build,
the Python one run, each `$ ` line of a console block run (curl against the Flask app started as
the README starts it). A change that makes the README say what prkl does not fails here."""

import os
import re
import shlex
import subprocess
import urllib.request

from test_readme_apps import BUILD, ROOT, demo_tree, readme_section_commands, start, stop

TOUR = "A short tour"


def tour():
    text = (ROOT / "README.md").read_text()
    return text.split(f"\n## {TOUR}\n", 1)[1].split("\n## ", 1)[0]


def example_and_output(language):
    """The ```language block of the tour and the ```text block right after it."""
    found = re.search(rf"```{language}\n(.*?)```\s*```text\n(.*?)```", tour(), re.S)
    assert found, f"the README's tour has no {language} example with its output"
    return found.group(1), found.group(2)


def test_the_cpp_example_prints_what_the_readme_shows(tmp_path):
    tree = demo_tree(tmp_path)
    source, expected = example_and_output("cpp")
    (tree / "quickstart.cpp").write_text(source)
    flags = ["-fsanitize=address,undefined"] if os.environ.get("PRKL_SANITIZED") else []
    subprocess.run([os.environ.get("CXX", "c++"), "-std=c++20", *flags, f"-I{ROOT / 'include'}",
                    f"-I{BUILD / 'include'}", "quickstart.cpp", f"-L{BUILD}", "-lprkl",
                    f"-Wl,-rpath,{BUILD}", "-o", "quickstart"], cwd=tree, check=True)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    out = subprocess.run(["./quickstart"], cwd=tree, capture_output=True, text=True, check=True,
                         env=env)
    assert out.stdout == expected


def test_the_python_example_prints_what_the_readme_shows(tmp_path):
    tree = demo_tree(tmp_path)
    source, expected = example_and_output("python")
    out = subprocess.run(["/usr/bin/python3", "-c", source], cwd=tree, capture_output=True,
                         text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(tree / "build" / "python")))
    assert out.stdout == expected


def console_blocks():
    """(command, expected output) for every `$ ` line of the tour's console blocks."""
    for block in re.findall(r"```console\n(.*?)```", tour(), re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("$ "):
                output = []
                for following in lines[i + 1:]:
                    if following.startswith("$ "):
                        break
                    output.append(following)
                yield line[2:], "".join(f"{o}\n" for o in output)


def test_the_console_examples_print_what_the_readme_shows(tmp_path):
    tree = demo_tree(tmp_path)
    (tree / "build" / "prkl").symlink_to(BUILD / "prkl")
    examples = list(console_blocks())
    assert any(c.startswith("build/prkl ") for c, _ in examples)
    assert any(c.startswith("curl ") for c, _ in examples)
    flask = next(c for c in readme_section_commands("Flask and Bottle") if "examples/flask" in c)
    process, port = start(flask, tree)
    try:
        for command, expected in examples:
            if command.startswith("curl "):
                url = shlex.split(command)[1].replace("localhost:8000",
                                                      f"http://127.0.0.1:{port}")
                with urllib.request.urlopen(url, timeout=30) as response:
                    assert response.read().decode() == expected, command
            else:
                out = subprocess.run(["bash", "-c", command], cwd=tree, capture_output=True,
                                     text=True, timeout=60)
                assert out.returncode == 0, (command, out.stderr)
                assert out.stdout == expected, command
    finally:
        stop(process)
