"""The analysis notebooks run top to bottom (executed in a temporary copy; the repo keeps none of
their outputs)."""

import json
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_at_least_three_and_they_are_committed_without_outputs():
    assert len(NOTEBOOKS) >= 3
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in cells if c["cell_type"] == "code")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(tmp_path, path):
    copy = shutil.copy(path, tmp_path / path.name)
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= IMAGES[path.stem]  # figures and charts display inline
    pages = [o["data"]["text/html"] for o in outputs if "<iframe srcdoc=" in o.get("data", {}).get("text/html", "")]
    assert len(pages) == MAPS[path.stem]  # interactive maps, displayed through gzspatial.maps.show
    for page in pages:  # self-contained: no script or stylesheet from a CDN, so they work offline
        assert "L.map(" in page and not re.search(r"&lt;(?:script|link)[^&]*(?:src|href)=&quot;(?:https?:)?//", page)


#: Inline images (figures, charts) and offline interactive maps each notebook shows at least/exactly.
IMAGES = {"01_layout_overview": 1, "02_enterprise_attribution": 2, "03_spatial_analysis": 2}
MAPS = {"01_layout_overview": 1, "02_enterprise_attribution": 1, "03_spatial_analysis": 0}
