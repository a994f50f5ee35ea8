"""Build our collector distribution with the OpenTelemetry Collector Builder (ocb) and cache it.

The binary is cached under ``~/.cache/ricecoder/collector/<digest>/`` where the digest is the
sha256 of the manifest and of the local modules it replaces (``detector-stubs/``), so a changed
manifest builds a new binary and an unchanged one is reused. ocb itself is installed through the
Go module proxy with ``go install`` at the manifest's collector release. A build takes many
minutes on two cores, so it runs under ``nice`` and reports progress.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ricecoder_otel.collector.layout import manifest_path

CACHE_ENV = "RICECODER_CACHE_DIR"
BUILDER_MODULE = "go.opentelemetry.io/collector/cmd/builder"
Progress = Callable[[str], None]


class BuildError(RuntimeError):
    """The collector could not be built; the message says which step failed and why."""


@dataclass(frozen=True)
class Manifest:
    """The ocb manifest: our distribution's name and collector release, and its local modules."""

    path: Path
    name: str
    version: str
    document: dict[str, Any]
    local_modules: tuple[Path, ...]

    @property
    def builder_version(self) -> str:
        return f"v{self.version}"


@dataclass(frozen=True)
class BuildResult:
    """Where the binary is, how long the build took, and whether the cache served it."""

    binary: Path
    seconds: float
    cached: bool


def load_manifest(path: Path | None = None) -> Manifest:
    """Read the ocb manifest and the local module folders its ``replaces`` point at."""
    path = path or manifest_path()
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as exc:  # position and problem only: the line itself is not echoed
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise BuildError(f"{where}: not valid YAML ({exc.problem or 'unparseable'})") from None
    except yaml.YAMLError:
        raise BuildError(f"{path}: not valid YAML") from None
    if not isinstance(document, dict) or not isinstance(document.get("dist"), dict):
        raise BuildError(f"{path}: not an ocb manifest (no 'dist' section)")
    dist = document["dist"]
    for key in ("name", "version"):
        if not isinstance(dist.get(key), str) or not dist[key]:
            raise BuildError(f"{path}: dist.{key} must be a non-empty string")
    local = tuple(path.parent / target for _, target in _replaces(document) if target.startswith("./"))
    for module in local:
        if not (module / "go.mod").is_file():
            raise BuildError(f"{path}: replace target {module} has no go.mod")
    return Manifest(path, dist["name"], dist["version"], document, local)


def _replaces(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for entry in document.get("replaces") or []:
        source, sep, target = str(entry).partition("=>")
        if not sep:
            raise BuildError(f"replace entry {entry!r} has no '=>'")
        yield source.strip(), target.strip()


def manifest_digest(manifest: Manifest) -> str:
    """sha256 over the manifest and every file of the local modules it uses."""
    digest = hashlib.sha256(manifest.path.read_bytes())
    for module in manifest.local_modules:
        for file in sorted(p for p in module.rglob("*") if p.is_file()):
            digest.update(str(file.relative_to(manifest.path.parent)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def cache_root() -> Path:
    """``$RICECODER_CACHE_DIR/collector``, else ``~/.cache/ricecoder/collector``."""
    base = os.environ.get(CACHE_ENV) or str(Path.home() / ".cache" / "ricecoder")
    return Path(base) / "collector"


def binary_path(manifest: Manifest | None = None) -> Path:
    """Where the binary for this manifest lives once built (it may not exist yet)."""
    manifest = manifest or load_manifest()
    return cache_root() / manifest_digest(manifest) / manifest.name


def require_binary() -> Path:
    """The built collector, or a BuildError telling how to build it."""
    path = binary_path()
    if not path.is_file():
        raise BuildError(
            f"the ricecoder collector is not built yet (expected {path}); "
            "run `ricecoder-otel collector build` or `bash .ci/steps/collector.sh`"
        )
    return path


def build(progress: Progress, force: bool = False) -> BuildResult:
    """Build the collector for the current manifest unless a cached binary exists."""
    manifest = load_manifest()
    target = binary_path(manifest)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / ".lock"):
        if target.is_file() and not force:
            progress(f"using cached collector {target}")
            return BuildResult(target, 0.0, cached=True)
        go = shutil.which("go")
        if go is None:
            raise BuildError("the Go toolchain is not on PATH; install Go 1.26 or newer to build the collector")
        started = time.monotonic()
        builder = _ensure_builder(go, manifest.builder_version, progress)
        workdir = target.parent / "build"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir()
        generated = workdir / "manifest.yaml"
        generated.write_text(yaml.safe_dump(_for_build(manifest, workdir / "src"), sort_keys=False))
        progress(f"building {manifest.name} {manifest.version} with ocb {manifest.builder_version} (takes minutes)")
        _run(_niced([str(builder), f"--config={generated}"]), workdir, progress, "ocb")
        built = workdir / "src" / manifest.name
        if not built.is_file():
            raise BuildError(f"ocb finished but produced no binary at {built}")
        os.replace(built, target)
        seconds = time.monotonic() - started
        (target.parent / "build.json").write_text(
            json.dumps({"seconds": round(seconds, 1), "ocb": manifest.builder_version, "manifest": str(manifest.path)})
        )
        shutil.rmtree(workdir, ignore_errors=True)
        progress(f"built {target} in {seconds:.0f} s")
        return BuildResult(target, seconds, cached=False)


def _for_build(manifest: Manifest, output: Path) -> dict[str, Any]:
    """The manifest with its output path and local replace targets made absolute."""
    document = dict(manifest.document)
    document["dist"] = {**document["dist"], "output_path": str(output)}
    if "replaces" in document:
        document["replaces"] = [
            f"{source} => {manifest.path.parent / target if target.startswith('./') else target}"
            for source, target in _replaces(document)
        ]
    return document


def _ensure_builder(go: str, version: str, progress: Progress) -> Path:
    gobin = cache_root() / "ocb" / version
    builder = gobin / "builder"
    if builder.is_file():
        return builder
    progress(f"installing ocb {version} through the Go module proxy")
    env = {**os.environ, "GOBIN": str(gobin)}
    _run(_niced([go, "install", f"{BUILDER_MODULE}@{version}"]), None, progress, "go install", env)
    if not builder.is_file():
        raise BuildError(f"go install {BUILDER_MODULE}@{version} produced no binary in {gobin}")
    return builder


def _niced(command: list[str]) -> list[str]:
    nice = shutil.which("nice")
    return [nice, "-n", "10", *command] if nice else command


def _run(
    command: list[str], cwd: Path | None, progress: Progress, step: str, env: dict[str, str] | None = None
) -> None:
    """Run a build step, relaying its stage lines and a heartbeat; keep the tail for the error."""
    lines: queue.Queue[str | None] = queue.Queue()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    assert process.stdout is not None
    stream = process.stdout

    def pump() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    tail: list[str] = []
    started = last_beat = time.monotonic()
    while True:
        try:
            line = lines.get(timeout=5)
        except queue.Empty:
            line = ""
        if line is None:
            break
        if line:
            tail = [*tail[-39:], line]
            fields = line.split("\t")
            if len(fields) > 3 and fields[1] == "INFO":  # ocb's log: time, level, caller, message, details
                progress(f"{step}: {fields[3]}")
        now = time.monotonic()
        if now - last_beat >= 30:
            progress(f"{step}: still working ({now - started:.0f} s)")
            last_beat = now
    if process.wait() != 0:
        detail = "\n".join(line for line in tail if "go: downloading" not in line)
        raise BuildError(f"{step} failed (exit {process.returncode}):\n{detail}")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive file lock, so two builds of the same manifest do not race."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
