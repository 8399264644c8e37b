"""The package's imports run one way (read from the source, nothing imported):

    core (the client)  <  toolkit  <  snapshot  <  mock  <  conformance  <  cli, pytest_plugin

Each layer imports only the layers below it, never a private module (``_name``) of another
subpackage, and nothing imports the CLI. The client core can be read and shipped without the
tools around it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wrapper" / "ls_model_providers"
#: Lowest first. The top-level modules are the core; the entry points sit on top.
LAYERS = ["core", "toolkit", "snapshot", "mock", "conformance", "cli", "entry"]
ENTRY_POINTS = {"__main__", "pytest_plugin"}


def _layer(parts: tuple[str, ...]) -> str:
    """The layer of a module, from its path inside the package (``("cli", "_get")``)."""
    if len(parts) == 1:
        return "entry" if parts[0] in ENTRY_POINTS else "core"
    return parts[0]


def _module_parts(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _targets(path: Path, source: str | None = None) -> list[tuple[str, ...]]:
    """Every module of the package the module at ``path`` imports (``from a import b``:
    ``a.b`` when ``b`` is a module, else ``a``), as parts inside the package. ``source``:
    read this text instead of the file's."""
    own = _module_parts(path)
    package = own if path.name == "__init__.py" else own[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
            found += [tuple(n[1:]) for n in names if n[0] == "ls_model_providers"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = (*base, *(node.module.split(".") if node.module else ()))
            elif node.module and node.module.split(".")[0] == "ls_model_providers":
                module = tuple(node.module.split(".")[1:])
            else:
                continue
            for alias in node.names:
                candidate = (*module, alias.name)
                is_module = (PACKAGE.joinpath(*candidate).with_suffix(".py")).exists() or (
                    PACKAGE.joinpath(*candidate).is_dir()
                )
                found.append(candidate if is_module else module)
    return [t for t in found if t]


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_layers_are_the_packages_folders() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == set(LAYERS) - {"core", "entry"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_downwards_only(path: Path) -> None:
    own = _layer(path.relative_to(PACKAGE).with_suffix("").parts)
    for target in _targets(path):
        theirs = _layer(target)
        assert LAYERS.index(theirs) <= LAYERS.index(own), (
            f"{path.relative_to(PACKAGE)} ({own}) imports {'.'.join(target)} ({theirs}), "
            "a layer above it"
        )
        assert theirs != "cli" or own in ("cli", "entry"), (
            "nothing but the entry points imports the CLI"
        )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_module_of_another_subpackage_is_imported(path: Path) -> None:
    where = path.relative_to(PACKAGE).parts
    own_package = where[0] if len(where) > 1 else None
    for target in _targets(path):
        other_package = len(target) > 1 and target[0] != own_package
        private = [p for p in target[1:] if p.startswith("_") and not p.startswith("__")]
        assert not (other_package and private), (
            f"{path.relative_to(PACKAGE)} imports {'.'.join(target)}: a private module of "
            "another subpackage (use its public names)"
        )


def test_the_checker_sees_a_wrong_way_import() -> None:
    """The checks above can fail: imports of the CLI and of a private module, written in a
    toolkit module, are seen as what they are."""
    source = "from ls_model_providers.cli import main\nfrom ..conformance import _run\n"
    targets = _targets(PACKAGE / "toolkit" / "exits.py", source)
    assert targets == [("cli",), ("conformance", "_run")]
