"""A small renderer for the Prometheus alert templates used in annotations.

Supported (what rule files use in practice): ``{{ $labels.name }}``, ``{{ .Labels.name }}``,
``{{ $value }}``, ``{{ .Value }}``, pipelines and calls of ``humanize``, ``humanize1024``,
``humanizeDuration``, ``humanizePercentage``, ``printf "<fmt>"``, ``toUpper``, ``toLower``, and
trimmed delimiters (``{{-`` / ``-}}``). Numbers print as Go prints a float64. Anything else
raises :class:`TemplateError`; the caller falls back to the raw text and reports it once.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Mapping

_ACTION = re.compile(r"(\s*)\{\{(-?)(.*?)(-?)\}\}(\s*)", re.S)


class TemplateError(ValueError):
    """A template that cannot be rendered here; the message says why."""


def go_float(value: float) -> str:
    """``fmt.Sprint(float64)``: shortest representation, exponent from 1e21 and below 1e-4."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{abs(int(exponent)):02d}"
    return text


def _g4(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{exponent[0]}{abs(int(exponent)):02d}"
    return text


def humanize(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return _g4(value)
    prefix = ""
    if abs(value) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
        return _g4(value) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix, value = p, value * 1000
    return _g4(value) + prefix


def humanize1024(value: float) -> str:
    if abs(value) <= 1 or not math.isfinite(value):
        return _g4(value)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(value) < 1024:
            break
        prefix, value = p, value / 1024
    return _g4(value) + prefix


def humanize_duration(value: float) -> str:
    if not math.isfinite(value):
        return _g4(value)
    if value == 0:
        return _g4(value) + "s"
    if abs(value) >= 1:
        sign = "-" if value < 0 else ""
        value = abs(value)
        whole = int(value)
        seconds, minutes, hours, days = whole % 60, whole // 60 % 60, whole // 3600 % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(value)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix, value = p, value * 1000
    return f"{_g4(value)}{prefix}s"


def humanize_percentage(value: float) -> str:
    return _g4(value * 100) + "%"


_NUMERIC: dict[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizeDuration": humanize_duration,
    "humanizePercentage": humanize_percentage,
}


def render(template: str, labels: Mapping[str, str], value: float) -> str:
    """Render ``template`` with ``$labels`` and ``$value``; raises :class:`TemplateError`."""
    if "{{" not in template:
        return template
    out: list[str] = []
    position = 0
    for match in _ACTION.finditer(template):
        lead, trim_left, body, trim_right, trail = match.groups()
        out.append(template[position : match.start()])
        out.append("" if trim_left else lead)
        out.append(_evaluate(body.strip(), labels, value))
        out.append("" if trim_right else trail)
        position = match.end()
    rest = template[position:]
    if "{{" in rest or "}}" in rest:
        raise TemplateError("unclosed action '{{'" if "{{" in rest else "unexpected '}}'")
    return "".join([*out, rest])


def _evaluate(body: str, labels: Mapping[str, str], value: float) -> str:
    stages = [s.strip() for s in body.split("|")]
    result: str | float | None = None
    for index, stage in enumerate(stages):
        try:
            words = shlex.split(stage)
        except ValueError as error:
            raise TemplateError(f"cannot parse '{stage}': {error}") from None
        if not words:
            raise TemplateError("empty action")
        args: list[str | float] = [_operand(w, labels, value) if w.startswith(("$", ".")) else w for w in words[1:]]
        if index > 0:
            args.append(_need(result))
        head = words[0]
        if head.startswith(("$", ".")) and index == 0 and len(words) == 1:
            result = _operand(head, labels, value)
        else:
            result = _call(head, args)
    return go_float(result) if isinstance(result, float) else str(result)


def _need(result: str | float | None) -> str | float:
    if result is None:
        raise TemplateError("a pipeline needs a value")
    return result


def _operand(word: str, labels: Mapping[str, str], value: float) -> str | float:
    if word in ("$value", ".Value"):
        return value
    for prefix in ("$labels.", ".Labels."):
        if word.startswith(prefix):
            return labels.get(word[len(prefix) :], "")  # Go prints a missing key as <no value>; empty is kinder
    raise TemplateError(f"unknown variable '{word}'")


def _call(name: str, args: list[str | float]) -> str | float:
    if name in _NUMERIC:
        if len(args) != 1:
            raise TemplateError(f"{name} takes one argument")
        return _NUMERIC[name](_number(args[0]))
    if name in ("toUpper", "toLower") and len(args) == 1:
        text = str(args[0])
        return text.upper() if name == "toUpper" else text.lower()
    if name == "printf" and args:
        fmt, *rest = args
        try:
            return str(fmt) % tuple(_number(a) if isinstance(a, float) else a for a in rest)
        except (TypeError, ValueError) as error:
            raise TemplateError(f"printf {fmt!r}: {error}") from None
    raise TemplateError(f"function '{name}' is not supported")


def _number(arg: str | float) -> float:
    try:
        return float(arg)
    except ValueError:
        raise TemplateError(f"expected a number, got {arg!r}") from None
