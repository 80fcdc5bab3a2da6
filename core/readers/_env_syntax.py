"""The text of environment files: patterns, key vocabularies, and small parsers of names, versions, sections and lines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any

from packaging.utils import canonicalize_name

from ._text import (
    literal_scalar,
)

UNKNOWN_VERSION = ""
"""Version recorded for a package whose version the file does not give (``pkg @ url``, bare names)."""

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"

_OP = r"(?:===|==|~=|!=|>=|<=|>|<)"

_REQUIREMENT = re.compile(
    rf"(?P<name>{_NAME})(?:\s*\[[^\]]*\])?"
    rf"(?:\s*(?P<spec>{_OP}\s*[^;,\s]+(?:\s*,\s*{_OP}\s*[^;,\s]+)*))?"
    r"(?:\s*;.*)?\s*"
)

_AT_URL = re.compile(rf"(?P<name>{_NAME})\s*(?:\[[^\]]*\]\s*)?@\s*\S.*")

_EGG = re.compile(r"#egg=(?P<name>[A-Za-z0-9._-]+)")

_WHEEL = re.compile(r"(?:.*/)?(?P<name>[A-Za-z0-9_.]+)-(?P<ver>\d[^-/]*)-[^-/]+-[^-/]+-[^-/]+\.whl")

_CONDA_EQ = re.compile(rf"(?P<name>{_NAME})\s*=\s*(?P<ver>[^=\s]+)(?:\s*=\s*(?P<build>\S+))?")

_NAME_VERSION = re.compile(rf"(?P<name>{_NAME})\s+[vV]?(?P<ver>\d[\w.+!*-]*)(?P<rest>(?:\s+.*)?)")

_KEY_VALUE = re.compile(r"(?P<key>[A-Za-z][\w .()/-]{0,60}?)\s*(?::(?!//)|=)\s*(?P<value>.*)")

_VERSION_LIKE = re.compile(r"[vV]?\d[\w.+!*-]*")

_DOTTED_VERSION = re.compile(r"[vV]?\d+\.\d[\w.+!*-]*")

_PY_VERSION = re.compile(r"\d+(?:\.\d+)+(?:(?:a|b|rc)\d+)?\+?")

_BUILDISH = re.compile(r"[\w.+-]*\d[\w.+-]*|conda-forge|defaults|pypi|pytorch|nvidia|bioconda|<pip>|\(.*\)")

_PLATFORM_TOKEN = re.compile(r"(?i)(?:linux|darwin|macos|windows)-\S+")

_RULE = re.compile(r"[-=_*~+|:\s]{3,}")

_INLINE_COMMENT = re.compile(r"(?<!\s)\s+#.*$")

_PIP_OPTION = re.compile(r"(?<!\s)\s+--[\w-]+(?:[= ]\S+)?")

_OPERATOR = re.compile(r"[=<>~!]=")

_PIP_LIST_HEADER = re.compile(r"(?i)(?:package|name)\s+version(?:\s+.*)?")

_BULLET = re.compile(r"[-*\u2022]\s+")

_NAME_RE = re.compile(_NAME)

_HAS_DIGIT = re.compile(r"\d")

_SPACED_AT = re.compile(r"\s@\s")

_CONDA_BUILD_PAIR = re.compile(r"[^=\s]+=\S+")

_CONDA_CHANNEL = re.compile(r"^[\w.-]+::")

_EDITABLE_FLAG = re.compile(r"^(?:-e|--editable)\s*=?\s*")

_SECTION_HEADERS = (
    re.compile(r"\[\s*(.+?)\s*\]"),
    re.compile(r"[=#*-]{2,}\s*(.+?)\s*[=#*-]{2,}"),
    re.compile(r"([A-Za-z][\w./()-]*(?:\s+[\w./()-]+)*)\s*:"),
)

_SECTION_HEADER_ENDS = ("]", ":", "=", "#", "*", "-")
"""Last characters a line matching one of ``_SECTION_HEADERS`` can have."""

_SPACES = re.compile(r"\s+")

_EXACT_SPEC = re.compile(r"===?([^,<>=!~]+)")

_V_PREFIXED = re.compile(r"[vV]\d.*")

_VERSION_SUFFIX = re.compile(r"\.?__version__$")

# The common ``pip freeze`` line ``name==version``, which the general line machinery in
# :meth:`_EnvBuilder.text` reads as exactly ``add_package(name, version)``. Only characters that
# none of the earlier line shapes react to are allowed: no whitespace (comments, options, prose),
# no ``#@[]:/;,`` (eggs, URLs, extras, headers, markers), no ``-`` or ``!*<>~=`` in the version
# (wheel file names, epochs and wildcards, which ``_spec_version`` keeps as written). A name
# ending in ``.whl`` is still left to the general path (wheel file names).
_PINNED = re.compile(rf"(?P<name>{_NAME})==(?P<ver>[A-Za-z0-9._+]+)")

_PYTHON_KEYS = frozenset(
    ["python", "python3", "py", "cpython", "python interpreter", "interpreter", "python implementation"]
)

_OS_KEYS = frozenset(["os", "platform", "system", "operating system", "distro", "distribution", "os name", "uname"])

_HARDWARE_KEYS = frozenset(
    ["hardware", "gpu", "gpus", "cpu", "cpus", "tpu", "tpus", "ram", "memory", "vram", "accelerator",
     "accelerators", "device", "devices", "machine", "instance", "instance type", "gpu model", "gpu count",
     "num gpus", "cores", "cpu cores"]
)

_HARDWARE_LABELS = {"gpu": "GPU", "gpus": "GPU", "cpu": "CPU", "cpus": "CPU", "tpu": "TPU", "tpus": "TPU",
                    "ram": "RAM", "vram": "VRAM"}

_FACT_KEYS = frozenset(
    ["cuda", "cudnn", "nccl", "driver", "nvidia driver", "cuda driver", "gpu driver", "kernel", "glibc", "libc",
     "gcc", "clang", "compiler", "nvcc", "rocm", "hip", "conda", "docker", "mamba", "cuda available", "mps"]
)

_OS_WORDS = frozenset(
    ["ubuntu", "debian", "centos", "rhel", "fedora", "rocky", "almalinux", "alpine", "macos", "osx", "darwin",
     "windows", "linux", "opensuse", "sles", "nixos", "amzn", "amazon"]
)

_PACKAGE_KEYS = frozenset(
    ["packages", "package", "libraries", "libs", "library versions", "dependencies", "deps", "pip", "pip packages",
     "python packages", "requirements", "installed packages", "installed", "versions", "modules", "conda",
     "conda packages", "pip freeze", "frameworks"]
)

_PACKAGE_SECTION_WORDS = ("package", "librar", "depend", "pip", "requirement", "module", "freeze", "conda", "version")

_HARDWARE_SECTION_WORDS = ("hardware", "gpu", "cpu", "device", "machine", "accelerator")

_PYTHON_NAMES = frozenset(["python", "python3", "cpython"])

_CUDA_PACKAGES = frozenset(["cudatoolkit", "cuda-version", "cuda-toolkit"])

_SPECIAL_PACKAGES = _PYTHON_NAMES | _CUDA_PACKAGES
"""Canonical names :meth:`_EnvBuilder._store_package` does more with than record a version."""


# -- helpers ----------------------------------------------------------------------------
def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with their numbers, joining backslash continuations (``pkg==1 \\`` + ``--hash=...``)."""
    if "\\" not in text:  # no continuations: every line stands alone
        return enumerate(text.splitlines(), start=1)
    return _joined_lines(text)


def _joined_lines(text: str) -> Iterator[tuple[int, str]]:
    """:func:`_logical_lines` for a text with backslashes."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def _section_header(s: str) -> str | None:
    """Name of a section header line (``[packages]``, ``packages:``, ``=== GPU ===``), or None."""
    if s[-1:] not in _SECTION_HEADER_ENDS:
        return None  # every header shape ends with one of these
    for pattern in _SECTION_HEADERS:
        m = pattern.fullmatch(s)
        if m:
            return m.group(1)
    return None


def _section_kind(name: str) -> str:
    """Classify a section header as packages, hardware or other, which decides how its lines are read."""
    low = name.lower()
    if any(word in low for word in _PACKAGE_SECTION_WORDS):
        return "packages"
    if any(word in low for word in _HARDWARE_SECTION_WORDS):
        return "hardware"
    return "other"


@lru_cache(maxsize=256)
def _is_requirements_file(name: str) -> bool:
    """True for pip-format files, where a bare name is a package with unknown version."""
    low = PurePosixPath(name).name.lower()
    return "requirement" in low or "freeze" in low or "constraint" in low


def _norm_key(key: str) -> str:
    """Lower-case a key, unify separators and drop a trailing ``version`` (``Torch version`` -> ``torch``)."""
    key = _VERSION_SUFFIX.sub("", key.strip())
    key = " ".join(key.lower().replace("_", " ").replace("-", " ").split())
    for suffix in (" version", " ver"):
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    return key


def _extra_key(key: str) -> str:
    """Key under which a fact is stored in ``extra`` (``Driver Version`` -> ``driver``)."""
    return _norm_key(key).replace(" ", "_")


def _spec_version(spec: str) -> str:
    """``==1.2`` -> ``1.2``; any other specifier is kept as given (without spaces)."""
    spec = _SPACES.sub("", spec)
    m = _EXACT_SPEC.fullmatch(spec)
    return m.group(1) if m and "*" not in spec else spec


def _clean_version(version: str | None) -> str:
    """Normalise a version string: None -> unknown, ``v2.1`` -> ``2.1``, so runs compare equal."""
    if version is None:
        return UNKNOWN_VERSION
    version = str(version).strip()
    if version[:1] in ("v", "V") and _V_PREFIXED.fullmatch(version):
        version = version[1:]
    return version


@lru_cache(maxsize=4096)
def _canonical_name(name: str) -> str:
    """``packaging``'s canonical package name, cached: the same few hundred names recur in every run."""
    return canonicalize_name(name)


@lru_cache(maxsize=8192)
def _pinned_package(line: str) -> tuple[str, str] | None:
    """(canonical name, clean version) of a ``name==version`` line (see ``_PINNED``), else None.

    Cached because runs of one project share most of their ``pip freeze`` lines.
    Gives what :meth:`_EnvBuilder.add_package` would store for the line.
    """
    m = _PINNED.fullmatch(line)
    if m is None or line.endswith(".whl"):
        return None
    return _canonical_name(m["name"]), _clean_version(m["ver"])


def _exact(version: str | None) -> bool:
    """True for a pinned version, False for a range, wildcard or unknown."""
    if not version:
        return False
    return version[0] not in "<>=!~" and "*" not in version


def _prefer(old: str | None, new: str) -> str:
    """Keep the first version, unless the later one is exact and the first was not."""
    if old is None or (not _exact(old) and _exact(new)) or (old == UNKNOWN_VERSION and new):
        return new
    return old


def _python_version(value: str) -> str:
    """The version number in a python description (``3.10.12 (main, ...)`` -> ``3.10.12``)."""
    value = str(value).strip()
    if not value or value[0] in "<>=!~":
        return value
    m = _PY_VERSION.search(value)
    return m.group(0) if m else value


def _flat_text(value: Any, key: Any, text: str) -> str:
    """Any value as one line of text: scalars as written, lists joined, mappings as JSON."""
    if isinstance(value, list):
        return ", ".join(_flat_text(v, key, text) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)
    return literal_scalar(value, key, text)
