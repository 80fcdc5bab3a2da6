"""An s3:// root against a real S3-compatible server (moto's standalone server, started here).

sample_runs is uploaded to a bucket; ls, show, diff and explain on the bucket must give what
they give on the folder; unchanged objects are not fetched again, a changed one is; nothing is
ever written to the bucket (read-only credentials, and the listing with ETags compared before and
after); errors are one line without secrets; a server killed mid-index leaves only complete
files, and the next run resumes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from runsift.core import remote
from runsift.tui.cli import main

boto3 = pytest.importorskip("boto3")
pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RUNS = REPO / "sample_runs"
BUCKET, PREFIX = "team-runs", "projects/sample_runs"
URL = f"s3://{BUCKET}/{PREFIX}"
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "s3:Head*"], "Resource": "*"}]}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen[bytes]
    admin: Any
    reader: dict[str, str]
    nobody: dict[str, str]

    def client(self, keys: dict[str, str]) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"])

    def listing(self, bucket: str = BUCKET) -> dict[str, tuple[str, int]]:
        """Every object of the bucket with its ETag and size (paged)."""
        out = {}
        for page in self.admin.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            out.update({o["Key"]: (o["ETag"], o["Size"]) for o in page.get("Contents", [])})
        return out

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int | None = None) -> S3Server:
    """moto's server in a subprocess (so a test can kill it), sample_runs uploaded, then IAM enforced."""
    port = port or _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("moto server did not start")
    root = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap", "region_name": "us-east-1", "endpoint_url": endpoint}
    iam = boto3.client("iam", **root)
    keys = {}
    for user, policy in (("admin", EVERYTHING), ("reader", READ_ONLY), ("nobody", None)):
        iam.create_user(UserName=user)
        if policy is not None:
            arn = iam.create_policy(PolicyName=f"{user}-policy", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
            iam.attach_user_policy(UserName=user, PolicyArn=arn)
        keys[user] = iam.create_access_key(UserName=user)["AccessKey"]
    s3 = boto3.client("s3", **root)
    s3.create_bucket(Bucket=BUCKET)
    for path in sorted(SAMPLE_RUNS.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), BUCKET, f"{PREFIX}/{path.relative_to(SAMPLE_RUNS).as_posix()}")
    # from here on every request needs a known key whose policy allows it
    request = urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request, timeout=10)
    server = S3Server(endpoint, process, None, keys["reader"], keys["nobody"])
    server.admin = server.client(keys["admin"])
    return server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = start_server()
    yield server
    server.stop()


def use(monkeypatch: pytest.MonkeyPatch, server: S3Server, keys: dict[str, str] | None) -> None:
    """The environment a user of the bucket has: the endpoint, and these keys (None: no credentials at all)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("COLUMNS", "400")  # errors are one line; keep Rich from wrapping them
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    if keys is None:
        monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    else:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _same_doc(doc: Any, *roots: str) -> Any:
    """``doc`` with each root's absolute path written as ROOT (the folder and its mirror differ only there)."""
    text = json.dumps(doc)
    for root in roots:
        text = text.replace(root, "ROOT")
    return json.loads(text)


def test_commands_give_the_same_results_on_the_bucket_as_on_the_folder(s3: S3Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, s3, s3.reader)
    before = s3.listing()
    local = os.path.realpath(SAMPLE_RUNS)
    code, out, err = run(capsys, "ls", URL, "--format", "json")
    assert code == 0, err
    assert "objects listed" in err
    remote_rows = json.loads(out)
    _, out, _ = run(capsys, "ls", str(SAMPLE_RUNS), "--format", "json", "-q")
    local_rows = json.loads(out)
    assert [r["id"] for r in remote_rows] == [r["id"] for r in local_rows]
    assert len(remote_rows) > 10
    for a, b in zip(remote_rows, local_rows):
        assert (a["kind"], a["status"], a["metrics"], a["project"], a["name"]) == (b["kind"], b["status"], b["metrics"], b["project"], b["name"])
        assert a["path"] == URL + "/" + a["id"], "shown paths are the remote URL, not the mirror"
    code, out, err = run(capsys, "ls", URL, "--format", "csv", "--columns", "name,val_auc,path", "-q")  # --columns took a crash
    assert code == 0, err
    assert out.splitlines()[0] == "name,val_auc,path" and f",{URL}/" in out and str(remote.mirror_folder(URL)) not in out
    runs = [r["id"] for r in local_rows if r["kind"] == "run" and r["status"] == "finished"]
    a, b = runs[0], runs[-1]
    for argv in (("show", a), ("diff", a, b), ("explain", a, b)):
        code_r, out_r, err_r = run(capsys, *argv, "--root", URL, "--format", "json", "-q")
        code_l, out_l, _ = run(capsys, *argv, "--root", str(SAMPLE_RUNS), "--format", "json", "-q")
        assert code_r == code_l, err_r
        assert _same_doc(json.loads(out_r), URL) == _same_doc(json.loads(out_l), local), argv
    code, out, err = run(capsys, "show", a, "--root", URL, "-q")
    assert code == 0, err
    assert f"{URL}/{a}" in out and str(remote.mirror_folder(URL)) not in out, "text output shows the URL too"
    assert s3.listing() == before, "the bucket was written to"


def test_unchanged_objects_are_not_fetched_again_and_a_changed_one_is(s3: S3Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, s3, s3.reader)
    first = remote.mirror(URL)
    assert first.stats.fetched == first.stats.listed == len(s3.listing())
    artifacts = [k for k in s3.listing() if "/artifacts/" in k and "pred" not in k]
    assert first.stats.placeholders >= len(artifacts) > 0
    total = sum(size for _, size in s3.listing().values())
    assert first.stats.bytes_fetched < total, "artifacts are listed, not downloaded"
    again = remote.mirror(URL)
    assert (again.stats.fetched, again.stats.bytes_fetched, again.stats.kept) == (0, 0, again.stats.listed)

    run_id = "fraud-model/2025-01-07_14-32-11_run-023"
    key = f"{PREFIX}/{run_id}/metrics.json"
    original = s3.admin.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    doc = json.loads(original)
    doc["final"]["val_auc"] = 0.5
    s3.admin.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(doc).encode())
    try:
        after = s3.listing()
        changed = remote.mirror(URL)
        assert changed.stats.fetched == 1
        assert changed.stats.bytes_fetched == after[key][1]
        code, out, err = run(capsys, "show", run_id, "--root", URL, "--format", "json", "-q")
        assert code == 0, err
        assert json.loads(out)["metrics"]["final"]["val_auc"] == 0.5
        assert s3.listing() == after
    finally:
        s3.admin.put_object(Bucket=BUCKET, Key=key, Body=original)


def test_a_big_log_is_read_by_its_head_and_tail_only(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, s3, s3.reader)
    size = 8 * remote.LOG_PEEK_BYTES
    body = b"".join(b"2025-01-01 00:00:%02d step %07d\n" % (i % 60, i) for i in range(size // 30))
    key = "big/run-1/train.log"
    s3.admin.put_object(Bucket=BUCKET, Key=key, Body=body)
    s3.admin.put_object(Bucket=BUCKET, Key="big/run-1/config.yaml", Body=b"lr: 0.1\n")
    try:
        result = remote.mirror(f"s3://{BUCKET}/big")
        local = result.path / "run-1" / "train.log"
        data = local.read_bytes()
        assert len(data) == len(body), "the mirror keeps the object's size"
        peek = remote.LOG_PEEK_BYTES
        assert data[:peek] == body[:peek] and data[-peek:] == body[-peek:]
        assert result.stats.bytes_fetched == 2 * peek + len(b"lr: 0.1\n")
    finally:
        s3.admin.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key}, {"Key": "big/run-1/config.yaml"}]})


def _one_line_error(result: tuple[int, str, str], *secrets: str) -> str:
    code, out, err = result
    assert code == 2 and not out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for secret in secrets:
        assert secret not in err
    return lines[0]


def test_missing_credentials_denied_access_and_unknown_bucket_are_one_line_errors(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    use(monkeypatch, s3, None)
    line = _one_line_error(run(capsys, "ls", URL))
    assert "credentials" in line
    use(monkeypatch, s3, s3.nobody)
    line = _one_line_error(run(capsys, "ls", URL), s3.nobody["SecretAccessKey"])
    assert "access denied" in line
    use(monkeypatch, s3, s3.reader)
    line = _one_line_error(run(capsys, "ls", f"s3://no-such-bucket-{os.getpid()}/x"), s3.reader["SecretAccessKey"])
    assert "no such bucket" in line
    for bare in ("s3://", "s3:///"):  # it would list every bucket the key can see
        line = _one_line_error(run(capsys, "ls", bare), s3.reader["SecretAccessKey"])
        assert "needs a bucket" in line and "s3://BUCKET/PREFIX" in line


def test_s3_times_are_read_by_runsifts_parser(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The listing's times come through the session that reads them with ``datetime`` (botocore's own gives ``tzutc()``)."""

    from runsift.core.remote import _filesystem
    from runsift.core.remotelist import list_tree

    use(monkeypatch, s3, s3.reader)
    fs, path = _filesystem(URL)
    listing = list_tree(fs, path.rstrip("/"))
    assert listing and all(info["LastModified"].tzinfo is UTC for info in listing.values())


def test_a_bucket_that_vanishes_is_a_clear_error(s3: S3Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    s3.admin.create_bucket(Bucket="short-lived")
    s3.admin.put_object(Bucket="short-lived", Key="p/run-1/config.yaml", Body=b"lr: 0.1\n")
    s3.admin.put_object(Bucket="short-lived", Key="p/run-1/metrics.json", Body=b'{"acc": 0.5}')
    use(monkeypatch, s3, s3.reader)
    code, out, err = run(capsys, "ls", "s3://short-lived/p", "--format", "json", "-q")
    assert code == 0, err
    assert [r["id"] for r in json.loads(out)] == ["run-1"]
    s3.admin.delete_objects(Bucket="short-lived", Delete={"Objects": [{"Key": "p/run-1/config.yaml"}, {"Key": "p/run-1/metrics.json"}]})
    s3.admin.delete_bucket(Bucket="short-lived")
    line = _one_line_error(run(capsys, "ls", "s3://short-lived/p"), s3.reader["SecretAccessKey"])
    assert "no such bucket" in line


def test_a_server_killed_mid_index_leaves_only_complete_files_and_the_next_run_resumes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server()
    use(monkeypatch, server, server.reader)
    monkeypatch.setattr(remote, "BATCH_FILES", 16)
    batches: list[int] = []

    def kill_after_two(done: int, todo: int) -> None:
        batches.append(done)
        if len(batches) == 2:
            server.stop()

    try:
        with pytest.raises(remote.RemoteError) as caught:
            remote.mirror(URL, on_batch=kill_after_two)
    finally:
        server.stop()
    message = str(caught.value)
    assert "\n" not in message and "resume" in message and server.reader["SecretAccessKey"] not in message
    base = remote.mirror_folder(URL)
    tree = base / SAMPLE_RUNS.name
    mirrored = [p for p in tree.rglob("*") if p.is_file()]
    assert 0 < len(mirrored) < sum(1 for p in SAMPLE_RUNS.rglob("*") if p.is_file())
    for path in mirrored:  # every file shown is complete: whole content, or a placeholder of the right size
        source = SAMPLE_RUNS / path.relative_to(tree)
        expected = source.read_bytes()
        data = path.read_bytes()
        assert len(data) == len(expected)
        assert data == expected or remote.plan(path.relative_to(tree).as_posix(), len(expected)) == ()
    assert not list((base / "partial").glob("*")) if (base / "partial").exists() else True
    done_before = len(mirrored)

    again = start_server()  # same content again: same ETags (the mirror is keyed by the URL, not the endpoint)
    try:
        use(monkeypatch, again, again.reader)
        resumed = remote.mirror(URL)
        assert resumed.stats.kept == done_before
        assert resumed.stats.fetched == resumed.stats.listed - done_before
        code, out, err = run(capsys, "ls", URL, "--format", "json", "-q")
        assert code == 0, err
        _, local, _ = run(capsys, "ls", str(SAMPLE_RUNS), "--format", "json", "-q")
        assert [(r["id"], r["status"], r["metrics"]) for r in json.loads(out)] == [(r["id"], r["status"], r["metrics"]) for r in json.loads(local)]
    finally:
        again.stop()


def test_object_names_that_cannot_be_local_files_are_left_out_and_nothing_escapes_the_mirror(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = ["h/../../escaped.txt", "h/run-1//config.yaml", "h/run-1/./x.txt", "h/clash", "h/clash/inside.txt", "h/" + "n" * 300 + ".txt"]
    s3.admin.put_object(Bucket=BUCKET, Key="h/run-1/config.yaml", Body=b"lr: 0.1\n")
    s3.admin.put_object(Bucket=BUCKET, Key="h/run-1/metrics.json", Body=b'{"acc": 0.5}')
    s3.admin.put_object(Bucket=BUCKET, Key="h/run-1/\x1b[31mred.txt", Body=b"x")
    for key in hostile:
        s3.admin.put_object(Bucket=BUCKET, Key=key, Body=b"hostile")
    use(monkeypatch, s3, s3.reader)
    try:
        code, out, err = run(capsys, "ls", f"s3://{BUCKET}/h", "--format", "json")
        assert code == 0, err
        assert [r["id"] for r in json.loads(out)] == ["run-1"]
        assert "left out" in err and "\x1b" not in err, "names are shown escaped"
        base = remote.mirror_folder(f"s3://{BUCKET}/h")
        written = {p.relative_to(base.parent).as_posix() for p in base.parent.rglob("*") if p.is_file()}
        assert all(w.startswith(base.name + "/") for w in written), written
        tree = {p.relative_to(base / "h").as_posix() for p in (base / "h").rglob("*") if p.is_file()}
        assert tree == {"run-1/config.yaml", "run-1/metrics.json", "run-1/\x1b[31mred.txt", "clash/inside.txt"}
    finally:
        for key in [*hostile, "h/run-1/config.yaml", "h/run-1/metrics.json", "h/run-1/\x1b[31mred.txt"]:
            s3.admin.delete_object(Bucket=BUCKET, Key=key)


def test_no_cache_mirrors_into_a_temporary_folder_not_the_cache(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], _private_cache: Path
) -> None:
    use(monkeypatch, s3, s3.reader)
    code, out, err = run(capsys, "ls", URL, "--no-cache", "--format", "json", "-q")
    assert code == 0, err
    assert len(json.loads(out)) > 10
    assert not (_private_cache / "runsift").exists(), "--no-cache wrote to the cache folder"


@pytest.mark.asyncio
async def test_the_app_opens_a_bucket_synced_before_at_once_and_syncs_after(s3: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A warm open of a bucket is mostly its listing (seconds at 10k runs, where the same folder on disk opens in
    # a tenth of a second): the app shows the mirror as the last whole sync left it, says it is checking, and then
    # shows what changed. The command line still syncs first.
    import threading

    from conftest import until, workers_done

    from runsift.core.catalog import Catalog
    from runsift.tui.app import RunsiftApp
    from runsift.tui.cli import build_parser
    from runsift.tui.remote_args import RemoteSync, use_remote_roots
    from runsift.tui.widgets.run_table import RunTable

    use(monkeypatch, s3, s3.reader)
    Catalog.open(remote.mirror(URL).path).close()  # a sync and its index, as `runsift URL` left them last time
    run_id = "fraud-model/2025-01-07_14-32-11_run-023"
    key = f"{PREFIX}/{run_id}/metrics.json"
    original = s3.admin.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    doc = json.loads(original)
    before, doc["final"]["val_auc"] = doc["final"]["val_auc"], 0.5
    s3.admin.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(doc).encode())
    try:
        with monkeypatch.context() as offline:  # opening asks the server nothing
            offline.setattr(remote, "list_tree", lambda *a: pytest.fail("listed before the app opened"))
            args = use_remote_roots(build_parser().parse_args(["app", URL]))
        assert args.remote_url == URL and Path(args.root).is_relative_to(remote.mirror_folder(URL))
        release = threading.Event()

        class Held(RemoteSync):
            def __call__(self, on_batch: Any) -> None:
                assert release.wait(30)
                super().__call__(on_batch)

        sync = Held(args.remote_sync.url, args.remote_sync.cache_dir)
        app = RunsiftApp(Path(args.root), shown_root=args.remote_url, sync=sync, watch=False, state_dir=tmp_path / "state")
        async with app.run_test(size=(120, 35)) as pilot:
            table = app.screen.query_one(RunTable)
            status = app.screen.query_one("#status-line")
            await until(pilot, lambda: bool(table.row_count) and "checking" in str(status.render()))
            assert f"checking {URL} for changes" in str(status.render())
            assert {r.id: r.metrics.get("val_auc") for r in table.rows}[run_id] == before
            release.set()
            for _ in range(3):
                await workers_done(app)
                await pilot.pause()
            assert {r.id: r.metrics.get("val_auc") for r in table.rows}[run_id] == 0.5
            assert "checking" not in str(status.render())
    finally:
        s3.admin.put_object(Bucket=BUCKET, Key=key, Body=original)


class _Failing:
    """A bucket's sync that fails, before it changed the mirror (``whole``) or after (cut off part-way)."""

    def __init__(self, whole: bool, seconds: float = 0.0) -> None:
        self._whole, self._seconds = whole, seconds

    def __call__(self, on_batch: Any) -> None:
        time.sleep(self._seconds)
        raise remote.RemoteError("s3://gone/runs: connection failed or dropped (EndpointConnectionError)")

    def whole(self) -> bool:
        return self._whole


@pytest.mark.asyncio
@pytest.mark.parametrize("whole", [True, False])
async def test_the_app_says_when_a_bucket_cannot_be_checked_and_what_the_list_is(tmp_path: Path, whole: bool) -> None:
    # Cut off before the sync changed the mirror, the list is the last sync's; cut off after, the mirror holds some runs
    # newer than others, and the list stays as last indexed (the run fetched meanwhile is not listed) until r.
    from conftest import make_run, workers_done

    from runsift.core.catalog import Catalog
    from runsift.tui.app import RunsiftApp
    from runsift.tui.widgets.run_table import RunTable

    tree = tmp_path / "mirror" / "runs"
    make_run(tree / "p" / "2025-01-01_10-00-00_run-001", metrics={"final": {"val_auc": 0.7}})
    Catalog.open(tree, cache_dir=tmp_path / "cache").close()  # indexed after the last whole sync
    make_run(tree / "p" / "2025-01-02_10-00-00_run-002", metrics={"final": {"val_auc": 0.8}})  # fetched before the cut
    app = RunsiftApp(tree, shown_root="s3://gone/runs", sync=_Failing(whole), watch=False, cache_dir=tmp_path / "cache",  # type: ignore[arg-type]
                     state_dir=tmp_path / "state")
    async with app.run_test(size=(120, 35)) as pilot:
        for _ in range(3):
            await workers_done(app)
            await pilot.pause()
        rows = app.screen.query_one(RunTable).row_count
        status = str(app.screen.query_one("#status-line").render())
    if whole:
        assert rows == 2  # nothing changed by the sync: the mirror is indexed as it is
        assert status.startswith("runs as last synced; cannot check for changes: s3://gone/runs: connection failed"), status
    else:
        assert rows == 1
        assert status.startswith("runs as last indexed; s3://gone/runs was synced part-way, r to sync again"), status


_QUIT_DURING_SYNC = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from test_remote_s3 import _Failing
from runsift.tui.app import RunsiftApp

async def quit_soon(pilot):
    await pilot.pause(1.0)
    await pilot.press("q")

tmp = Path(sys.argv[1])
RunsiftApp(tmp / "mirror" / "runs", shown_root="s3://slow/runs", sync=_Failing(True, seconds=8), watch=False,
           cache_dir=tmp / "cache", state_dir=tmp / "state").run(headless=True, auto_pilot=quit_soon)
"""


def test_quitting_does_not_wait_for_a_background_sync(tmp_path: Path) -> None:
    # A listing takes seconds at 10k runs (minutes against a stalled server): the process ends when the app quits;
    # the sync, cut off, leaves the mirror unmarked, so the next start syncs first.
    from conftest import make_run

    make_run(tmp_path / "mirror" / "runs" / "p" / "2025-01-01_10-00-00_run-001", metrics={"final": {"val_auc": 0.7}})
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", _QUIT_DURING_SYNC, str(tmp_path), str(Path(__file__).parent)], check=True, timeout=60,
                   capture_output=True)
    assert time.monotonic() - started < 6  # the sync alone would take 8 s
