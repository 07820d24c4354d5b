# SPDX-License-Identifier: MIT
"""Builds prkl's Python module with CMake for pip (see pyproject.toml).

The module links a static libprkl, so the installed package stands alone: no libprkl.so to find.
The version is read from CMakeLists.txt's project(VERSION), the one place it is written.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
VERSION = re.search(r"project\(prkl VERSION (\d+\.\d+\.\d+)",
                    (ROOT / "CMakeLists.txt").read_text()).group(1)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        target = Path(self.get_ext_fullpath(ext.name)).resolve()
        build = Path(self.build_temp).resolve() / "cmake"
        configure = ["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                     "-DBUILD_SHARED_LIBS=OFF", "-DPRKL_BUILD_PYTHON=ON", "-DPRKL_BUILD_CLI=OFF",
                     "-DPRKL_BUILD_TESTS=OFF", "-DPRKL_BUILD_BENCH=OFF", "-DPRKL_INSTALL=OFF",
                     f"-DPython3_EXECUTABLE={sys.executable}"]
        if shutil.which("ccache"):
            configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build), "--target", "prkl_python", "-j",
                        os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))],
                       check=True)
        built = next((build / "python" / "prkl").glob("_prkl*.so"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)


setup(
    version=VERSION,
    packages=["prkl"],
    package_dir={"": "bindings/python"},
    package_data={"prkl": ["py.typed", "_prkl.pyi"]},
    ext_modules=[CMakeExtension("prkl._prkl")],
    cmdclass={"build_ext": CMakeBuild},
    # Out of the way of the CMake build directory build/ that the README uses.
    options={"build": {"build_base": "build-python-package"}},
)
