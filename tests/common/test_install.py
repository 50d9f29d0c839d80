"""The base install is what checking servers and clients needs; the rest lives in extras.

The tests block the optional packages (as if never installed) and use every face, so an import
of FastAPI, uvicorn, sse-starlette, requests or hypothesis on those paths fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = ("fastapi", "starlette", "sse_starlette", "uvicorn", "requests", "hypothesis")
BLOCK = f"""import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {OPTIONAL!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
"""


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK + code], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT / "tests" / "apps")})


def _cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return _run(f"from conformance.cli import main\nsys.exit(main({list(argv)!r}))", cwd)


def test_optional_stacks_are_extras_and_dev_pulls_everything():
    """Read from the installed distribution's metadata: what pip would install."""
    declared = requires("sse-conformance") or []
    base = " ".join(d for d in declared if "extra ==" not in d).lower()
    assert "httpx" in base and not [name for name in ("fastapi", "uvicorn", "sse-starlette", "requests",
                                                      "hypothesis") if name in base]

    def extra(name: str) -> str:
        return " ".join(d for d in declared if f'extra == "{name}"' in d)

    assert "uvicorn" in extra("asgi") and "fastapi" in extra("reference")
    assert "sse-conformance[asgi,reference,report]" in extra("dev") and "hypothesis" in extra("dev")


def test_server_and_client_checks_work_without_the_extras():
    server = _cli("server", "--app", "sse_apps:wsgi_app", "/events", "-q")
    assert server.returncode == 0 and "CONFORMS" in server.stdout, server.stderr
    client = _cli("client", "naive_clients:good_client", "-k", "LE-003", "--chunking", "whole", "-q",
                  cwd=ROOT / "tests" / "client")
    assert client.returncode == 0, client.stdout + client.stderr
    for argv in (["rules", "S-09"], ["cases", "-k", "LE-00*"]):
        assert _cli(*argv).returncode == 0


def test_a_missing_extra_is_named_in_one_line():
    asgi = _cli("server", "--app", "sse_apps:asgi_app", "/events")
    assert asgi.returncode == 2 and "pip install 'sse-conformance[asgi]'" in asgi.stderr
    serve = _cli("serve", "fastapi", "--port", "0")
    assert serve.returncode == 2 and "sse-conformance[reference]" in serve.stderr
    assert len(serve.stderr.strip().splitlines()) == 1


def test_the_pytest_plugin_loads_without_the_extras(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    done = _run(f"import pytest\nsys.exit(pytest.main(['-q', '-p', 'no:xdist', '-p', 'no:hypothesispytest', "
                f"'--rootdir', {str(tmp_path)!r}, "
                f"{str(tmp_path)!r}]))", tmp_path)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
