"""The installed package is the service: the wheel built from this checkout holds the runtime and its data,
and nothing that runs only from a checkout (benchmarks, the demo, build tools, tests)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT_ONLY = ("bench/", "demo/", "geodata/tools/", "tests/")
# The web frameworks (and their servers and toolkits) that must not come in next to aiohttp.
WEB_FRAMEWORKS = {"flask", "flask-swagger-ui", "werkzeug", "jinja2", "django", "fastapi", "starlette", "quart",
                  "sanic", "tornado", "bottle", "falcon", "pyramid", "litestar", "connexion", "uvicorn", "gunicorn"}
BUILD_LITTER = shutil.ignore_patterns(".git", ".venv", "build", "dist", "data", "*.egg-info", "__pycache__",
                                      ".*_cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    """The wheel pip builds from a copy of the checkout (building in place would leave build/ behind)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source, out = tmp / "source", tmp / "out"
    shutil.copytree(ROOT, source, ignore=BUILD_LITTER)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(out), str(source)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("travel-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def dist_info(wheel: zipfile.ZipFile) -> str:
    """The wheel's metadata folder (travel-VERSION.dist-info)."""
    (folder,) = {name.split("/")[0] for name in wheel.namelist() if name.split("/")[0].endswith(".dist-info")}
    return folder


def data_files(folder: str, pattern: str) -> set[str]:
    """The checkout's files in ``folder`` matching ``pattern``, as paths inside the wheel."""
    return {path.relative_to(ROOT).as_posix() for path in (ROOT / folder).glob(pattern) if path.is_file()}


def test_the_wheel_holds_the_service_and_its_data_only(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert {name.split("/")[0] for name in names} == {"travel", "feeds", "api", "geodata", dist_info(wheel)}
    assert not [name for name in names if name.startswith(CHECKOUT_ONLY)]
    bundle = data_files("geodata", "*.geojson") | data_files("geodata", "*.csv") | {"geodata/bundle.json"}
    migrations = data_files("travel/store/migrations", "*.sql")
    swagger_ui = data_files("api/static/swagger-ui", "*")
    assert len(bundle) >= 10 and len(migrations) >= 2
    assert {"api/static/swagger-ui/swagger-ui-bundle.js", "api/static/swagger-ui/swagger-ui.css",
            "api/static/swagger-ui/LICENSE", "api/static/swagger-ui/NOTICE"} <= swagger_ui
    assert bundle | migrations | swagger_ui <= names


def test_no_web_framework_besides_aiohttp(wheel: zipfile.ZipFile) -> None:
    metadata = wheel.read(f"{dist_info(wheel)}/METADATA").decode()
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ") and "extra ==" not in line]
    names = {re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")
             for requirement in requires}
    assert "aiohttp" in names
    assert not names & WEB_FRAMEWORKS
