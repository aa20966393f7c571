"""Pins the ``locate --json`` / ``locate --name --json`` output (schema v1) byte for byte.

``tests/data/locate_v1.json`` was written by the dict-based results before they became dataclasses
(regenerate only for a deliberate schema change: ``python -m tests.test_locate_json_pin``). The
layer set's folder and version are machine- and data-dependent, so they are swapped for placeholders.
"""

import json
from pathlib import Path

import pytest

from .conftest import invoke_cli

PINNED = Path(__file__).parent / "data" / "locate_v1.json"
CASES = {
    "core_part": ["locate", "113.40", "23.12", "--json"],
    "gcj02_haizhu": ["locate", "113.3245", "23.1066", "--crs", "gcj02", "--json"],
    "swapped": ["locate", "23.12", "113.40", "--json"],
    "outside": ["locate", "114.06", "22.54", "--json", "--corridor-km", "1"],
    "two_nodes": ["locate", "113.368", "23.067", "--json"],
    "rural_nearest_node": ["locate", "113.60", "23.60", "--json"],
    "find_knowledge_city": ["locate", "--name", "知识城", "--json"],
    "find_university_town": ["locate", "--name", "大学城", "--json"],
    "find_nothing": ["locate", "--name", "no such place", "--json"],
    "address_offline": ["locate", "--address", "天河区五山路381号", "--json"],
}


def _placeholders(text: str) -> str:
    from gzspatial.layers import layer_set

    answering = layer_set()
    folder = json.dumps(str(answering.folder), ensure_ascii=False)[1:-1]
    return text.replace(folder, "<FOLDER>").replace(answering.version, "<VERSION>")


def _outputs() -> dict[str, str]:
    outputs = {}
    for name, args in CASES.items():
        result = invoke_cli(*args)
        assert result.returncode == 0, result.stderr.decode()
        outputs[name] = _placeholders(result.stdout.decode())
    return outputs


@pytest.mark.parametrize("name", list(CASES))
def test_json_output_is_unchanged(name):
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    result = invoke_cli(*CASES[name])
    assert result.returncode == 0, result.stderr.decode()
    assert _placeholders(result.stdout.decode()) == pinned[name]


if __name__ == "__main__":  # regenerate the pinned outputs
    PINNED.write_text(json.dumps(_outputs(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
