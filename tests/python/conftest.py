"""Stores for the Python tests: a SQLite file, and a database on the throwaway PostgreSQL server
that CTest started (tests/postgres/server.sh). Without that server the PostgreSQL cases fail."""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

XENETA = Path(os.environ["PRKL_XENETA_DIR"])
RATESTASK = XENETA / "ratestask-2016.sql"


def postgres_url():
    conninfo_file = os.environ.get("PRKL_TEST_PG_CONNINFO_FILE")
    if not conninfo_file or not Path(conninfo_file).exists():
        pytest.fail("no PostgreSQL test server (PRKL_TEST_PG_CONNINFO_FILE); run under CTest")
    server = Path(conninfo_file).read_text().strip()
    name = f"py_{uuid.uuid4().hex[:12]}"
    # psql is not ours: keep the sanitizer runtimes a sanitized test run preloads away from it.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", server, "-c",
                    f"CREATE DATABASE {name}"], check=True, capture_output=True, env=env,
                   timeout=60)
    return f"{server.rsplit(' dbname=', 1)[0]} dbname={name}"


def new_url(backend, tmp_path):
    if backend == "sqlite":
        return f"sqlite:{tmp_path / f'{uuid.uuid4().hex}.db'}"
    return postgres_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def empty_url(backend, tmp_path):
    return new_url(backend, tmp_path)


@pytest.fixture
def real_url(backend, tmp_path):
    """A store loaded from the ratestask dump."""
    import prkl
    url = new_url(backend, tmp_path)
    prkl.connect(url, create=True).import_dump(RATESTASK)
    return url
