"""Tests for the lenient text readers: code_commit.txt, environment files, seeds and data snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runsift.core.readers.code import CODE_FILE_NAMES, parse_code, read_code
from runsift.core.readers.data import (
    DATA_FILE_NAMES,
    parse_data,
    read_data,
    split_name_version,
)
from runsift.core.readers.env import (
    ENV_FILE_NAMES,
    UNKNOWN_VERSION,
    merge_env,
    parse_env,
    read_env,
)
from runsift.core.readers.seeds import SEED_FILE_NAMES, parse_seeds, read_seeds
from runsift.core.records import CodeState, DataSnapshot, Environment
from runsift.core.safeio import ReadContext


def write(path: Path, content: str | bytes) -> Path:
    """Create ``path`` (and its folders) holding ``content``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def messages(issues: list[tuple[str, int | None]]) -> str:
    """Join issue messages, for compact assertions."""
    return " | ".join(message for message, _ in issues)


# =====================================================================================
# code_commit.txt
# =====================================================================================
SHORT = "1a2b3c4"
FULL = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"


@pytest.mark.parametrize("text", [SHORT, f"{SHORT}\n", f"  {SHORT}  \n", f"# written by train.py\n{SHORT}\n"])
def test_code_bare_short_hash(text: str) -> None:
    state, issues = parse_code(text)
    assert state == CodeState(commit=SHORT, dirty=None)
    assert issues == []


def test_code_full_hash_is_lowercased() -> None:
    state, issues = parse_code(FULL.upper())
    assert state.commit == FULL
    assert state.dirty is None and issues == []


@pytest.mark.parametrize(
    "text",
    [f"{SHORT} dirty", f"{SHORT}-dirty", f"{SHORT} (dirty)", f"{SHORT}\ndirty: true", f"{SHORT}\ndirty=yes",
     f"{SHORT}\nmodified: true", f"{SHORT}\n(dirty)"],
)
def test_code_dirty_markers(text: str) -> None:
    state, issues = parse_code(text)
    assert state.commit == SHORT
    assert state.dirty is True
    assert state.changed_files == ()
    assert issues == []


@pytest.mark.parametrize(
    "text", [f"{SHORT} clean", f"{SHORT}\ndirty: false", f"{SHORT}\nclean", f"commit={SHORT}\ndirty=false",
             f"{SHORT}\nnothing to commit, working tree clean", f"{SHORT}\nlocal changes: none"]
)
def test_code_clean_markers(text: str) -> None:
    state, issues = parse_code(text)
    assert state.commit == SHORT
    assert state.dirty is False
    assert issues == []


def test_code_key_value_lines_keep_extras() -> None:
    text = f"commit: {FULL}\nbranch: feature/cosine\ntag: v1.4.0\nmessage: fix lr: use cosine\nauthor: ana\n"
    state, issues = parse_code(text)
    assert state.commit == FULL
    assert state.dirty is None
    assert state.extra == {"branch": "feature/cosine", "tag": "v1.4.0", "message": "fix lr: use cosine", "author": "ana"}
    assert issues == []


def test_code_equals_key_value_and_dirty_in_value() -> None:
    state, issues = parse_code(f"commit={SHORT}-dirty\nbranch=main\n")
    assert (state.commit, state.dirty, state.extra) == (SHORT, True, {"branch": "main"})
    assert issues == []


def test_code_porcelain_lines_mean_dirty_with_files() -> None:
    text = f"{SHORT}\n M src/train.py\n?? notes.txt\nA  x.py\nR  old/a.py -> new/b.py\nMM \"with space.py\"\n!! ignored.log\n"
    state, issues = parse_code(text)
    assert state.commit == SHORT
    assert state.dirty is True
    assert state.changed_files == ("src/train.py", "notes.txt", "x.py", "new/b.py", "with space.py")
    assert state.extra["renames"] == "old/a.py -> new/b.py"
    assert issues == []


@pytest.mark.parametrize("header", ["local changes:", "Changed files:", "modified:", "Uncommitted changes:"])
def test_code_header_then_list(header: str) -> None:
    text = f"{SHORT}\n{header}\n- src/x.py\n* src/y.py\nconfigs/z.yaml\n"
    state, issues = parse_code(text)
    assert state.commit == SHORT
    assert state.dirty is True
    assert state.changed_files == ("src/x.py", "src/y.py", "configs/z.yaml")
    assert issues == []


def test_code_list_ends_at_blank_line() -> None:
    text = f"{SHORT}\nchanged files:\n  src/x.py\n\nbranch: main\n"
    state, issues = parse_code(text)
    assert state.changed_files == ("src/x.py",)
    assert state.extra == {"branch": "main"}
    assert issues == []


def test_code_changed_files_inline_comma_list() -> None:
    state, _ = parse_code(f"commit: {SHORT}\nchanged files: a.py, b/c.py\n")
    assert state.changed_files == ("a.py", "b/c.py")
    assert state.dirty is True


def test_code_oneline_log_message_and_git_describe() -> None:
    state, issues = parse_code(f"{SHORT} Use cosine schedule\n")
    assert (state.commit, state.extra) == (SHORT, {"message": "Use cosine schedule"})
    assert issues == []
    state, issues = parse_code(f"v1.2.0-3-g{SHORT}-dirty\n")
    assert (state.commit, state.dirty, state.extra["tag"]) == (SHORT, True, "v1.2.0")
    assert issues == []


def test_code_git_log_output() -> None:
    text = f"commit {FULL}\nAuthor: Ana <ana@example.org>\nDate:   Tue Jan 7 14:32:11 2025 +0100\n\n    Try cosine\n"
    state, issues = parse_code(text)
    assert state.commit == FULL
    assert state.extra["author"] == "Ana <ana@example.org>"
    assert state.extra["date"] == "Tue Jan 7 14:32:11 2025 +0100"
    assert state.extra["message"] == "Try cosine"
    assert issues == []


def test_code_git_status_long_format() -> None:
    text = (
        f"{SHORT}\nOn branch main\nChanges not staged for commit:\n  (use \"git add <file>...\" to update)\n"
        "\tmodified:   src/train.py\n\tdeleted:    old.py\n\nUntracked files:\n\tnotes.txt\n"
    )
    state, issues = parse_code(text)
    assert state.changed_files == ("src/train.py", "old.py", "notes.txt")
    assert state.dirty is True
    assert state.extra["branch"] == "main"
    assert issues == []


def test_code_says_clean_but_lists_files() -> None:
    state, issues = parse_code(f"{SHORT}\nclean\n M src/train.py\n")
    assert state.dirty is True
    assert issues == [("says clean but lists 1 changed file(s); treating as dirty", 2)]


def test_code_empty_text() -> None:
    assert parse_code("") == (CodeState(), [("empty file", None)])
    assert parse_code("  \n\n") == (CodeState(), [("empty file", None)])


def test_code_no_hash_keeps_what_was_understood() -> None:
    state, issues = parse_code("see the wiki for the commit\nbranch: main\ndirty: true\n")
    assert state.commit is None
    assert state.dirty is True
    assert state.extra == {"branch": "main"}
    assert issues == [("no commit hash found (first line: 'see the wiki for the commit')", 1)]


def test_code_non_hash_commit_value_reported() -> None:
    state, issues = parse_code("commit: HEAD\n")
    assert state.commit is None
    assert state.extra == {"commit": "HEAD"}
    assert ("commit 'HEAD' is not a commit hash", 1) in issues


def test_code_unknown_lines_summarised_once() -> None:
    state, issues = parse_code(f"{SHORT}\nwhatever this is\nand this too\n")
    assert state.commit == SHORT
    assert issues == [("2 line(s) not understood (first: 'whatever this is')", 2)]


def test_code_second_different_hash_reported() -> None:
    state, issues = parse_code(f"{SHORT}\ncommit: abcdef0\n")
    assert state.commit == SHORT
    assert issues == [(f"another commit hash abcdef0; keeping {SHORT}", 2)]


def test_read_code_from_disk(tmp_path: Path) -> None:
    path = write(tmp_path / "proj" / "run-1" / "code_commit.txt", f"{SHORT} dirty\n M a.py\n")
    ctx = ReadContext(tmp_path)
    state = read_code(path, ctx)
    assert state == CodeState(commit=SHORT, dirty=True, changed_files=("a.py",))
    assert ctx.problems == []
    assert "code_commit.txt" in CODE_FILE_NAMES


def test_read_code_problem_has_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "run" / "code_commit.txt", "# header\nno hash here\n")
    ctx = ReadContext(tmp_path)
    assert read_code(path, ctx) == CodeState()
    assert [(p.file, p.line) for p in ctx.problems] == [("run/code_commit.txt", 2)]
    assert "no commit hash found" in ctx.problems[0].message


# =====================================================================================
# environment files
# =====================================================================================
ENV_TXT = """\
# Environment of run-023
Python 3.10.12 (main, Nov 20 2023, 15:14:05) [GCC 11.4.0]
OS: Ubuntu 22.04
platform: Linux-5.15.0-1051-aws-x86_64-with-glibc2.35
CUDA 12.1
cuDNN 8.9
GPU: 1x A100 80GB
CPU: AMD EPYC 7763
hardware: 512 GB RAM
host: gpu-node-3

[packages]
numpy==1.26.4
torch==2.1.0+cu121
mypkg @ file:///home/ana/mypkg
-e git+https://github.com/org/repo.git@abc123#egg=My_Lib
Scikit_Learn==1.3.2
pandas 2.1.4
scipy: 1.11.4
requests>=2.31,<3
"""


def test_env_txt_free_form() -> None:
    env, issues = parse_env(ENV_TXT, "env.txt")
    assert env.python == "3.10.12"
    assert env.os == "Ubuntu 22.04"
    assert env.hardware == ("GPU: 1x A100 80GB", "CPU: AMD EPYC 7763", "512 GB RAM")
    assert env.packages == {
        "numpy": "1.26.4",
        "torch": "2.1.0+cu121",
        "mypkg": UNKNOWN_VERSION,
        "my-lib": UNKNOWN_VERSION,
        "scikit-learn": "1.3.2",
        "pandas": "2.1.4",
        "scipy": "1.11.4",
        "requests": ">=2.31,<3",
    }
    assert env.extra["cuda"] == "12.1"
    assert env.extra["cudnn"] == "8.9"
    assert env.extra["host"] == "gpu-node-3"
    assert env.extra["platform"].startswith("Linux-5.15")  # second OS description kept, not dropped
    assert issues == []


@pytest.mark.parametrize(
    ("line", "python"),
    [("python: 3.11.4", "3.11.4"), ("Python version: 3.9.18", "3.9.18"), ("python==3.10", "3.10"),
     ("Python 3.12.0rc1", "3.12.0rc1")],
)
def test_env_python_spellings(line: str, python: str) -> None:
    env, issues = parse_env(line + "\n")
    assert env.python == python
    assert "python" not in env.packages
    assert issues == []


@pytest.mark.parametrize(
    ("line", "name", "version"),
    [("numpy 1.26.4", "numpy", "1.26.4"), ("numpy: 1.26.4", "numpy", "1.26.4"), ("numpy==1.26.4", "numpy", "1.26.4"),
     ("Torch version: 2.1.0", "torch", "2.1.0"), ("scikit_learn >= 1.2", "scikit-learn", ">=1.2"),
     ("numpy~=1.26", "numpy", "~=1.26"), ("numpy                1.26.4", "numpy", "1.26.4"),
     ("numpy  1.26.4  py310hb13e2d6_0  conda-forge", "numpy", "1.26.4"), ("Pillow = 10.1.0", "pillow", "10.1.0")],
)
def test_env_package_line_shapes(line: str, name: str, version: str) -> None:
    env, issues = parse_env(line + "\n")
    assert env.packages == {name: version}
    assert issues == []


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [("cuda: 12.1", "cuda", "12.1"), ("CUDA Version: 12.2", "cuda", "12.2"), ("cuDNN 8.9", "cudnn", "8.9"),
     ("Driver Version: 535.104.05", "driver", "535.104.05")],
)
def test_env_system_facts_go_to_extra(line: str, key: str, value: str) -> None:
    env, issues = parse_env(line + "\n")
    assert env.extra == {key: value}
    assert env.packages == {}
    assert issues == []


def test_env_python_implementation_is_not_a_version() -> None:
    env, issues = parse_env("python implementation: CPython\npython: 3.11.4\n")
    assert env.python == "3.11.4"
    assert env.extra == {"python": "CPython"}
    assert issues == []


def test_env_os_and_hardware_spellings() -> None:
    env, _ = parse_env("Ubuntu 22.04.3 LTS\nGPUs: 8x H100\n")
    assert env.os == "Ubuntu 22.04.3 LTS"
    assert env.hardware == ("GPU: 8x H100",)
    env, _ = parse_env("Linux-5.15.0-1051-aws-x86_64-with-glibc2.35\n")
    assert env.os == "Linux-5.15.0-1051-aws-x86_64-with-glibc2.35"


def test_env_sections_and_pip_list_output() -> None:
    text = (
        "Package    Version\n---------- -------\nnumpy      1.26.4\n\n"
        "=== Hardware ===\n2x RTX 4090\n\n"
        "[system]\nkernel: 5.15.0\nlibfoo: 2.3.1\n"
    )
    env, issues = parse_env(text)
    assert env.packages == {"numpy": "1.26.4"}
    assert env.hardware == ("2x RTX 4090",)
    assert env.extra == {"kernel": "5.15.0", "libfoo": "2.3.1"}  # not packages: under a non-package section
    assert issues == []


def test_env_prose_gives_one_summary_problem() -> None:
    text = "numpy==1.26.4\nTrained on the big cluster\nRan 3 epochs overnight\nEpochs 30\n"
    env, issues = parse_env(text)
    assert env.packages == {"numpy": "1.26.4"}
    assert issues == [("3 line(s) not understood (first at line 2: 'Trained on the big cluster')", 2)]


def test_env_malformed_package_line_reported_individually() -> None:
    env, issues = parse_env("numpy==\ntorch==2.1.0\n")
    assert env.packages == {"torch": "2.1.0"}
    assert issues == [("cannot read package line 'numpy=='", 1)]


def test_env_requirements_file() -> None:
    text = (
        "-r base.txt\n--index-url https://pypi.example.org/simple\n"
        "numpy==1.26.4 \\\n    --hash=sha256:0123abcd\n"
        "requests\npandas>=2.0  # at least 2\nfoo[extra]>=1.0,<2 ; python_version < '3.12'\n"
        "-e ./libs/featurizer\n"
    )
    env, issues = parse_env(text, "requirements.txt")
    assert env.packages == {
        "numpy": "1.26.4",
        "requests": UNKNOWN_VERSION,
        "pandas": ">=2.0",
        "foo": ">=1.0,<2",
        "featurizer": UNKNOWN_VERSION,
    }
    assert issues == []


CONDA_YML = """\
name: fraud
channels:
  - conda-forge
  - defaults
dependencies:
  - python=3.10
  - numpy=1.26.4=py310hb13e2d6_0
  - pytorch::pytorch=2.1.0
  - cudatoolkit=11.8
  - scipy>=1.11
  - pip
  - pip:
    - transformers==4.36.2
    - -e git+https://github.com/org/x.git#egg=local_pkg
"""


def test_env_conda_environment_yml() -> None:
    env, issues = parse_env(CONDA_YML, "environment.yml")
    assert env.python == "3.10"
    assert env.packages == {
        "numpy": "1.26.4",
        "pytorch": "2.1.0",
        "cudatoolkit": "11.8",
        "scipy": ">=1.11",
        "pip": UNKNOWN_VERSION,
        "transformers": "4.36.2",
        "local-pkg": UNKNOWN_VERSION,
    }
    assert env.extra["name"] == "fraud"
    assert env.extra["channels"] == "conda-forge, defaults"
    assert env.extra["cuda"] == "11.8"
    assert issues == []


def test_env_json_with_package_dict_and_unquoted_versions() -> None:
    text = (
        '{"python": 3.10, "os": "Ubuntu 22.04", "gpu": "A100", "cpu": "Xeon",'
        ' "packages": {"NumPy": "1.26.4", "torch": 2.1, "Scikit_Learn": "1.3.2"}, "cuda": "12.1", "seed_note": "x"}'
    )
    env, issues = parse_env(text, "env.json")
    assert env.python == "3.10"  # not 3.1: numbers are read as written
    assert env.os == "Ubuntu 22.04"
    assert env.hardware == ("GPU: A100", "CPU: Xeon")
    assert env.packages == {"numpy": "1.26.4", "torch": "2.1", "scikit-learn": "1.3.2"}
    assert env.extra == {"cuda": "12.1", "seed_note": "x"}
    assert issues == []


def test_env_yaml_with_package_list_and_hardware_mapping() -> None:
    text = "python: 3.10\nos: macOS-14.1-arm64\nhardware:\n  gpu: M2 Max\n  ram: 64GB\npackages:\n  - numpy==1.26.4\n  - torch==2.1.0\n"
    env, issues = parse_env(text, "env.yaml")
    assert env.python == "3.10"
    assert env.os == "macOS-14.1-arm64"
    assert env.hardware == ("GPU: M2 Max", "RAM: 64GB")
    assert env.packages == {"numpy": "1.26.4", "torch": "2.1.0"}
    assert issues == []


def test_env_pip_list_json() -> None:
    env, issues = parse_env('[{"name": "NumPy", "version": "1.26.4"}, {"name": "torch", "version": "2.1.0"}]', "env.json")
    assert env.packages == {"numpy": "1.26.4", "torch": "2.1.0"}
    assert issues == []


def test_env_structured_bad_entries_reported() -> None:
    env, issues = parse_env('{"packages": ["numpy==1.26.4", 42, "!!!"]}', "env.json")
    assert env.packages == {"numpy": "1.26.4"}
    assert messages(issues) == "package entry 42 not understood | package entry '!!!' not understood"
    _, issues = parse_env('"just a string"', "env.json")
    assert issues == [("expected a mapping of environment facts, found str", None)]


def test_env_merge_first_wins_but_exact_beats_range() -> None:
    first = Environment(python="3.10.12", os="Ubuntu", hardware=("GPU: A100",),
                        packages={"numpy": ">=1.24", "torch": "2.1.0"}, extra={"cuda": "12.1"})
    second = Environment(python="3.11", os="Debian", hardware=("GPU: A100", "CPU: Xeon"),
                         packages={"numpy": "1.26.4", "torch": "2.0.0", "scipy": "1.11"}, extra={"cuda": "11.8", "x": "y"})
    merged = merge_env(first, second)
    assert merged.python == "3.10.12" and merged.os == "Ubuntu"
    assert merged.hardware == ("GPU: A100", "CPU: Xeon")
    assert merged.packages == {"numpy": "1.26.4", "torch": "2.1.0", "scipy": "1.11"}
    assert merged.extra == {"cuda": "12.1", "x": "y"}


def test_read_env_merges_files_and_reports_per_file(tmp_path: Path) -> None:
    run = tmp_path / "proj" / "run-1"
    env_txt = write(run / "env.txt", "Python 3.10.12\nnumpy 1.26.4\nsome prose here\n")
    req = write(run / "requirements.txt", "numpy>=1.24\ntorch==2.1.0\npython_version=3.11\n")
    conda = write(run / "environment.yml", "dependencies:\n  - python=3.11\n  - pandas=2.1.4\n")
    ctx = ReadContext(tmp_path)
    env = read_env([env_txt, req, conda], ctx)
    assert env.python == "3.10.12"
    assert env.packages == {"numpy": "1.26.4", "torch": "2.1.0", "pandas": "2.1.4"}
    assert [(p.file, p.line) for p in ctx.problems] == [("proj/run-1/env.txt", 3)]
    assert "not understood" in ctx.problems[0].message


def test_env_file_names_constant() -> None:
    for name in ("env.txt", "environment.txt", "requirements.txt", "environment.yml", "environment.yaml",
                 "env.json", "env.yaml", "env.yml", "pip_freeze.txt", "versions.txt"):
        assert name in ENV_FILE_NAMES


def test_env_empty_text() -> None:
    assert parse_env("", "env.txt") == (Environment(), [("empty file", None)])
    assert parse_env("# only a comment\n", "env.yaml") == (Environment(), [("empty document", None)])


# =====================================================================================
# seeds
# =====================================================================================
@pytest.mark.parametrize(
    "text",
    ["global=1234, data_split=42", "global=1234 data_split=42", "global=1234,data_split=42\n",
     "global = 1234\ndata_split = 42\n", "global: 1234\ndata_split: 42\n", "# seeds\nglobal=1234  # torch+numpy\n\ndata_split=42\n",
     "global=1234; data_split=42", '{"global": 1234, "data_split": 42}', "seeds:\n  global: 1234\n  data_split: 42\n",
     "global 1234\ndata_split 42\n"],
)
def test_seeds_text_variants(text: str) -> None:
    seeds, issues = parse_seeds(text)
    assert seeds == {"global": 1234, "data_split": 42}
    assert issues == []


@pytest.mark.parametrize("text", ["1234", "1234\n", "# the seed\n1234\n"])
def test_seeds_bare_integer_is_global(text: str) -> None:
    assert parse_seeds(text) == ({"global": 1234}, [])


def test_seeds_non_integer_reported_others_kept() -> None:
    seeds, issues = parse_seeds("global=1234\nlr_seed=abc, data_split=42\ndeterministic: true\nsplit_seed=4.5\n")
    assert seeds == {"global": 1234, "data_split": 42}
    assert issues == [
        ("seed 'lr_seed' is not an integer: 'abc'", 2),
        ("seed 'deterministic' is not an integer: 'true'", 3),
        ("seed 'split_seed' is not an integer: '4.5'", 4),
    ]


def test_seeds_odd_values_and_lines() -> None:
    seeds, issues = parse_seeds("global=0x10\nbig=1_000\nneg=-1\nseed=\nwhat is this\n")
    assert seeds == {"global": 16, "big": 1000, "neg": -1}
    assert issues == [("seed 'seed' has no value", 4), ("not understood: 'what is this'", 5)]


def test_seeds_duplicate_and_second_unnamed() -> None:
    seeds, issues = parse_seeds("global=1\nglobal=2\n7\n")
    assert seeds == {"global": 1}
    assert issues == [("seed 'global' given twice (1 and 2); keeping 1", 2), ("unnamed seed 7; 'global' is already 1", 3)]


def test_seeds_json_and_yaml_documents() -> None:
    seeds, issues = parse_seeds('{\n  "global": 1234,\n  "data_split": 42,\n  "bad": "x",\n  "flag": true\n}', "seeds.json")
    assert seeds == {"global": 1234, "data_split": 42}
    assert issues == [("seed 'bad' is not an integer: 'x'", 4), ("seed 'flag' is not an integer: true", 5)]
    seeds, issues = parse_seeds("seeds:\n  global: 1234\n  torch:\n    cuda: 7\n", "seeds.yaml")
    assert seeds == {"global": 1234, "torch.cuda": 7}
    assert issues == []
    assert parse_seeds("42\n", "seeds.yml") == ({"global": 42}, [])
    assert parse_seeds("[1, 2]", "seeds.json") == ({}, [("expected a mapping of seed names to integers, found list", None)])


def test_seeds_empty_and_comment_only() -> None:
    assert parse_seeds("") == ({}, [("empty file", None)])
    assert parse_seeds("# nothing yet\n") == ({}, [("no seeds found (only comments)", None)])


def test_read_seeds_from_disk(tmp_path: Path) -> None:
    path = write(tmp_path / "run" / "seeds.txt", "global=1234, data_split=42\nx=y\n")
    ctx = ReadContext(tmp_path)
    assert read_seeds(path, ctx) == {"global": 1234, "data_split": 42}
    assert [(p.file, p.message, p.line) for p in ctx.problems] == [("run/seeds.txt", "seed 'x' is not an integer: 'y'", 2)]
    assert {"seeds.txt", "seeds.json", "seeds.yaml"} <= set(SEED_FILE_NAMES)


# =====================================================================================
# data snapshot
# =====================================================================================
def test_data_tutorial_line() -> None:
    snap, issues = parse_data("dataset_v23 parquet hash=0x9af2...\n")
    assert snap == DataSnapshot(name="dataset", version="v23", format="parquet", hashes={"hash": "0x9af2..."})
    assert issues == []


@pytest.mark.parametrize(
    ("token", "name", "version"),
    [("dataset_v23", "dataset", "v23"), ("fraud_tx-v3.1", "fraud_tx", "v3.1"), ("fraud@23", "fraud", "23"),
     ("fraud:7", "fraud", "7"), ("my_v2_data_v3", "my_v2_data", "v3"), ("fraud_tx", "fraud_tx", None)],
)
def test_data_name_version_split(token: str, name: str, version: str | None) -> None:
    assert split_name_version(token) == (name, version)
    snap, issues = parse_data(f"{token} csv\n")
    assert (snap.name, snap.version, snap.format) == (name, version, "csv")
    assert issues == []


@pytest.mark.parametrize("fmt", ["parquet", "csv", "tfrecord", "jsonl", "arrow", "feather", "delta", "orc"])
def test_data_format_words(fmt: str) -> None:
    snap, _ = parse_data(f"sales_v2 {fmt.upper()} sha256=abc\n")
    assert snap.format == fmt


def test_data_token_line_key_values() -> None:
    snap, issues = parse_data("fraud_tx_v3 parquet sha256=ab12 md5=cd34 rows=1204331 split = time owner=ana s3://bucket/fraud/\n")
    assert snap.name == "fraud_tx" and snap.version == "v3"
    assert snap.hashes == {"sha256": "ab12", "md5": "cd34"}
    assert snap.rows == 1204331
    assert snap.extra == {"split": "time", "owner": "ana", "path": "s3://bucket/fraud/"}
    assert issues == []


def test_data_file_extension_and_rows_phrase() -> None:
    snap, issues = parse_data("dataset_v23.parquet 1,204,331 rows\n")
    assert (snap.name, snap.version, snap.format, snap.rows) == ("dataset", "v23", "parquet", 1204331)
    assert issues == []


def test_data_key_value_lines() -> None:
    text = (
        "dataset: fraud_tx\nversion: v23\nsha256: 9af2beef00\nrows: 1,204,331\nformat: Parquet\n"
        "path: s3://bucket/fraud/v23/\nquery_id: q-77\n"
    )
    snap, issues = parse_data(text)
    assert snap == DataSnapshot(
        name="fraud_tx", version="v23", format="parquet", hashes={"sha256": "9af2beef00"}, rows=1204331,
        extra={"path": "s3://bucket/fraud/v23/", "query_id": "q-77"},
    )
    assert issues == []


def test_data_explicit_version_vs_name_suffix() -> None:
    assert parse_data("dataset: fraud_tx_v23\nversion: v23\n")[0].name == "fraud_tx"
    snap, _ = parse_data("dataset: fraud_tx_v23\nversion: 2025-01-07\n")
    assert (snap.name, snap.version) == ("fraud_tx_v23", "2025-01-07")


def test_data_indented_hashes_group_in_text() -> None:
    snap, issues = parse_data("name: fraud_tx\nhashes:\n  sha256: abc\n  md5: def\nrows: 10\n")
    assert snap.hashes == {"sha256": "abc", "md5": "def"}
    assert (snap.name, snap.rows) == ("fraud_tx", 10)
    assert issues == []


def test_data_bad_rows_reported_and_kept() -> None:
    snap, issues = parse_data("dataset: d\nrows: about a million\n")
    assert snap.rows is None
    assert snap.extra == {"rows": "about a million"}
    assert issues == [("rows 'about a million' is not a whole number", 2)]


def test_data_nothing_recognised() -> None:
    snap, issues = parse_data("Snapshot was taken from prod on Monday\n")
    assert snap.name is None
    assert snap.extra == {"notes": "Snapshot was taken from prod on Monday"}
    assert issues == [("no dataset name, version or hash found (first line: 'Snapshot was taken from prod on Monday')", 1)]


def test_data_json_with_nested_hashes() -> None:
    text = (
        '{"dataset": "fraud_tx", "version": "v23", "format": "parquet", "rows": 1204331,'
        ' "hashes": {"sha256": "abc", "MD5": "def"}, "path": "s3://x", "columns": ["a", "b"]}'
    )
    snap, issues = parse_data(text, "data_snapshot.json")
    assert snap == DataSnapshot(
        name="fraud_tx", version="v23", format="parquet", hashes={"sha256": "abc", "md5": "def"}, rows=1204331,
        extra={"path": "s3://x", "columns": '["a", "b"]'},
    )
    assert issues == []


def test_data_yaml_numbers_read_as_written() -> None:
    snap, issues = parse_data("dataset: fraud_tx\nversion: 1.10\nhash: 0x9af2\nrows: 1_000\n", "data_snapshot.yaml")
    assert (snap.version, snap.hashes, snap.rows) == ("1.10", {"hash": "0x9af2"}, 1000)
    assert issues == []


def test_data_yaml_nested_dataset_mapping() -> None:
    snap, issues = parse_data("dataset:\n  name: fraud_tx_v23\n  format: csv\n  sha1: aa\n", "data_snapshot.yml")
    assert (snap.name, snap.version, snap.format, snap.hashes) == ("fraud_tx", "v23", "csv", {"sha1": "aa"})
    assert issues == []


def test_data_structured_wrong_shape() -> None:
    assert parse_data("[1, 2]", "data_snapshot.json") == (
        DataSnapshot(), [("expected a mapping describing the dataset, found list", None)]
    )


def test_read_data_from_disk(tmp_path: Path) -> None:
    path = write(tmp_path / "run" / "data_snapshot.txt", "dataset_v23 parquet hash=0x9af2\nrows: lots\n")
    ctx = ReadContext(tmp_path)
    snap = read_data(path, ctx)
    assert (snap.name, snap.version, snap.hashes) == ("dataset", "v23", {"hash": "0x9af2"})
    assert [(p.file, p.line) for p in ctx.problems] == [("run/data_snapshot.txt", 2)]
    assert DATA_FILE_NAMES[0] == "data_snapshot.txt"


# =====================================================================================
# bad input, the same for every reader
# =====================================================================================
Reader = Callable[[Path, ReadContext], Any]


def _read_code(path: Path, ctx: ReadContext) -> Any:
    """read_code with the common (path, ctx) signature."""
    return read_code(path, ctx)


def _read_env(path: Path, ctx: ReadContext) -> Any:
    """read_env on a single file, with the common (path, ctx) signature."""
    return read_env([path], ctx)


READERS: dict[str, tuple[Reader, Any]] = {
    "code_commit.txt": (_read_code, CodeState()),
    "env.txt": (_read_env, Environment()),
    "seeds.txt": (read_seeds, {}),
    "data_snapshot.txt": (read_data, DataSnapshot()),
}
STRUCTURED: dict[str, tuple[Reader, Any]] = {
    "env": (_read_env, Environment()),
    "seeds": (read_seeds, {}),
    "data_snapshot": (read_data, DataSnapshot()),
}


@pytest.mark.parametrize("name", list(READERS))
def test_bad_empty_file(tmp_path: Path, name: str) -> None:
    reader, empty = READERS[name]
    path = write(tmp_path / "run" / name, "")
    ctx = ReadContext(tmp_path)
    assert reader(path, ctx) == empty
    assert [(p.file, p.message) for p in ctx.problems] == [(f"run/{name}", "empty file")]


@pytest.mark.parametrize("name", list(READERS))
def test_bad_binary_garbage(tmp_path: Path, name: str) -> None:
    reader, empty = READERS[name]
    path = write(tmp_path / "run" / name, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff")
    ctx = ReadContext(tmp_path)
    assert reader(path, ctx) == empty
    assert len(ctx.problems) == 1
    assert ctx.problems[0].file == f"run/{name}"
    assert "binary" in ctx.problems[0].message


VALID_AFTER_BAD_BYTES = {
    "code_commit.txt": (b"# caf\xe9 notes\n1a2b3c4 dirty\n", lambda r: r.commit == "1a2b3c4" and r.dirty is True),
    "env.txt": (b"# caf\xe9\nnumpy==1.26.4\n", lambda r: r.packages == {"numpy": "1.26.4"}),
    "seeds.txt": (b"# caf\xe9\nglobal=1234\n", lambda r: r == {"global": 1234}),
    "data_snapshot.txt": (b"# caf\xe9\ndataset_v23 parquet\n", lambda r: (r.name, r.version) == ("dataset", "v23")),
}


@pytest.mark.parametrize("name", list(READERS))
def test_bad_invalid_utf8_is_reported_and_rest_still_read(tmp_path: Path, name: str) -> None:
    reader, _ = READERS[name]
    content, check = VALID_AFTER_BAD_BYTES[name]
    path = write(tmp_path / "run" / name, content)
    ctx = ReadContext(tmp_path)
    result = reader(path, ctx)
    assert check(result)
    assert [(p.file, p.line) for p in ctx.problems] == [(f"run/{name}", 1)]
    assert "not valid UTF-8" in ctx.problems[0].message


@pytest.mark.parametrize("stem", list(STRUCTURED))
def test_bad_truncated_json(tmp_path: Path, stem: str) -> None:
    reader, empty = STRUCTURED[stem]
    path = write(tmp_path / "run" / f"{stem}.json", '{\n  "global": 1234,\n  "dataset": "fraud",\n')
    ctx = ReadContext(tmp_path)
    assert reader(path, ctx) == empty
    assert len(ctx.problems) == 1
    problem = ctx.problems[0]
    assert problem.file == f"run/{stem}.json"
    assert problem.message.startswith("invalid JSON")
    assert "truncated" in problem.message
    assert problem.line == 4


@pytest.mark.parametrize("stem", list(STRUCTURED))
def test_bad_json_cut_inside_a_string(tmp_path: Path, stem: str) -> None:
    reader, empty = STRUCTURED[stem]
    path = write(tmp_path / "run" / f"{stem}.json", '{\n  "global": 1234,\n  "dataset": "fr')
    ctx = ReadContext(tmp_path)
    assert reader(path, ctx) == empty
    assert [(p.file, p.line) for p in ctx.problems] == [(f"run/{stem}.json", 3)]
    assert ctx.problems[0].message.startswith("invalid JSON: Unterminated string")


@pytest.mark.parametrize("stem", list(STRUCTURED))
@pytest.mark.parametrize("tag", ["!!python/object:__main__.Evil {}", "!!python/object/apply:os.system ['echo pwned']"])
def test_bad_python_object_yaml_tag(tmp_path: Path, stem: str, tag: str) -> None:
    reader, empty = STRUCTURED[stem]
    path = write(tmp_path / "run" / f"{stem}.yaml", f"global: 1\nevil: {tag}\n")
    ctx = ReadContext(tmp_path)
    assert reader(path, ctx) == empty
    assert [(p.file, p.message, p.line) for p in ctx.problems] == [
        (f"run/{stem}.yaml", "invalid YAML: unsafe YAML tag (e.g. !!python/...) refused", 2)
    ]


@pytest.mark.parametrize("name", list(READERS))
def test_bad_symlink_outside_root(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    reader, empty = READERS[name]
    secret = write(tmp_path_factory.mktemp("outside") / "secret.txt", "1a2b3c4\nglobal=1\nnumpy==1.0\nd_v1 csv\n")
    link = tmp_path / "run" / name
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    ctx = ReadContext(tmp_path)
    assert reader(link, ctx) == empty
    assert [(p.file, p.message) for p in ctx.problems] == [
        (f"run/{name}", "symbolic link points outside the root; not read")
    ]


@pytest.mark.parametrize("name", list(READERS))
def test_missing_file_reported(tmp_path: Path, name: str) -> None:
    reader, empty = READERS[name]
    ctx = ReadContext(tmp_path)
    assert reader(tmp_path / "run" / name, ctx) == empty
    assert len(ctx.problems) == 1 and ctx.problems[0].file == f"run/{name}"
    assert ctx.problems[0].message.startswith("cannot read")


def test_core_readers_do_not_import_ui_libraries() -> None:
    import runsift.core.readers.code as code_mod
    import runsift.core.readers.data as data_mod
    import runsift.core.readers.env as env_mod
    import runsift.core.readers.seeds as seeds_mod

    for module in (code_mod, data_mod, env_mod, seeds_mod):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert "import textual" not in source and "from textual" not in source
        assert "import rich" not in source and "from rich" not in source
