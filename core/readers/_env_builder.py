"""One environment file's lines or document, gathered into an :class:`Environment` (python, OS, hardware, packages)."""

from __future__ import annotations

import re
from typing import Any

from ..records import Environment
from ._env_syntax import (
    _AT_URL,
    _BUILDISH,
    _BULLET,
    _CONDA_BUILD_PAIR,
    _CONDA_CHANNEL,
    _CONDA_EQ,
    _CUDA_PACKAGES,
    _DOTTED_VERSION,
    _EDITABLE_FLAG,
    _EGG,
    _FACT_KEYS,
    _HARDWARE_KEYS,
    _HARDWARE_LABELS,
    _HAS_DIGIT,
    _INLINE_COMMENT,
    _KEY_VALUE,
    _NAME_RE,
    _NAME_VERSION,
    _OPERATOR,
    _OS_KEYS,
    _OS_WORDS,
    _PACKAGE_KEYS,
    _PIP_LIST_HEADER,
    _PIP_OPTION,
    _PLATFORM_TOKEN,
    _PYTHON_KEYS,
    _PYTHON_NAMES,
    _REQUIREMENT,
    _RULE,
    _SPACED_AT,
    _SPECIAL_PACKAGES,
    _VERSION_LIKE,
    _WHEEL,
    UNKNOWN_VERSION,
    _canonical_name,
    _clean_version,
    _exact,
    _extra_key,
    _flat_text,
    _logical_lines,
    _norm_key,
    _pinned_package,
    _prefer,
    _python_version,
    _section_header,
    _section_kind,
    _spec_version,
)
from ._text import (
    Issue,
    clip,
    literal_scalar,
    unquote,
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
