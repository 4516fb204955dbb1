"""The real notebooks, executed by a real kernel against a small demo warehouse.

``pytest --nbval-lax`` runs each notebook as an analyst would in JupyterLab: from the
notebooks folder, with the defaults of its parameters cell (../data/warehouse.duckdb,
../params). The project layout is mirrored in a temporary folder so the user's own
warehouse is never touched.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory, demo_warehouse):
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "params", root / "params")
    (root / "data").mkdir()
    shutil.copy(demo_warehouse, root / "data" / "warehouse.duckdb")
    return root


def test_every_notebook_runs_as_is_with_nbval(project_copy):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(project_copy), str(project_copy / "notebooks")],
        cwd=project_copy, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout or " passed" in result.stdout
