"""The real YAML language server (the npm package an editor such as VS Code runs), on a repository
made by `acudeck init`: the schemas that init writes and the modelines that point to them give a
card author errors and completion as they type.

The server is installed with npm into a folder of its own (ACUDECK_TOOLS, default
~/.cache/acudeck-tools/; .ci/run installs it there); the test is skipped where node or npm is
missing or the install fails."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from acudeck.cardtypes import CARD_TYPES
from acudeck.scaffold import init

YAML_LANGUAGE_SERVER = "1.25.0"  # .ci/run reads this line
TIMEOUT = 20


def _server() -> Path:
    tools = Path(os.environ.get("ACUDECK_TOOLS") or Path.home() / ".cache" / "acudeck-tools")
    prefix = tools / f"yaml-language-server-{YAML_LANGUAGE_SERVER}"
    script = prefix / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("needs node and npm (to run the npm package yaml-language-server)")
    if not script.is_file():
        done = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"yaml-language-server@{YAML_LANGUAGE_SERVER}"], capture_output=True, text=True, timeout=120
        )
        if done.returncode or not script.is_file():
            pytest.skip(f"could not install yaml-language-server@{YAML_LANGUAGE_SERVER} with npm: {done.stderr.strip()[-300:]}")
    return script


class LanguageServer:
    """A minimal LSP client over the server's standard streams (JSON-RPC with Content-Length headers)."""

    def __init__(self, script: Path, root: Path):
        self.process = subprocess.Popen(["node", str(script), "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=root)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream
        while True:
            length = 0
            while (line := stream.readline().strip()) != b"":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not length:
                return
            self.messages.put(json.loads(stream.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.wait(lambda message: message.get("id") == self.next_id and "method" not in message)["result"]

    def wait(self, wanted) -> dict[str, Any]:
        """The next message `wanted` accepts; the server's own requests meanwhile are answered."""
        while True:
            message = self.messages.get(timeout=TIMEOUT)
            if "method" in message and "id" in message:  # workspace/configuration, client/registerCapability
                settings = [SETTINGS["yaml"]] * len(message.get("params", {}).get("items", []))
                self.send({"id": message["id"], "result": settings if message["method"] == "workspace/configuration" else None})
            elif wanted(message):
                return message

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


SETTINGS = {"yaml": {"validate": True, "completion": True, "hover": True, "schemaStore": {"enable": False}}}


def _open(server: LanguageServer, path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
    return uri


@pytest.fixture
def language_server(tmp_path):
    script = _server()
    init(tmp_path / "course", key="course")
    server = LanguageServer(script, tmp_path / "course")
    server.request("initialize", {"processId": os.getpid(), "rootUri": (tmp_path / "course").as_uri(), "capabilities": {"workspace": {"configuration": True}}})
    server.notify("initialized", {})
    server.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
    yield server, tmp_path / "course"
    server.close()


def _modeline(repo: Path) -> str:
    return (repo / "cards_src" / "course" / "samples.yaml").read_text("utf-8").splitlines()[0] + "\n"


def test_the_language_server_reports_a_misspelled_key_through_the_scaffolded_schema(language_server):
    server, repo = language_server
    text = _modeline(repo) + "cards:\n  - id: my-card\n    type: basic\n    front: A question\n    bakc: An answer\n"
    uri = _open(server, repo / "cards_src" / "course" / "mine.yaml", text)
    published = server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri and m["params"]["diagnostics"])
    messages = {(d["range"]["start"]["line"], d["message"]) for d in published["params"]["diagnostics"]}
    assert (5, "Property bakc is not allowed.") in messages, messages
    assert (2, 'Missing property "back".') in messages, messages  # at the card's first line


def test_the_language_server_completes_a_card_type_from_the_scaffolded_schema(language_server):
    server, repo = language_server
    text = _modeline(repo) + "cards:\n  - id: my-card\n    type: bas\n"
    uri = _open(server, repo / "cards_src" / "course" / "mine.yaml", text)
    result = server.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": {"line": 3, "character": len("    type: bas")}})
    labels = {item["label"] for item in (result["items"] if isinstance(result, dict) else result)}
    assert labels >= set(CARD_TYPES), labels


def test_the_editor_settings_alone_map_a_card_file_without_a_modeline(language_server):
    """.vscode/settings.json's yaml.schemas, as VS Code sends them to the server, cover a new card file."""
    server, repo = language_server
    SETTINGS["yaml"]["schemas"] = json.loads((repo / ".vscode" / "settings.json").read_text("utf-8"))["yaml.schemas"]
    try:
        server.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
        uri = _open(server, repo / "cards_src" / "course" / "new.yaml", "cards:\n  - id: my-card\n    type: basic\n    front: A question\n    bakc: An answer\n")
        published = server.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri and m["params"]["diagnostics"])
        assert "Property bakc is not allowed." in {d["message"] for d in published["params"]["diagnostics"]}
    finally:
        SETTINGS["yaml"].pop("schemas")
