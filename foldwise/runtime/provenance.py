"""What a result was made from: the package code a rule runs, and the run's environment.

:func:`code_version` lets Snakemake re-run a rule when any ``foldwise`` module its
script imports (directly or through other modules) changes in behaviour: the
hash covers each module's syntax tree, so comments and formatting do not count.
The closure stops at :mod:`foldwise.runtime` (logging, GPU claims, provenance,
input tracking): no result depends on that plumbing, so editing it re-runs
nothing. The package is laid out along the DAG's stages (``data/``, ``train/``,
``models/``) so that each rule's closure holds only the code that can change
its output. Nothing here imports torch; the Snakefile calls it while planning.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import platform
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # foldwise/
PACKAGE = PACKAGE_DIR.name
PLUMBING = f"{PACKAGE}.runtime"  # outside every code hash


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"


def _walk_runtime(tree: ast.AST):
    """``ast.walk`` that skips ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(c for c in ast.iter_child_nodes(node) if not _is_type_checking_block(c))


def _imported_modules(tree: ast.AST) -> set[str]:
    """Dotted names of ``foldwise`` modules an AST imports at run time (also inside functions)."""
    names: set[str] = set()
    for node in _walk_runtime(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == PACKAGE:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    candidate = PACKAGE_DIR.joinpath(*parts)
    if candidate.with_suffix(".py").is_file():
        return candidate.with_suffix(".py")
    if (candidate / "__init__.py").is_file():
        return candidate / "__init__.py"
    return None  # an attribute imported from a module, not a module


@lru_cache(maxsize=None)
def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


def module_closure(script: str | Path, modules: tuple[str, ...] = ()) -> list[Path]:
    """Package files a script imports, transitively, including ``foldwise/__init__.py``.

    Args:
        script: a Python file (e.g. ``workflow_scripts/train.py``).
        modules: dotted names of ``foldwise`` modules the script imports by name at run time
            (a classic family's feature and head modules), followed like static imports.

    Returns:
        Sorted paths of the ``foldwise`` modules it depends on.
    """
    seen: set[Path] = set()
    todo = [_parse(Path(script))]

    def visit(name: str) -> None:
        if name == PLUMBING or name.startswith(PLUMBING + "."):
            return
        for mod in (".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)):
            path = _module_file(mod)
            if path is not None and path not in seen:
                seen.add(path)
                todo.append(_parse(path))

    for name in modules:
        visit(name)
    while todo:
        for name in _imported_modules(todo.pop()):
            visit(name)
    return sorted(seen)


@lru_cache(maxsize=None)
def code_version(script: str | Path, modules: tuple[str, ...] = ()) -> str:
    """SHA-256 over the syntax trees of the package modules ``script`` imports (and ``modules``'s closure).

    Changes to comments or formatting leave it unchanged; any change in code or
    docstrings changes it.
    """
    h = hashlib.sha256()
    for path in module_closure(script, modules):
        h.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        h.update(ast.dump(_parse(path), annotate_fields=False, include_attributes=False).encode())
    return h.hexdigest()


def git_commit(directory: str | Path = ".") -> str | None:
    """The checkout's commit (with ``-dirty`` when it has changes), or None outside git."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=directory, capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def package_versions(names=("foldwise", "torch", "timm", "numpy", "pandas", "scikit-learn", "pyarrow", "opencv-python-headless", "snakemake")) -> dict[str, str | None]:
    """Installed versions of the packages that shape results."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def run_manifest(settings: dict, device: str) -> dict:
    """Resolved config, package versions, git commit and device of a training run."""
    return {
        "settings": settings,
        "versions": package_versions(),
        "git_commit": git_commit(PACKAGE_DIR),
        "device": device,
        "platform": platform.platform(),
        "argv": sys.argv[:1],
    }
