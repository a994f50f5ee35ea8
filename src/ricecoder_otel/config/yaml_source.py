"""Read a YAML config file into plain data plus the line of every key, for messages that
point at the right line. Unreadable files, malformed YAML, several documents, duplicate keys
and a document that is not a mapping are reported as problems, never as tracebacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ricecoder_otel.config.errors import ConfigProblem
from ricecoder_otel.config.paths import format_path

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathKey = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """The parsed mapping, key lines (1-based) by path, and the problems found."""

    data: dict[str, Any] = field(default_factory=dict)
    lines: dict[PathKey, int] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)


def read_yaml(path: Path) -> YamlDocument:
    """Read and parse ``path``; a file that cannot be read is an ``unreadable`` problem."""
    doc = YamlDocument()
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        doc.problems.append(ConfigProblem("", "file not found", name, "unreadable"))
        return doc
    except IsADirectoryError:
        doc.problems.append(ConfigProblem("", "is a directory, expected a YAML file", name, "unreadable"))
        return doc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        doc.problems.append(ConfigProblem("", f"cannot read the file: {reason}", name, "unreadable"))
        return doc
    return decode_yaml(raw, name)


def decode_yaml(raw: bytes, name: str) -> YamlDocument:
    """Parse the bytes of a config file; ``name`` prefixes positions in problems."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (invalid byte at offset {exc.start})"
        return YamlDocument(problems=[ConfigProblem("", message, name, "syntax")])
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> YamlDocument:
    """Parse ``text``; ``name`` (usually the file path) prefixes positions in problems."""
    doc = YamlDocument()
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # Only the problem and its position: str(exc) quotes the line, which may hold a secret.
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = exc.problem or exc.context or "unparseable"
        doc.problems.append(ConfigProblem("", f"malformed YAML: {problem}", where, "syntax"))
        return doc
    except yaml.YAMLError:
        doc.problems.append(ConfigProblem("", "malformed YAML", name, "syntax"))
        return doc
    except RecursionError:
        doc.problems.append(ConfigProblem("", "malformed YAML: nested too deeply", name, "syntax"))
        return doc
    finally:
        loader.dispose()
    if node is None or data is None:
        return doc
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        doc.problems.append(
            ConfigProblem("", f"expected a mapping of sections at the top level, got {kind}", name, "syntax")
        )
        return doc
    doc.data = data
    _index(node, (), name, doc, set())
    return doc


def _index(node: yaml.Node, path: PathKey, name: str, doc: YamlDocument, visited: set[int]) -> None:
    """Record the line of every key and report duplicate keys (YAML would keep the last).

    Aliases point at nodes already indexed; they are walked once so that a file of nested
    aliases (a "billion laughs" document) stays cheap.
    """
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            child: PathKey = (*path, key)
            if key in seen:
                doc.problems.append(
                    ConfigProblem(
                        format_path(child),
                        f"duplicate key (also on line {seen[key]}; one value would be silently lost)",
                        f"{name}:{line}",
                    )
                )
            seen[key] = line
            doc.lines[child] = line
            _index(value_node, child, name, doc, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            doc.lines.setdefault(child, item.start_mark.line + 1)
            _index(item, child, name, doc, visited)
