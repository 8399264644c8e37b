"""spec-diff against a schema the size of Label Studio's full API schema (~46,000 lines of YAML).

    python benchmarks/specdiff.py [--lines 46000] [--repeats 5]

Generates a synthetic OpenAPI document shaped like drf-spectacular's output (paths with
parameters and responses, component schemas with nullable, enum, format and maxLength
properties, ``$ref``s between them) that also holds the fragment's endpoint with one new
provider, writes it as YAML and as JSON, and prints the wall time of the whole command
(``python -m ls_model_providers spec-diff --against FILE``, a fresh process each time) and
where the time goes in-process. Timings are medians; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ls_model_providers._spec import load_spec
from ls_model_providers.toolkit import drift
from ls_model_providers.toolkit import schemas as sd


def _schema(i: int, count: int) -> dict[str, Any]:
    """One component schema: a dozen properties like Label Studio's serializers have."""
    other = f"#/components/schemas/Model{(i * 7 + 1) % count}"
    return {
        "type": "object",
        "description": f"A ModelSerializer for model number {i}, with its fields and relations.",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            "title": {"type": "string", "maxLength": 1000, "description": "Title of the object"},
            "description": {"type": "string", "nullable": True, "description": "Free text"},
            "created_at": {"type": "string", "format": "date-time", "readOnly": True},
            "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
            "created_by": {"allOf": [{"$ref": other}], "readOnly": True},
            "status": {
                "oneOf": [
                    {"$ref": "#/components/schemas/StatusEnum"},
                    {"$ref": "#/components/schemas/NullEnum"},
                ],
                "nullable": True,
            },
            "is_published": {"type": "boolean", "description": "Whether it is published"},
            "ratio": {"type": "number", "format": "double", "nullable": True},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 64}},
            "config": {"type": "object", "additionalProperties": {}},
            "organization": {"type": "integer", "nullable": True},
        },
        "required": ["id", "title", "created_at", "updated_at", "created_by"],
    }


def _operation(i: int, verb: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/Model{i}"}
    return {
        "operationId": f"api_model{i}_{verb}",
        "description": f"{verb.title()} a model {i} object. The token must be passed as a header.",
        "tags": [f"Model {i % 40}"],
        "security": [{"Token": []}],
        "responses": {
            "200": {"content": {"application/json": {"schema": ref}}, "description": ""},
            "404": {"description": "Not found"},
        },
    }


def synthetic(lines: int) -> dict[str, Any]:
    """An OpenAPI document of about ``lines`` lines of YAML holding our endpoint too."""
    count = max(1, lines // 129)  # measured: a schema and its path are ~129 YAML lines
    spec = load_spec()
    spec["components"]["schemas"]["ProviderEnum"]["enum"].append("Mistral")
    spec["components"]["schemas"]["StatusEnum"] = {"type": "string", "enum": ["a", "b", "c"]}
    for i in range(count):
        spec["components"]["schemas"][f"Model{i}"] = _schema(i, count)
        spec["paths"][f"/api/model{i}/{{id}}/"] = {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            **{verb: _operation(i, verb) for verb in ("get", "put", "patch", "delete")},
        }
    return spec


def _median(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=46_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    spec = synthetic(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        as_yaml, as_json = Path(tmp) / "schema.yaml", Path(tmp) / "schema.json"
        as_yaml.write_text(yaml.safe_dump(spec, sort_keys=False, width=120))
        as_json.write_text(json.dumps(spec))
        yaml_bytes, json_bytes = as_yaml.read_bytes(), as_json.read_bytes()
        lines, megabytes = yaml_bytes.count(b"\n"), (len(yaml_bytes) / 1e6, len(json_bytes) / 1e6)
        print(
            f"schema: {lines:,} lines of YAML ({megabytes[0]:.1f} MB), {megabytes[1]:.1f} MB of JSON"
        )
        for name, path in (("YAML", as_yaml), ("JSON", as_json)):
            command = [
                sys.executable,
                "-m",
                "ls_model_providers",
                "spec-diff",
                "--against",
                str(path),
            ]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 1:  # the new provider is the one breaking change
                sys.exit(f"unexpected result {result.returncode}: {result.stdout}{result.stderr}")
            fresh_process = functools.partial(
                subprocess.run, command, capture_output=True, check=False
            )
            wall = _median(fresh_process, args.repeats)
            print(f"spec-diff --against {name} file, whole process: {wall:.2f} s")
        theirs = sd.load_document(yaml_bytes)
        ours = load_spec()
        rows = [
            ("load YAML with libyaml (yaml.CSafeLoader)", lambda: sd.load_document(yaml_bytes)),
            (
                "load YAML with pure-Python yaml.SafeLoader",
                lambda: yaml.load(yaml_bytes, Loader=yaml.SafeLoader),
            ),
            ("load JSON (json)", lambda: sd.load_document(json_bytes)),
            ("compare (resolve both bodies, diff)", lambda: drift.compare_documents(ours, theirs)),
        ]
        for label, run in rows:
            print(f"  {label}: {_median(run, args.repeats) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
