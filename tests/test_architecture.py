"""The house's rules that import-linter cannot say: no import circles (lazy imports included),
only `create_app` taken from the app package root, small folders, no file opened below io, and
a wheel that carries every subpackage and runs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geo", "app")
MAX_MODULES_PER_FOLDER = 16


def project_modules() -> dict[str, Path]:
    """Every project module by dotted name (a package by its own name)."""
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = path
    return mods


def imports_of(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """Project modules this module imports anywhere in its body, functions included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in mods:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(root: str) -> None:
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> project modules it imports. A package's own submodules, imported by its
    `__init__`, are not counted as the package depending on them (Python loads them after)."""
    mods = project_modules()
    graph = {}
    for name, path in mods.items():
        deps = imports_of(name, path, mods)
        if path.name == "__init__.py":
            deps = {d for d in deps if not d.startswith(name + ".")}
        graph[name] = deps
    return graph


def test_the_cycle_finder_finds_a_hand_built_circle():
    """The checker itself: a -> b -> c -> a is one circle, d -> a is none."""
    found = cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()})
    assert found == [["a", "b", "c"]]


def test_no_import_circles_among_project_modules():
    assert cycles(import_graph()) == []


def test_only_the_factory_is_taken_from_the_app_package_root():
    """Views read shared state through app/state.py; only the CLI (and app/__init__ itself)
    may import from the package root, and only `create_app`."""
    mods = project_modules()
    offenders = []
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "app" and not node.level:
                names = {a.name for a in node.names if f"app.{a.name}" not in mods}
                if names and (names != {"create_app"} or not name.startswith("app.cli")):
                    offenders.append(f"{name}: {sorted(names)}")
    assert offenders == []


def test_no_folder_holds_more_than_16_modules():
    for pkg in PACKAGES:
        for folder in [ROOT / pkg, *(p for p in (ROOT / pkg).rglob("*") if p.is_dir())]:
            modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
            assert len(modules) <= MAX_MODULES_PER_FOLDER, folder


OPENERS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "read_file",
           "to_file", "read_csv", "to_csv", "read_parquet", "to_parquet", "load_graphml",
           "graph_from_xml", "save_graphml"}


def test_index_and_analysis_open_no_files():
    """All reading and writing is in geo/io: the index and the analysis take arrays."""
    found = []
    for folder in ("geo/index", "geo/analysis"):
        for path in (ROOT / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Call):
                    f = node.func
                    called = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                    if called in OPENERS:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {called}")
    assert found == []


def test_new_package_folders_are_empty():
    """No re-exports in the subpackages' __init__ files: start-up imports only what it uses."""
    for pkg in PACKAGES:
        for init in (ROOT / pkg).rglob("__init__.py"):
            if init.parent != ROOT / pkg:
                assert init.read_text("utf-8").strip() == "", init


@pytest.mark.slow
def test_the_wheel_carries_every_subpackage_and_runs(tmp_path):
    """Built as a wheel and installed by pip in a fresh venv (its dependencies seen through this
    one's site-packages, so nothing is downloaded), `stations --help` runs from it, and the
    migrations and templates are inside."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(dist), str(ROOT)], check=True, timeout=300)
    wheel = next(dist.glob("worker_stations-*.whl"))
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for must in ("geo/index/nearest.py", "geo/reports/migrations/env.py",
                 "geo/reports/migrations/versions/0001_reports.py", "app/cli/main.py",
                 "app/templates/finder.html", "app/api/openapi.py"):
        assert must in names, must
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py, stations = env_dir / "bin" / "python", env_dir / "bin" / "stations"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    here = [p for p in sys.path if p.endswith("site-packages")]
    Path(site, "deps.pth").write_text("\n".join(here) + "\n")  # dependencies, not the project
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(stations), "--help"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "plan" in out.stdout and "national" in out.stdout
    where = subprocess.run([str(py), "-c", "import geo.reports.db as m; print(m.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True, env=env)
    assert where.stdout.startswith(site)  # the wheel's copy, not the checkout
