"""Reader for environment files: which Python, OS, hardware and package versions a run used.

Recognises free-form ``env.txt`` notes (``pip freeze`` / ``pip list`` / ``conda list``
output, ``name version`` and ``name: version`` lines, prose such as ``Python 3.10.12``
or ``GPU: 1x A100``), ``requirements.txt``, conda ``environment.yml`` and
``env.json`` / ``env.yaml`` mappings. :func:`parse_env` parses one file's text;
:func:`read_env` reads and merges all environment files of one run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.utils import canonicalize_name

from ..records import Environment
from ..safeio import ReadContext, Unreadable, parse_json, parse_yaml
from ._text import (
    Issue,
    as_path,
    clip,
    literal_scalar,
    name_suffix,
    remembered,
    unquote,
)

"""A problem found while parsing: message and 1-based line number (None when unknown)."""

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


class _EnvBuilder:
    """Mutable accumulator for one file; turned into a frozen Environment by :meth:`build`."""

    def __init__(self) -> None:
        """Start with nothing known."""
        self.python: str | None = None
        self.os: str | None = None
        self.hardware: list[str] = []
        self.packages: dict[str, str] = {}
        self.extra: dict[str, str] = {}
        self.issues: list[Issue] = []

    def build(self) -> Environment:
        """Freeze what was collected."""
        return Environment(self.python, self.os, tuple(self.hardware), dict(self.packages), dict(self.extra))

    # -- facts ------------------------------------------------------------------------
    def set_python(self, value: str) -> None:
        """Record the Python version; the first one found wins."""
        version = _python_version(value)
        if version and not _HAS_DIGIT.search(version):  # "CPython", "/usr/bin/python": not a version
            self.extra.setdefault("python", version)
        elif version and self.python is None:
            self.python = version

    def set_os(self, key: str, value: str) -> None:
        """Record the OS; a second, different description is kept in ``extra`` rather than dropped."""
        value = value.strip()
        if not value:
            return
        if self.os is None:
            self.os = value
        elif value != self.os:  # e.g. both "OS: Ubuntu 22.04" and "platform: Linux-5.15..."
            self.extra.setdefault(_extra_key(key), value)

    def add_hardware(self, key: str, value: str) -> None:
        """Add a hardware note labelled by its key (``GPU: 1x A100``), once."""
        value = value.strip()
        if not value:
            return
        note = value if key == "hardware" else f"{_HARDWARE_LABELS.get(key, key.capitalize())}: {value}"
        if note not in self.hardware:
            self.hardware.append(note)

    def set_extra(self, key: str, value: str) -> None:
        """Record another fact; the first value for a key wins."""
        self.extra.setdefault(_extra_key(key), value.strip())

    def add_package(self, name: str, version: str | None, line: int | None = None) -> None:
        """Record a package under its canonical name; ``python`` goes to the interpreter field instead."""
        if not _NAME_RE.fullmatch(name):
            self.issues.append((f"{name!r} is not a valid package name", line))
            return
        self._store_package(_canonical_name(name), _clean_version(version))

    def _store_package(self, canon: str, version: str) -> None:
        """Record a cleaned version under a canonical name (see :meth:`add_package`)."""
        if canon in _PYTHON_NAMES:
            if version:
                self.set_python(version)
            return
        if canon in _CUDA_PACKAGES and _exact(version):
            self.extra.setdefault("cuda", version)
        old = self.packages.get(canon)
        self.packages[canon] = version if old is None else _prefer(old, version)

    # -- free-form text -------------------------------------------------------------
    def text(self, text: str, *, requirements_like: bool) -> None:
        """Parse env.txt / requirements.txt style lines."""
        section: str | None = "packages" if requirements_like else None
        unknown: list[tuple[int, str]] = []
        for number, raw in _logical_lines(text):
            s = raw.strip()
            pinned = _pinned_package(s)
            if pinned is not None:  # fast path for pip freeze lines
                canon, version = pinned
                if canon in self.packages or canon in _SPECIAL_PACKAGES:
                    self._store_package(canon, version)
                else:  # a package's first version: all that _store_package would do
                    self.packages[canon] = version
                continue
            if not s or s.startswith(("#", "//", ";")):
                continue
            s = _PIP_OPTION.sub("", _INLINE_COMMENT.sub("", s)).strip()  # drop "# note", "--hash=..."
            if not s or _RULE.fullmatch(s):
                continue
            header = _section_header(s)
            if header is not None:
                section = _section_kind(header)
                continue
            bullet = _BULLET.match(s)
            if bullet:
                s = s[bullet.end():].strip()
            if s.startswith("-"):
                if s.startswith(("-e ", "-e=", "--editable")):
                    self._editable(s, number)
                continue  # other pip options (-r, -c, --index-url ...) carry no versions
            if _PIP_LIST_HEADER.fullmatch(s):
                continue
            if self._line(s, number, section, requirements_like):
                continue
            if _OPERATOR.search(s) or _SPACED_AT.search(s):
                self.issues.append((f"cannot read package line {clip(s)!r}", number))
                continue
            unknown.append((number, s))
        if unknown:
            number, s = unknown[0]
            self.issues.append(
                (f"{len(unknown)} line(s) not understood (first at line {number}: {clip(s)!r})", number)
            )

    def _line(self, s: str, number: int, section: str | None, requirements_like: bool) -> bool:
        """Try each line shape in turn; True when the line was understood."""
        # Each shape is tried only when the text it needs is there ("#egg=", ".whl", "@").
        egg = _EGG.search(s) if "#egg=" in s else None
        if egg:
            self.add_package(egg["name"], UNKNOWN_VERSION, number)
            return True
        wheel = _WHEEL.fullmatch(s) if s.endswith(".whl") else None
        if wheel:
            self.add_package(wheel["name"], wheel["ver"], number)
            return True
        at = _AT_URL.fullmatch(s) if "@" in s else None
        if at:
            self.add_package(at["name"], UNKNOWN_VERSION, number)
            return True
        req = _REQUIREMENT.fullmatch(s)
        if req and req["spec"]:
            self.add_package(req["name"], _spec_version(req["spec"]), number)
            return True
        if _OPERATOR.search(s):
            return False  # looks like a requirement but is malformed: reported by the caller
        nv = _NAME_VERSION.fullmatch(s)
        if nv and self._name_version(s, nv, number, section):
            return True
        kv = _KEY_VALUE.fullmatch(s)
        if kv and kv["value"].strip():
            self._fact(kv["key"], kv["value"], number, section)
            return True
        if _PLATFORM_TOKEN.fullmatch(s):
            self.set_os("platform", s)
            return True
        if section == "hardware":
            self.add_hardware("hardware", s)
            return True
        if req and (requirements_like or section == "packages"):
            self.add_package(req["name"], UNKNOWN_VERSION, number)
            return True
        return False

    def _name_version(self, s: str, m: re.Match[str], number: int, section: str | None) -> bool:
        """``name version [build channel]`` lines, including prose like ``Python 3.10.12``."""
        key = _norm_key(m["name"])
        if key in _PYTHON_KEYS:
            self.set_python(m["ver"] + m["rest"])
            return True
        if key in _FACT_KEYS:
            self.set_extra(key, m["ver"])
            return True
        if key in _OS_WORDS:
            self.set_os("os", s)
            return True
        if key in _HARDWARE_KEYS:
            self.add_hardware(key, s[len(m["name"]):])
            return True
        rest = m["rest"].split()
        if len(rest) > 2 or not all(_BUILDISH.fullmatch(t) for t in rest):
            return False
        if section != "packages" and not _DOTTED_VERSION.fullmatch(m["ver"]):
            return False  # "Epochs 30" is more likely prose than a package
        if section in ("other", "hardware"):
            self.set_extra(key, m["ver"])
        else:
            self.add_package(m["name"], m["ver"], number)
        return True

    def _fact(self, key: str, value: str, number: int, section: str | None) -> None:
        """A ``key: value`` / ``key = value`` line."""
        k = _norm_key(key)
        v = unquote(value.strip())
        if k in _PYTHON_KEYS:
            self.set_python(v)
        elif k in _OS_KEYS:
            self.set_os(k, v)
        elif k in _HARDWARE_KEYS or section == "hardware":
            self.add_hardware(k, v)
        elif k in _FACT_KEYS:
            self.set_extra(k, v)
        else:
            candidate = v.split("=")[0].strip() if _CONDA_BUILD_PAIR.fullmatch(v) else v  # conda name=ver=build
            name = k.replace(" ", "-")
            pattern = _VERSION_LIKE if section == "packages" else _DOTTED_VERSION
            if section != "other" and _NAME_RE.fullmatch(name) and pattern.fullmatch(candidate):
                self.add_package(name, candidate, number)
            else:
                self.set_extra(k, v)

    def _editable(self, s: str, number: int | None) -> None:
        """``-e git+https://...#egg=name`` or ``-e ./path/to/pkg``: version unknown."""
        egg = _EGG.search(s)
        if egg:
            self.add_package(egg["name"], UNKNOWN_VERSION, number)
            return
        target = _EDITABLE_FLAG.sub("", s).strip()
        last = target.rstrip("/").rsplit("/", 1)[-1].split("@")[0].removesuffix(".git")
        if last and last != "." and _NAME_RE.fullmatch(last):
            self.add_package(last, UNKNOWN_VERSION, number)
        else:
            self.issues.append((f"editable install without a package name: {clip(s)!r}", number))

    # -- JSON / YAML ----------------------------------------------------------------
    def document(self, doc: Any, text: str, prefix: str = "", depth: int = 0) -> None:
        """Read an env.json / env.yaml / conda environment.yml document."""
        if isinstance(doc, list):
            self.package_list(doc, text)
            return
        if not isinstance(doc, dict):
            self.issues.append((f"expected a mapping of environment facts, found {type(doc).__name__}", None))
            return
        for key, value in doc.items():
            k = _norm_key(str(key))
            if k in _PYTHON_KEYS and not isinstance(value, (dict, list)):
                self.set_python(literal_scalar(value, key, text))
            elif k in _OS_KEYS:
                self.set_os(k, _flat_text(value, key, text))
            elif k in _HARDWARE_KEYS:
                self._structured_hardware(k, value, key, text)
            elif k in _PACKAGE_KEYS and (isinstance(value, (dict, list)) or "\n" in str(value)):
                self.package_list(value, text)
            elif k in _FACT_KEYS and not isinstance(value, (dict, list)):
                self.set_extra(k, literal_scalar(value, key, text))
            elif isinstance(value, dict) and depth < 4:
                self.document(value, text, prefix=f"{prefix}{_extra_key(k)}.", depth=depth + 1)
            else:
                self.extra.setdefault(prefix + _extra_key(k), _flat_text(value, key, text))

    def _structured_hardware(self, k: str, value: Any, key: Any, text: str) -> None:
        """Hardware given as a string, a list or a mapping of gpu/cpu/... in a JSON/YAML file."""
        if isinstance(value, dict):
            for sub, item in value.items():
                sk = _norm_key(str(sub))
                self.add_hardware(sk, _flat_text(item, sub, text))
        elif isinstance(value, list) and k == "hardware":
            for item in value:
                self.add_hardware("hardware", _flat_text(item, key, text))
        else:
            self.add_hardware(k, _flat_text(value, key, text))

    def package_list(self, value: Any, text: str) -> None:
        """Packages given as a mapping, a list of specs / {name, version} items, or a multi-line string."""
        if isinstance(value, dict):
            for name, version in value.items():
                if isinstance(version, (list, dict)) and _norm_key(str(name)) in _PACKAGE_KEYS:
                    self.package_list(version, text)  # e.g. {"pip": [...], "conda": [...]}
                elif isinstance(version, dict):
                    self.add_package(str(name), _flat_text(version.get("version", ""), "version", text))
                elif isinstance(version, list):
                    self.issues.append((f"package {name!r} has a list where a version was expected", None))
                else:
                    self.add_package(str(name), literal_scalar(version, name, text))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    self._spec(item)
                elif isinstance(item, dict) and "name" in item:
                    self.add_package(str(item["name"]), _flat_text(item.get("version", ""), "version", text))
                elif isinstance(item, dict):
                    self.package_list(item, text)  # conda's nested {"pip": [...]}
                else:
                    self.issues.append((f"package entry {item!r} not understood", None))
        elif isinstance(value, str):
            for line in value.splitlines():
                if line.strip():
                    self._spec(line)
        elif value is not None:
            self.issues.append((f"packages given as {type(value).__name__}, not a list or mapping", None))

    def _spec(self, item: str) -> None:
        """One package entry of a structured file: pip or conda syntax."""
        s = _INLINE_COMMENT.sub("", item).strip()
        s = _CONDA_CHANNEL.sub("", s)  # conda channel prefix
        if not s:
            return
        if s.startswith(("-e ", "--editable")):
            self._editable(s, None)
            return
        egg = _EGG.search(s)
        at = _AT_URL.fullmatch(s)
        req = _REQUIREMENT.fullmatch(s)
        conda = _CONDA_EQ.fullmatch(s)
        nv = _NAME_VERSION.fullmatch(s)
        if egg:
            self.add_package(egg["name"], UNKNOWN_VERSION)
        elif at:
            self.add_package(at["name"], UNKNOWN_VERSION)
        elif req and req["spec"]:
            self.add_package(req["name"], _spec_version(req["spec"]))
        elif conda:
            self.add_package(conda["name"], conda["ver"])
        elif nv and len(nv["rest"].split()) <= 2:
            self.add_package(nv["name"], nv["ver"])
        elif req:
            self.add_package(req["name"], UNKNOWN_VERSION)
        else:
            self.issues.append((f"package entry {clip(s)!r} not understood", None))


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


def requirement(name: str, version: str) -> str:
    """A package as a requirement line shows it: ``numpy==1.26.4``, but ``scipy>=1.10`` keeps its own specifier."""
    return f"{name}{version}" if version[:1] in "<>=!~" else f"{name}=={version}"
