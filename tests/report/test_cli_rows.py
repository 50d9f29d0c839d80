"""A user's own row file, shards merged into one report, and the HTML beside the Markdown."""

from __future__ import annotations

import copy
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.report import document
from conformance.report.implementations import RowError, load_row
from conformance.report.merge import merge
from conformance.report.render import render

APP = """
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(b"id: 1\\ndata: hello\\n\\ndata: [DONE]\\n\\n")
    do_POST = do_HEAD = do_GET
    def log_message(self, *a): pass

server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"LISTENING http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
"""


def _row(tmp_path: Path, body: str, name: str = "row.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_a_library_author_runs_their_own_row_without_editing_python(tmp_path: Path, capsys):
    (tmp_path / "my_app.py").write_text(APP, encoding="utf-8")
    row = _row(
        tmp_path,
        """
        name = "my-sse-lib"
        role = "server"
        language = "Python"
        version = { text = "9.9" }
        server = { command = ["{python}", "{here}/my_app.py"] }
        """,
    )
    out = tmp_path / "REPORT.md"
    assert main(["report", "--implementation", str(row), "-o", str(out), "-q"]) == 0
    data = document.load(tmp_path / "REPORT.json")
    assert [(i["name"], i["version"], i["status"]) for i in data["implementations"]] == [
        ("my-sse-lib", "9.9", "ok")
    ]
    assert {rep["meta"]["endpoint"] for rep in data["implementations"][0]["reports"]} == {"events", "openai"}
    assert "my-sse-lib" in out.read_text(encoding="utf-8")
    assert "<table>" in (tmp_path / "REPORT.html").read_text(encoding="utf-8")


def test_a_json_row_has_the_same_shape(tmp_path: Path):
    path = tmp_path / "row.json"
    path.write_text(
        json.dumps({"name": "c", "role": "client", "language": "Go", "client": {"command": ["x", "{url}"]}})
    )
    row = load_row(path)
    assert (row.name, row.origin, row.client["command"]) == ("c", "third-party", ["x", "{url}"])


@pytest.mark.parametrize(
    "body, problem",
    [
        ('name = "x"\nlanguage = "Go"\n', "'role' must be a non-empty string"),
        ('name = "x"\nrole = "proxy"\nlanguage = "Go"\n', "role must be one of server, client"),
        ('name = "x"\nrole = "client"\nlanguage = "Go"\n', "a client needs a [client] table"),
        ("name = \n", "Invalid value"),
    ],
)
def test_a_bad_row_file_is_one_line_and_exit_2(tmp_path: Path, capsys, body: str, problem: str):
    path = _row(tmp_path, body)
    with pytest.raises(RowError, match=problem.replace("[", r"\[")):
        load_row(path)
    assert main(["report", "--implementation", str(path), "-o", str(tmp_path / "R.md")]) == 2
    err = capsys.readouterr().err.strip().split("\n")
    assert len(err) == 1 and "Traceback" not in err[0]


def _without_header(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith(("Rendered from", "Generated")))


def test_shards_merge_to_the_same_document(real_document: dict[str, Any], tmp_path: Path):
    shards = []
    for n, role in enumerate(("server", "client")):
        shard = copy.deepcopy(real_document)
        shard["implementations"] = [i for i in shard["implementations"] if i["role"] == role]
        shard["interop"] = real_document["interop"] if n == 0 else []
        shards.append(tmp_path / f"shard-{n}.json")
        document.dump(shard, shards[-1])
    out = tmp_path / "REPORT.md"
    assert main(["report", "--merge", *map(str, reversed(shards)), "-o", str(out)]) == 0
    merged = document.load(tmp_path / "REPORT.json")
    # shards given in any order; rows without a built-in place keep their shard order (client first here)
    roles = [i["role"] for i in merged["implementations"]]
    assert sorted(roles) == sorted(i["role"] for i in real_document["implementations"])
    in_order = merge([str(s) for s in shards])
    assert _without_header(render(in_order)) == _without_header(render(real_document))
    assert (tmp_path / "REPORT.html").exists()


def test_a_row_in_two_shards_is_refused(real_document: dict[str, Any], tmp_path: Path, capsys):
    for name in ("a.json", "b.json"):
        document.dump(real_document, tmp_path / name)
    assert (
        main(
            [
                "report",
                "--merge",
                str(tmp_path / "a.json"),
                str(tmp_path / "b.json"),
                "-o",
                str(tmp_path / "R.md"),
            ]
        )
        == 2
    )
    assert "is in both" in capsys.readouterr().err


def test_shards_cover_every_part_exactly_once():
    from conformance.report.implementations import ROWS
    from conformance.report.run import shard_names

    parts = [shard_names(k, 4) for k in range(1, 5)]
    names = [name for part in parts for name in part]
    assert len(names) == len(set(names))
    assert set(names) == {f"{r.role} {r.name}" for r in ROWS} | {"client Chromium EventSource", "interop"}
    assert parts == [shard_names(k, 4) for k in range(1, 5)]  # deterministic


@pytest.mark.parametrize("shard", ["0/4", "5/4", "x", "2-4"])
def test_a_bad_shard_is_a_usage_error(shard: str, tmp_path: Path, capsys):
    assert main(["report", "--shard", shard, "-o", str(tmp_path / "R.md")]) == 2
    assert "--shard takes K/N" in capsys.readouterr().err


def test_compare_finds_exactly_the_flipped_verdicts(real_document: dict[str, Any]):
    from conformance.report.compare import flips

    other = copy.deepcopy(real_document)
    assert list(flips(real_document, other)) == []
    result = other["implementations"][1]["reports"][0]["results"][0]
    was = result["outcome"]
    result["outcome"] = "error" if was != "error" else "pass"
    changed = list(flips(real_document, other))
    assert [(key[1], key[5], left, right) for key, left, right in changed] == [
        ("naive client", result["case"], was, result["outcome"])
    ]


def test_a_users_row_that_cannot_run_exits_1_with_the_reason(tmp_path: Path, capsys):
    row = _row(tmp_path, """
        name = "cannot-start"
        role = "client"
        language = "Go"
        version = { text = "1.0" }
        client = { harness = ["{here}/no-such-program"] }
        """)
    out = tmp_path / "REPORT.md"
    assert main(["report", "--implementation", str(row), "-o", str(out), "-q", "--no-browser",
                 "--no-interop"]) == 1
    err = capsys.readouterr().err
    assert "cannot-start could not run" in err and "no-such-program" in err
    assert out.exists()  # the report is still written


def test_every_required_row_field_is_documented_as_required():
    from conformance.report.implementations import REQUIRED

    docs = (Path(__file__).resolve().parents[2] / "docs" / "report.md").read_text()
    for key in REQUIRED:
        assert re.search(rf"^{key} = .*# required", docs, re.M), key


def test_a_command_client_row_runs_each_case_as_its_command(tmp_path: Path):
    """``client = { command = [...] }``: one process per case, ``{url}`` the case's URL (no
    bundled row is one now: the legacy sseclient moved to a harness, see its adapter)."""
    from conformance.client.runner import run_client_suite
    from conformance.client.targets import CommandTarget

    client = Path(__file__).resolve().parents[1] / "client" / "cmd_client.py"
    row = load_row(_row(tmp_path, f"""
        name = "my-cmd-client"
        role = "client"
        language = "Python"
        client = {{ command = ["{{python}}", "{client}", "{{url}}"] }}
        """))
    target = row.targets(tmp_path)["generic"]
    assert isinstance(target, CommandTarget)
    report = run_client_suite(target, pattern="LE-00[34]", chunkings=["whole"])
    assert {r.outcome.value for r in report.results} == {"pass"} and len(report.results) >= 2
