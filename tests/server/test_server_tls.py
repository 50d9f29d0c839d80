"""HTTPS with a private CA, and HTTP/2: hypercorn serving the FastAPI reference app.

The CA is made by trustme, so no store trusts it: --cacert or SSL_CERT_FILE make it verify,
-k skips verification, and without either the run is one line on stderr and exit 2 (the URL
cannot be used), never a page of errors blamed on the server.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("hypercorn", reason="hypercorn is in the dev extra: pip install -e '.[dev]'")
pytest.importorskip("trustme", reason="trustme is in the dev extra: pip install -e '.[dev]'")

import tls_server

from conformance.cli import main

PATH = "/events?count=3"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with tls_server.running(tmp_path_factory.mktemp("tls")) as served:
        yield served


def test_cacert_verifies_a_private_ca(served, capsys, tmp_path):
    out_json = tmp_path / "r.json"
    argv = ["server", served.https + PATH, "--cacert", str(served.ca), "--json-report", str(out_json)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "(profile generic, GET, HTTP/1.1)" in out and "200 HTTP/1.1" in out and "CONFORMS" in out
    assert json.loads(out_json.read_text())["meta"]["http_version"] == "HTTP/1.1"


def test_http2_over_tls_is_negotiated_and_shown(served, capsys, tmp_path):
    out_json = tmp_path / "r.json"
    code = main(["server", served.https + PATH, "--cacert", str(served.ca), "--http2",
                 "--json-report", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "(profile generic, GET, HTTP/2)" in out and "200 HTTP/2," in out
    assert "✔ S-05" in out  # judged where it matters, and hypercorn sends no connection headers
    meta = json.loads(out_json.read_text())["meta"]
    assert meta["http_version"] == "HTTP/2" and meta["http_asked"] == "HTTP/2"


def test_h2c_with_prior_knowledge(served, capsys):
    assert main(["server", served.http + PATH, "--http2-prior-knowledge"]) == 0
    assert "200 HTTP/2," in capsys.readouterr().out


def test_untrusted_certificate_is_one_line_and_exit_2(served, capsys):
    assert main(["server", served.https + PATH]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == "" and "\n" not in err and "Traceback" not in err
    assert "certificate is not trusted" in err and "--cacert" in err and "-k/--insecure" in err


def test_ssl_cert_file_is_honoured(served, capsys, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(served.ca))
    assert main(["server", "-q", served.https + PATH]) == 0


def test_insecure_skips_verification(served, capsys):
    assert main(["server", "-q", "-k", served.https + PATH]) == 0


@pytest.mark.parametrize(("argv", "says"), [
    (["--http2", "http://127.0.0.1:1/"], "use an https:// URL"),
    (["--http2-prior-knowledge", "https://127.0.0.1:1/"], "for http:// URLs"),
    (["--cacert", "/nonexistent/ca.pem", "https://127.0.0.1:1/"], "no such file"),
])
def test_transport_options_that_cannot_work_are_usage_errors(argv, says, capsys):
    assert main(["server", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err
