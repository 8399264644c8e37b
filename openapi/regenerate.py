"""Regenerate ``generated/ls_model_providers_api`` from this folder, or check it is fresh.

Usage (nox runs these; see ``nox -s generate`` and ``nox -s generated_fresh``)::

    python openapi/regenerate.py            # rewrite generated/ from the fragment
    python openapi/regenerate.py --check    # exit 1, naming each file, if generated/ differs

The generator's options all come from ``openapi/config.yaml`` (CLI-only flags under
``x-cli``). Generation always happens in a temporary directory first, so a failed run never
leaves a half-written package, and the check compares exactly what ``generate`` would write.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGE = "ls_model_providers_api"
TARGET = ROOT / "generated" / PACKAGE
CONFIG = HERE / "config.yaml"


def generate_into(out_dir: Path) -> Path:
    """Run the generator with the committed options; return the package directory."""
    cli = YAML(typ="safe").load(CONFIG)["x-cli"]
    package_dir = out_dir / PACKAGE
    cmd = [
        sys.executable, "-m", "openapi_python_client", "generate",
        "--path", str(HERE / cli["spec"]),
        "--config", str(CONFIG),
        "--meta", cli["meta"],
        "--custom-template-path", str(HERE / cli["custom-template-path"]),
        "--output-path", str(package_dir),
        "--overwrite",
        "--fail-on-warning" if cli["fail-on-warning"] else "--no-fail-on-warning",
    ]  # fmt: skip
    # The post hooks call `ruff`: make it this interpreter's ruff, never another one.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    if shutil.which("ruff", path=env["PATH"]) is None:
        sys.exit("ruff is not installed next to this Python: the generator would skip formatting")
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"openapi-python-client failed:\n{result.stdout}{result.stderr}")
    # --meta none writes no py.typed; the package ships typed models.
    (package_dir / "py.typed").write_text("")
    return package_dir


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def differences(expected_dir: Path, actual_dir: Path) -> list[str]:
    """Human-readable differences between a fresh generation and ``generated/``."""
    expected, actual = _files(expected_dir), _files(actual_dir)
    report: list[str] = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            report.append(f"missing from generated/: {name}")
        elif name not in expected:
            report.append(f"not produced by the generator (hand-added?): {name}")
        elif expected[name] != actual[name]:
            diff = difflib.unified_diff(
                expected[name].decode(errors="replace").splitlines(),
                actual[name].decode(errors="replace").splitlines(),
                f"fresh/{name}",
                f"generated/{PACKAGE}/{name}",
                lineterm="",
                n=1,
            )
            report.append(f"differs: {name}\n" + "\n".join(list(diff)[:40]))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--target", type=Path, default=TARGET, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ls-gen-") as tmp:
        fresh = generate_into(Path(tmp))
        if args.check:
            report = differences(fresh, args.target)
            if report:
                print(
                    f"{args.target} is not what openapi/ generates (a hand edit, or a spec "
                    "change without regeneration). Run `nox -s generate` and commit.",
                    file=sys.stderr,
                )
                print("\n".join(report), file=sys.stderr)
                return 1
            print(f"{args.target} is fresh ({len(_files(fresh))} files)")
            return 0
        shutil.rmtree(args.target, ignore_errors=True)
        shutil.copytree(fresh, args.target)
        print(f"regenerated {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
