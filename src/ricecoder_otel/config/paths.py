"""Walk the config model by path: what type lives at ``alerting.rules[0].for``, which keys a
section accepts, and how a path is spelled in messages and environment variables."""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr

from ricecoder_otel.config.model import MonitoringConfig

ENV_PREFIX = "RICECODER_"
ENV_SEPARATOR = "__"

Loc = Sequence[str | int]


def format_path(loc: Loc) -> str:
    """``("alerting", "rules", 3, "for")`` -> ``alerting.rules[3].for``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def env_var_name(loc: Sequence[str]) -> str:
    """``("metrics", "cardinality_limit")`` -> ``RICECODER_METRICS__CARDINALITY_LIMIT``."""
    return ENV_PREFIX + ENV_SEPARATOR.join(part.upper() for part in loc)


def unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``None`` from an annotation: ``Annotated[X, ...] | None`` -> ``X``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def is_optional(tp: Any) -> bool:
    """True when ``None`` is an accepted value of the annotation."""
    origin = get_origin(tp)
    if origin is Annotated:
        return is_optional(get_args(tp)[0])
    return (origin is Union or origin is types.UnionType) and type(None) in get_args(tp)


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def model_keys(model: type[BaseModel]) -> dict[str, str]:
    """Keys a section accepts, as written in files (aliases win), mapped to field names."""
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def type_at(loc: Loc, root: type[BaseModel] = MonitoringConfig) -> Any | None:
    """The annotation of the value at ``loc``, or None when no such path exists."""
    tp: Any = root
    for part in loc:
        base = unwrap(tp)
        origin = get_origin(base)
        if is_model(base):
            if not isinstance(part, str):
                return None
            name = model_keys(base).get(part, part)
            field = base.model_fields.get(name)
            if field is None:
                return None
            tp = field.annotation if not field.metadata else Annotated[(field.annotation, *field.metadata)]
        elif origin is list and isinstance(part, int):
            tp = get_args(base)[0]
        elif origin is dict and isinstance(part, str):
            tp = get_args(base)[1]
        elif (origin is Union or origin is types.UnionType) and isinstance(part, str):
            # A tagged union (alerting.channels[0]): pydantic puts the tag ("slack") in the location.
            tagged = [m for m in get_args(base) if is_model(m) and _has_tag(m, part)]
            if len(tagged) != 1:
                return None
            tp = tagged[0]
        else:
            return None
    return tp


def _has_tag(model: type[BaseModel], tag: str) -> bool:
    """True when one of the model's fields is a ``Literal`` that allows ``tag``."""
    for field in model.model_fields.values():
        annotation = unwrap(field.annotation)
        if get_origin(annotation) is Literal and tag in get_args(annotation):
            return True
    return False


def is_secret_type(tp: Any) -> bool:
    return unwrap(tp) is SecretStr
