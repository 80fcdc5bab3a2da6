"""Reader for environment files: which Python, OS, hardware and package versions a run used.

Recognises free-form ``env.txt`` notes (``pip freeze`` / ``pip list`` / ``conda list``
output, ``name version`` and ``name: version`` lines, prose such as ``Python 3.10.12``
or ``GPU: 1x A100``), ``requirements.txt``, conda ``environment.yml`` and
``env.json`` / ``env.yaml`` mappings. :func:`parse_env` parses one file's text;
:func:`read_env` reads and merges all environment files of one run.
"""

from __future__ import annotations

from pathlib import Path

from ..records import Environment
from ..safeio import ReadContext, Unreadable, parse_json, parse_yaml
from ._env_builder import _EnvBuilder
from ._env_syntax import UNKNOWN_VERSION, _is_requirements_file, _prefer
from ._text import (
    Issue,
    as_path,
    name_suffix,
    remembered,
)

# The environment reader's API, defined here and in the modules above.
__all__ = [
    "ENV_FILE_NAMES",
    "UNKNOWN_VERSION",
    "merge_env",
    "parse_env",
    "read_env",
    "requirement",
]

ENV_FILE_NAMES: tuple[str, ...] = (
    "env.txt",
    "environment.txt",
    "env.json",
    "env.yaml",
    "env.yml",
    "environment.json",
    "environment.yml",
    "environment.yaml",
    "conda.yml",
    "conda.yaml",
    "versions.txt",
    "pip_freeze.txt",
    "pip-freeze.txt",
    "freeze.txt",
    "requirements.txt",
)
"""File names recognised as environment records, in a sensible order of preference for :func:`read_env`."""


def parse_env(text: str, name: str = "env.txt") -> tuple[Environment, list[Issue]]:
    """Parse one environment file's text (format chosen by ``name``) into an Environment plus problems."""
    if not text.strip():
        return Environment(), [("empty file", None)]
    env = _EnvBuilder()
    suffix = name_suffix(name)
    if suffix in (".json", ".yaml", ".yml"):
        try:
            doc = parse_json(text) if suffix == ".json" else parse_yaml(text)
        except Unreadable as exc:
            return Environment(), [(exc.message, exc.line)]
        if doc is None:
            return Environment(), [("empty document", None)]
        env.document(doc, text)
    else:
        env.text(text, requirements_like=_is_requirements_file(name))
    return env.build(), env.issues


def read_env(paths: list[Path], ctx: ReadContext) -> Environment:
    """Read and merge the environment files of one run (earlier files win); never raises."""
    merged: Environment | None = None
    for path in paths:
        path = as_path(path)
        text = ctx.read_text(path)
        if text is None:
            continue
        env, issues = _parse_env_shared(text, path.name)
        for message, line in issues:
            ctx.problem(path, message, line)
        # Merging into an empty Environment would only copy ``env``: skip that for the first file.
        merged = env if merged is None else merge_env(merged, env)
    return merged if merged is not None else Environment()


_parse_env_shared = remembered(parse_env, entries=32, longest=256 * 1024)
""":func:`parse_env`, remembered: runs made on one machine share their pip freeze word for word."""


def merge_env(first: Environment, second: Environment) -> Environment:
    """Combine two Environments of one run: first wins, but an exact version beats a range or unknown."""
    packages = dict(first.packages)
    for name, version in second.packages.items():
        packages[name] = _prefer(packages.get(name), version)
    hardware = list(first.hardware) + [h for h in second.hardware if h not in first.hardware]
    extra = {**second.extra, **first.extra}
    return Environment(
        python=first.python or second.python,
        os=first.os or second.os,
        hardware=tuple(hardware),
        packages=packages,
        extra=extra,
    )


def requirement(name: str, version: str) -> str:
    """A package as a requirement line shows it: ``numpy==1.26.4``, but ``scipy>=1.10`` keeps its own specifier."""
    return f"{name}{version}" if version[:1] in "<>=!~" else f"{name}=={version}"
