"""The layout's rules, checked on the source: imports flow files → core → dashboard → pages,
core's stages only import earlier stages, and no import cycle exists anywhere."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("core", "dashboard", "app_pages", "tests", "bench", "streamlit_app")
# Pipeline order inside core/: a stage may import earlier stages and core's shared basics only.
CORE_STAGES: tuple[str, ...] = (
    "video",
    "features",
    "model",
    "evaluation",
    "audit",
    "explain",
    "training",
    "demo",
    "serve",
    "commands",
)
APP_SIDE: tuple[str, ...] = ("streamlit", "dashboard", "app_pages")
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> dict[str, Path]:
    files = [ROOT / "streamlit_app.py"]
    for folder in FIRST_PARTY[:-1]:
        files += sorted((ROOT / folder).rglob("*.py"))
    return {module_name(path): path for path in files}


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """First-party modules a file imports anywhere in it (deferred imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = source_files()
    known = set(files)
    graph = {}
    for name, path in files.items():
        graph[name] = {other for other in imported_modules(path, known) if other != name}
    return graph


def stage_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "core" or len(parts) < 3 or parts[1] not in CORE_STAGES:
        return None
    return CORE_STAGES.index(parts[1])


def test_no_import_cycle() -> None:
    graph = import_graph()
    assert "core.model.inference" in graph and "dashboard" in {m.split(".")[0] for m in graph}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_cycle_detection_catches_a_cycle() -> None:
    with pytest.raises(CycleError):
        tuple(TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())


def test_core_never_imports_streamlit_or_the_app() -> None:
    offenders = []
    for name, path in source_files().items():
        if not name.startswith("core"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            offenders += [f"{name} imports {root}" for root in roots if root in APP_SIDE]
    assert offenders == []


def test_imports_flow_down_the_layers() -> None:
    layer = {"core": 0, "dashboard": 1, "app_pages": 2, "streamlit_app": 2}
    upward = [
        f"{module} imports {other}"
        for module, imports in import_graph().items()
        for other in imports
        if module.split(".")[0] in layer
        and other.split(".")[0] in layer
        and layer[other.split(".")[0]] > layer[module.split(".")[0]]
    ]
    assert upward == []


def test_core_stages_import_only_earlier_stages() -> None:
    backwards = []
    for module, imports in import_graph().items():
        own = stage_of(module)
        for other in imports:
            theirs = stage_of(other)
            if own is not None and theirs is not None and theirs > own:
                backwards.append(f"{module} ({CORE_STAGES[own]}) imports {other} ({CORE_STAGES[theirs]})")
    assert backwards == []


def test_core_top_level_holds_only_shared_basics() -> None:
    core = ROOT / "core"
    flat = sorted(p.name for p in core.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(flat) <= 8, flat
    assert {p.name for p in core.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(CORE_STAGES)


def test_no_module_is_oversized() -> None:
    files = source_files().items()
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in files}
    oversized = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert {name: lines for name, lines in oversized.items() if not name.startswith("tests")} == {}
