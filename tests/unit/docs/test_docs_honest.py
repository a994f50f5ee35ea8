"""The docs stay honest where that is mechanical: every relative link resolves, every
``ricecoder-otel`` command line they show parses (command, subcommand and flags exist), every
CLI command and every config section is on some page.

docs/configuration.md is generated and has its own test (tests/unit/config/test_config_reference.py).
"""

from __future__ import annotations

import argparse
import itertools
import re
from pathlib import Path

import pytest
import yaml

from ricecoder_otel.cli import build_parser
from ricecoder_otel.config import ConfigError, MonitoringConfig, load_config

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
HAND_WRITTEN = [page for page in PAGES if page.name != "configuration.md"]

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^[ \t]*```.*?^[ \t]*```", re.S | re.M)
_INLINE = re.compile(r"`((?:[^`\n]|\n(?![ \t]*\n))+)`")  # a code span may wrap, not cross a blank line
# A command line starts the code (or follows a shell prompt / operator); `ricecoder-otel[extra]`,
# paths like `ricecoder-otel/audit` and possessives are not command lines.
_COMMAND = re.compile(r"(?:^[ \t]*|[$;(]\s*|&&\s*|\|\s+|\.venv/bin/)ricecoder-otel((?:[ \t]+[^\s#;&>`]+)*)", re.M)
_FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)}


def _code(page: Path) -> list[str]:
    """Every fenced block and inline code span of a page (shell line continuations joined)."""
    text = page.read_text(encoding="utf-8")
    blocks = [block.replace("\\\n", " ") for block in _FENCE.findall(text)]
    return blocks + [span.replace("\n", " ") for span in _INLINE.findall(_FENCE.sub("", text))]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subs = _subcommands(parser)
    if not subs:
        return [path]
    return [leaf for name, sub in subs.items() for leaf in _leaves(sub, (*path, name))]


def _problems_in(words: list[str], parser: argparse.ArgumentParser, shown: str) -> list[str]:
    """What in one shown command line the CLI does not have; alternatives (`check|export`) each count."""
    path: list[str] = []
    while words and _subcommands(parser):
        word = words[0].strip("[]").replace("\\|", "|")
        if word.startswith("-"):
            break
        subs = _subcommands(parser)
        names = word.split("|")
        missing = [name for name in names if name not in subs]
        if missing:
            return [f"`{shown}`: no command `{' '.join(['ricecoder-otel', *path, *missing])}`"]
        if len(names) > 1:
            return [p for name in names for p in _problems_in([name, *words[1:]], parser, shown)]
        parser = subs[word]
        path.append(word)
        words = words[1:]
    known = _flags(parser)
    problems = [
        f"`{shown}`: `ricecoder-otel {' '.join(path)}` has no flag `{flag}`"
        for word in words
        for flag in _FLAG.findall(word.replace("\\|", "|"))
        if flag not in known
    ]
    choices = {flag: action.choices for action in parser._actions for flag in action.option_strings if action.choices}
    for flag, value in itertools.pairwise(words):
        allowed = choices.get(flag.strip("[]"))
        if allowed is not None:
            values = value.strip("[]").replace("\\|", "|").split("|")
            problems += [f"`{shown}`: `{flag.strip('[]')}` takes no value `{v}`" for v in values if v not in allowed]
    return problems


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target}: {dest} does not exist")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading with anchor #{anchor} in {_rel(dest)}")
    assert not broken, f"{_rel(page)}:\n" + "\n".join(broken)


@pytest.mark.parametrize("page", HAND_WRITTEN, ids=_rel)
def test_every_command_line_shown_exists_in_the_cli(page: Path) -> None:
    parser = build_parser()
    problems = []
    for code in _code(page):
        for match in _COMMAND.finditer(code):
            shown = "ricecoder-otel" + match.group(1)
            problems += _problems_in(match.group(1).split(), parser, shown.strip())
    assert not problems, f"{_rel(page)}:\n" + "\n".join(problems)


def test_the_checker_catches_a_command_or_flag_the_cli_does_not_have() -> None:
    parser = build_parser()
    assert _problems_in(["query", "spans", "--since", "10m"], parser, "x") == []
    assert _problems_in(["rules", "check|export"], parser, "x") == []
    assert _problems_in(["incidents", "ack", "ID", "[--actor|--by", "WHO]"], parser, "x") == []
    assert _problems_in(["query", "traces"], parser, "x") == ["`x`: no command `ricecoder-otel query traces`"]
    assert _problems_in(["rules", "check|lint"], parser, "x") == ["`x`: no command `ricecoder-otel rules lint`"]
    assert _problems_in(["perf", "profile", "ID", "[--format", "svg|pprof]"], parser, "x") == []
    no_value = "`x`: `--format` takes no value `flame`"
    assert _problems_in(["perf", "profile", "ID", "[--format", "svg|flame]"], parser, "x") == [no_value]
    no_flag = "`x`: `ricecoder-otel doctor` has no flag `--verbose`"
    assert _problems_in(["doctor", "--verbose"], parser, "x") == [no_flag]
    code = "ricecoder-otel query spans --since 10m   # recent\npip install 'ricecoder-otel[postgres]'"
    assert [m.group(1) for m in _COMMAND.finditer(code)] == [" query spans --since 10m"]


def test_every_cli_command_is_on_some_page() -> None:
    codes = [code.replace("\\|", "|") for page in HAND_WRITTEN for code in _code(page)]
    shown = {
        tuple(words)
        for code in codes
        for match in _COMMAND.finditer(code)
        for words in [[w.strip("[]") for w in match.group(1).split() if not w.startswith(("-", "[-"))]]
    }

    def on_a_page(leaf: tuple[str, ...]) -> bool:
        # `rules check|export` shows both leaves
        return any(
            len(words) >= len(leaf) and all(name in words[i].split("|") for i, name in enumerate(leaf))
            for words in shown
        )

    missing = [" ".join(leaf) for leaf in _leaves(build_parser()) if not on_a_page(leaf)]
    assert not missing, "commands no page shows: " + ", ".join(f"`ricecoder-otel {m}`" for m in missing)


def test_every_config_section_is_on_some_page() -> None:
    text = "\n".join(page.read_text(encoding="utf-8") for page in HAND_WRITTEN)
    missing = [
        name
        for name, info in MonitoringConfig.model_fields.items()
        if isinstance(info.annotation, type)
        and issubclass(info.annotation, MonitoringConfig.__mro__[1])
        and not re.search(rf"(?m)(^\s*{name}:|`{name}[.:`])", text)
    ]
    assert not missing, "config sections no hand-written page mentions: " + ", ".join(missing)


def _config_examples(page: Path) -> list[str]:
    """The page's YAML blocks that are ricecoder configuration (every top-level key a section)."""
    blocks = re.findall(r"^[ \t]*```ya?ml\n(.*?)^[ \t]*```", page.read_text(encoding="utf-8"), re.S | re.M)
    sections = set(MonitoringConfig.model_fields)
    return [block for block in blocks if isinstance(doc := yaml.safe_load(block), dict) and set(doc) <= sections]


@pytest.mark.parametrize("page", HAND_WRITTEN, ids=_rel)
def test_every_configuration_example_is_valid(page: Path, tmp_path: Path) -> None:
    problems = []
    for number, block in enumerate(_config_examples(page)):
        file = tmp_path / f"example{number}.yaml"
        file.write_text(block, encoding="utf-8")
        try:
            load_config(file, env={})
        except ConfigError as error:
            # an excerpt may route to channels the page defines in another block
            problems += [line for line in str(error).splitlines()[1:] if "unknown channel" not in line]
    assert not problems, f"{_rel(page)}:\n" + "\n".join(problems)


def _test_sources() -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8", errors="replace")
        for path in (ROOT / "tests").rglob("*.py")
        if "node_modules" not in path.parts
    }


def test_every_test_and_repository_path_the_docs_cite_exists() -> None:
    """A page that says "tested in X" names a test that is there; a path it cites is in the tree."""
    sources = _test_sources()
    functions = {name for text in sources.values() for name in re.findall(r"def (test_\w+)", text)}
    files = {path.name for path in sources} | {str(path.relative_to(ROOT)) for path in sources}
    missing = []
    for page in HAND_WRITTEN:
        for code in _INLINE.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):  # examples may invent names
            missing += [
                f"{_rel(page)}: test function {name}"
                for name in re.findall(r"(?<![\w/])(test_\w+)(?![\w.])", code)
                if name not in functions
            ]
            missing += [
                f"{_rel(page)}: test file {name}"
                for name in re.findall(r"(?<![\w/.-])((?:tests/[\w/.-]*)?test_\w+\.py)", code)
                if name not in files
            ]
            missing += [
                f"{_rel(page)}: {path}"
                for path in re.findall(
                    r"(?<![\w/.~-])((?:src|tests|benchmarks|scripts|collector-config|examples|\.ci)/[\w/.*-]*)", code
                )
                if not path.endswith((".", "-")) and not next(ROOT.glob(path.rstrip("/")), None)
            ]
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)


def test_every_dashboard_example_passes_dashboard_check(tmp_path: Path) -> None:
    from ricecoder_otel.dashboards.files import check_file

    page = ROOT / "docs" / "dashboards.md"
    blocks = re.findall(r"^[ \t]*```ya?ml\n(.*?)^[ \t]*```", page.read_text(encoding="utf-8"), re.S | re.M)
    examples = [block for block in blocks if re.search(r"(?m)^uid:", block) and re.search(r"(?m)^panels:", block)]
    assert examples, "docs/dashboards.md shows no dashboard document"
    for number, block in enumerate(examples):
        file = tmp_path / f"dashboard{number}.yaml"
        file.write_text(block, encoding="utf-8")
        dashboard, problems = check_file(file)
        errors = [problem for problem in problems if problem.severity == "error"]
        assert dashboard is not None and not errors, f"example {number}: {errors}"


# What the README says the test run installs, and the word a `.ci/steps` script must contain for it.
_INSTALLED_BY_STEPS = {
    "Prometheus": "prometheus",
    "Alertmanager": "prometheus-alertmanager",
    "PostgreSQL": "postgresql-15",
    "wrk": "missing+=(wrk)",
    "Chromium": "chromium",
    "openssl": "install -y -qq openssl",
    "npm": "npm",
    "Collector Builder": "builder",
    "Jaeger": "jaeger",
}


def test_the_readme_names_only_tools_the_test_run_installs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"installs what they need through `\.ci/steps/\*\.sh`:(.*?)\):", readme, re.S)
    assert found, "README.md no longer says what the test run installs"
    promised = " ".join(found.group(1).split())
    steps = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / ".ci" / "steps").glob("*.sh")))
    assert [name for name in _INSTALLED_BY_STEPS if name not in promised] == [], promised
    assert [name for name, word in _INSTALLED_BY_STEPS.items() if word not in steps] == []
