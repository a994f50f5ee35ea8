"""The built-in detectors: value patterns with validators, and sensitive key names.

Every pattern is written for linear-time scanning with Python's backtracking ``re``: no
unbounded repeat contains another repeat, and repeats are bounded. Each detector also lists
anchors: short regexes, written for lowercased text, such that every match of any of its
patterns contains a match of one anchor (a fixed piece of the pattern: the ``@`` and domain of
an email, twelve digits of a card number, the keyword and ``=`` of a password). The redactor
combines every detector's anchors into one gate (see ``gate``), so a clean value costs one
regex scan instead of a dozen; ``tests/unit/compliance/redaction/test_gate.py`` checks the
containment (and ``test_prescreen.py`` that the gated redactor's output never differs). Anchors
are written to be cheap in Python's ``re``: a number's anchor starts at a separator after a digit
where it can (``[\\-. ](?<=\\d.)...``), or checks first that its digit starts a number
(``\\d(?<!\\d\\d)``), so a value full of digits (a UUID, a version) costs few attempts.
Patterns with a capturing group redact only the first group that matched (the value
of ``password=...``, the ``user:pass`` of a URL); the rest of the match stays readable.

``COLLECTOR`` holds the RE2 form of each detector for the collector agent's ``redaction``
processor (no look-around, no validators): the shipped agent.yaml is checked against it.
Plain Python, no OpenTelemetry imports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ricecoder_otel.compliance.redaction import validators as v

Validator = Callable[[str, str], bool]
"""``(candidate, up to 24 characters before it) -> keep?``"""


@dataclass(frozen=True)
class Detector:
    """One named kind of sensitive value."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    validate: Validator | None = None
    anchors: tuple[str, ...] = ()
    """Regexes for lowercased text; every match of a pattern contains a match of one of them.
    Empty: the detector runs on every value (custom patterns)."""
    normalize: Callable[[str], str] = field(default=lambda text: text)
    """What a keyed hash is computed over, so the same value hashes alike however it is written."""
    shrink: bool = False
    """On a failed validation, retry without trailing space-separated chunks (IBANs before a word)."""
    needs: tuple[re.Pattern[str] | None, ...] = ()
    """Per pattern (same order), a cheap regex the value must contain for that pattern to run."""
    lead: int | None = None
    """At most how many characters before its leftmost anchor match a pattern match can start, so
    the patterns scan from there, not from the start of the value (None: from the start).
    ``test_gate`` checks it on the corpus and on text generated from every pattern."""


_DIGIT = re.compile(r"\d")


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


def _one(check: Callable[[str], bool]) -> Validator:
    return lambda candidate, _before: check(candidate)


_FILE_EXTENSIONS = frozenset(
    ("png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "js", "mjs", "css", "map",
     "json", "txt", "html", "htm", "xml", "pdf", "zip", "gz", "tar", "woff", "woff2", "ttf", "eot", "mp4", "mp3",
     "wav", "webm", "py", "rb", "go", "rs", "java")
)


def _email_ok(candidate: str, _before: str) -> bool:
    local, _, domain = candidate.rpartition("@")
    return domain.rsplit(".", 1)[-1].lower() not in _FILE_EXTENSIONS and not local.startswith(".")


def _ip_ok(candidate: str, before: str) -> bool:
    if ":" in candidate:  # a trailing colon is punctuation ("from 2001:db8::1: refused"), unless it is "::"
        return v.ipv6_ok(candidate[:-1] if candidate.endswith(":") and not candidate.endswith("::") else candidate,
                         before)
    if re.search(r"[A-Za-z]/$", before):  # a product token: Chrome/120.0.0.1
        return False
    return v.ipv4_ok(candidate, before)


def _phone_ok(minimum: int) -> Validator:
    return lambda candidate, _before: minimum <= len(v.digits_of(candidate)) <= 15 and v.phone_ok(candidate)


_PLACEHOLDERS = frozenset({"true", "false", "null", "none", "nil", "undefined", "***", "****", "redacted", "xxx"})


def _secret_value_ok(candidate: str, _before: str) -> bool:
    stripped = candidate.strip("\"'")
    if stripped.isdigit() and len(stripped) < 6:  # "tokens: 512", "session: 3" are counts, not secrets
        return False
    return stripped.lower() not in _PLACEHOLDERS and not stripped.startswith(("[REDACTED", "[HASHED", "${", "{{"))


def _query_secret_ok(candidate: str, before: str) -> bool:
    return len(candidate) >= 4 and _secret_value_ok(candidate, before)


def _bearer_ok(candidate: str, before: str) -> bool:
    return v.token_ok(candidate)


def _auth_ok(candidate: str, before: str) -> bool:
    if re.search(r"(?i)basic\s*$", before):
        return v.basic_credentials_ok(candidate)
    return v.token_ok(candidate)


def _api_key_ok(candidate: str, _before: str) -> bool:
    if candidate.startswith("sk-") and "-----" not in candidate:
        return _has_digit(candidate)
    return True


def _lower(text: str) -> str:
    return text.lower()


def _alnum_upper(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


_SECRET_WORDS = (
    r"passw(?:or)?d|passphrase|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key|secret[_-]?key"
    r"|access[_-]?token|auth[_-]?token|refresh[_-]?token|id[_-]?token|token|session[_-]?id|sessionid"
    r"|account[_-]?key|shared[_-]?access[_-]?key|private[_-]?key|credentials?|session|cookie"
    r"|jsessionid|phpsessid|csrf[_-]?token|xsrf[_-]?token|set-cookie|x-api-key|x-auth-token"
)
_QUERY_SECRETS = (
    r"[\w-]{0,30}?(?:token|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|signature|credential)[\w-]{0,30}"
    r"|key|sig|code|auth|authorization|session|sessionid|session_id|jsessionid|sid"
)


_EXT = r"(?!x\d|ext\.?\s?\d)"
"""Before a phone number's end check: an extension (``555-123-4567x890``) may follow; it is kept."""

_PHONE_WORDS = (
    "tel", "telefon", "telefono", "teléfono", "téléphone", "tél", "phone", "mobile", "mob", "cell", "fax", "handy",
    "whatsapp", "sms",
)


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


BUILTIN: dict[str, Detector] = {
    detector.name: detector
    for detector in (
        Detector(
            "email",
            (_c(r"(?<![\w.%+-])[\w.%+-]{1,64}@(?:[\w-]{1,63}\.){1,8}[^\W\d_]{2,24}(?![\w-]|\.\w)"),),
            _email_ok,
            (r"@[\w-]{1,63}\.",),
            _lower,
            lead=64,  # the local part before the @
        ),
        Detector(
            "credit_card",
            (
                _c(r"\d(?<![\w.,-]\d)(?:[ -]?\d){11,18}(?![\w-]|[.,]\d)"),
                _c(r"\d(?<![\w.,-]\d)\d{3}\.\d{4}\.\d{4}\.\d{4}(?![\w-]|[.,]\d)"),
            ),
            _one(v.card_ok),
            (r"\d(?<!\d\d)(?=[\d -]{11})(?:[ -]?\d){11}", r"\.(?<=\d.)(?<=\d{4}\.)\d{4}\.\d{4}\.\d"),
            v.digits_of,
            lead=4,  # the first group of a dot-grouped number, before its first dot
        ),
        Detector(
            "ssn",
            (
                _c(r"\d(?<![\w.-]\d)\d{2}([- ])\d{2}\1\d{4}(?![\w-]|\.\d)"),
                _c(r"(?i)\b(?:ssn|social security(?: number| no\.?| #)?)\W{0,4}(?P<v>\d{9})(?!\w)"),
            ),
            _one(v.ssn_ok),
            (r"[\- ](?<=\d.)(?<=\d{3}[\- ])\d\d[\- ]\d{4}", r"ssn\W{0,4}\d{9}",
             r"security(?: number| no\.?| #)?\W{0,4}\d{9}"),
            v.digits_of,
            needs=(_c(r"\d[- ]\d\d[- ]\d"), _c(r"(?i)ssn|social")),
            lead=7,  # "social " before "security"
        ),
        Detector(
            "iban",
            (_c(r"[A-Za-z](?<![\w-][A-Za-z])[A-Za-z]\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?(?![\w-])"),),
            _one(v.iban_ok),
            (r"\d(?<!\d\d)(?<=[a-z][a-z]\d)\d ?[a-z0-9]{4} ?[a-z0-9]{4}",),
            _alnum_upper,
            shrink=True,
            lead=2,  # the country code before the check digits
        ),
        Detector(
            "phone",
            (
                _c(rf"\+(?<![\w+]\+)[1-9]\d{{0,3}}(?:[ .-]?\(?\d{{1,5}}\)?){{1,6}}(?!{_EXT}[\w-])"),
                _c(rf"\((?<![\w(]\()\d{{1,5}}\)[ .-]?\d{{2,5}}(?:[ .-]?\d{{2,5}}){{0,3}}(?!{_EXT}[\w-])"),
                _c(rf"1(?<![\w.:/+-]1)(?<!\d 1)[-. ][2-9]\d{{2}}([-. ])\d{{3}}\1\d{{4}}(?!{_EXT}[\w-]|[.: ]\d)"),
                _c(rf"[2-9](?<![\w.:/+-][2-9])(?<!\d [2-9])\d{{2}}([-. ])\d{{3}}\1\d{{4}}(?!{_EXT}[\w-]|[.: ]\d)"),
                _c(rf"0(?<![\w.:/+-]0)(?<!\d 0)\d{{1,4}}(?:[ -]\d{{2,8}}){{1,4}}(?!{_EXT}[\w-]|[.: ]\d)"),
                _c(rf"1(?<![\w.:/+-]1)(?<!\d 1)[3-9]\d([ -])\d{{4}}\1\d{{4}}(?!{_EXT}[\w-]|[.: ]\d)"),
                _c(rf"(?i)\b(?:{'|'.join(_PHONE_WORDS)})\b[.:#\s]{{0,4}}(?P<v>\+?\d[\d ()./-]{{5,20}}\d)"),
            ),
            _phone_ok(8),
            (r"\+[1-9]", r"\(\d{1,5}\)[ .-]?\d\d", r"[\-. ](?<=\d.)(?<=\d{3}[\-. ])\d{3}[\-. ]\d{4}",
             r"0(?<!\d\d)\d{1,4}[ -]\d\d", r"1(?<!\d\d)[3-9]\d[ -]\d{4}[ -]\d{4}",
             *(rf"{word}[.:#\s]{{0,4}}\+?\d" for word in _PHONE_WORDS)),
            v.digits_of,
            needs=(_c(r"\+\d"), _c(r"\(\d"), _c(r"\d[-. ]\d"), _c(r"\d[-. ]\d"), _c(r"0\d*[ -]\d"),
                   _c(r"1[3-9]\d[ -]\d"), _c(r"(?i)tel|phone|mob|cell|fax|handy|whatsapp|sms|tél")),
            lead=5,  # "1-555" before the separator after a US area code
        ),
        Detector(
            "ip_address",
            (
                _c(r"\d(?<![\w.-]\d)\d{0,2}(?:\.\d{1,3}){3}(?![\w-]|\.\d)"),
                _c(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?"
                   r"(?:%[\w.]{1,16})?(?![\w]|:[\w:])"),
            ),
            _ip_ok,
            (r"\.(?<=\d.)\d{1,3}\.\d{1,3}\.\d", r":[0-9a-f]{0,4}:"),
            _lower,
            needs=(_c(r"\d\.\d{1,3}\.\d"), _c(r":[0-9A-Fa-f]{0,4}:")),
            lead=4,  # an IPv6 group before the first colon
        ),
        Detector(
            "jwt",
            (_c(r"(?<![\w-])eyJ[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{4,8192}\.[A-Za-z0-9_-]{0,4096}"),),
            _one(v.jwt_ok),
            (r"eyj[a-z0-9_-]{4}",),
            lead=0,
        ),
        Detector(
            "bearer_token",
            (_c(r"(?i)\b(?:bearer|basic|token|digest)\s+(?P<v>[A-Za-z0-9._~+/-]{6,4096}=*)"),),
            _auth_ok,
            (r"bearer\s", r"basic\s", r"token\s", r"digest\s"),
            lead=0,
        ),
        Detector(
            "api_key",
            (
                _c(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b"),
                _c(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
                _c(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
                _c(r"\bxox[abposre]-[A-Za-z0-9-]{10,250}"),
                _c(r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}\b"),
                _c(r"\bAIza[0-9A-Za-z_-]{35}(?![\w-])"),
                _c(r"(?<![\w-])sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,250}(?![\w-])"),
                _c(r"\bglpat-[A-Za-z0-9_-]{20,64}"),
                _c(r"\bnpm_[A-Za-z0-9]{36}\b"),
                _c(r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![\w-])"),
                _c(r"-----BEGIN (?:[A-Z0-9]{1,10} ){0,2}PRIVATE KEY-----(?:[\s\S]{0,8192}?-----END "
                   r"(?:[A-Z0-9]{1,10} ){0,2}PRIVATE KEY-----)?"),
            ),
            _api_key_ok,
            (r"a(?:kia|sia|bia|cca|gpa|ida|ipa|npa|nva|roa|pka)[a-z0-9]{16}", r"gh[pousr]_", r"github_pat_",
             r"xox[abposre]-", r"k_(?:live|test)_", r"aiza", r"sk-", r"glpat-", r"npm_", r"sg\.", r"-----begin "),
            lead=1,  # the s, p or r of sk_live_
        ),
        Detector(
            "url_credentials",
            (
                _c(r"(?i)\b[a-z][a-z0-9+.-]{1,20}://(?P<v>[^\s/?#@:]{0,128}:[^\s/?#@]{1,256})@"),
                _c(rf"(?i)[?&;](?:{_QUERY_SECRETS})=(?P<v>[^&#\s\"'<>]{{1,2048}})"),
                _c(r"https://hooks\.slack\.com/services/(?P<v>[A-Za-z0-9/]{20,200})"),
            ),
            _query_secret_ok,
            (r"://[^\s/?#@:]{0,128}:[^\s/?#@]{1,256}@", rf"[?&;](?:{_QUERY_SECRETS})=", r"hooks\.slack\.com/services/"),
            needs=(_c(r"://[^\s/?#]*@"), None, None),
            lead=21,  # the scheme before ://
        ),
        Detector(
            "password",
            (
                _c(rf"""(?i)(?<![A-Za-z0-9-])["']?(?:{_SECRET_WORDS})["']?\s{{0,3}}[=:]\s{{0,3}}"""
                   r"""(?:"(?P<v1>[^"\n]{1,256})"|'(?P<v2>[^'\n]{1,256})'|(?P<v3>[^\s"',;&}\]\)]{1,256}))"""),
            ),
            _secret_value_ok,
            tuple(rf"""{word}["']?\s{{0,3}}[=:]""" for word in _SECRET_WORDS.split("|")),
            lead=1,  # an opening quote
        ),
    )
}
"""Built-in value detectors by name (``sensitive_key`` works on keys and is separate)."""

SENSITIVE_KEY = "sensitive_key"
"""The detector name for values redacted because of their key."""

OVERSIZE = "oversize"
"""The detector name for the cut, unscanned tail of a value longer than ``max_scan_chars``."""

BUILTIN_NAMES: tuple[str, ...] = (*BUILTIN, SENSITIVE_KEY)

SENSITIVE_KEY_PATTERN = re.compile(
    r"(?i)(?:passw(?:or)?d|passphrase|(?<![a-z])pwd|secret|"
    r"auth(?!or(?:s|ship|ity|ities|ized_by|ed)?(?:\b|_|$)|or_?ids?(?:\b|_|$))|"
    r"credential|private[._ -]?key|privatekey|api[._ -]?key|apikey|access[._ -]?key|"
    r"session(?!\.id$|\.previous_id$|[._-]?(?:count|duration|length)$)|cookie|csrf|xsrf|(?<![a-z])jwt|"
    r"(?<![a-z])ssn(?![a-z])|social[._ -]?security|credit[._ -]?card|card[._ -]?number|(?<![a-z])cvv|(?<![a-z])cvc|"
    r"(?<![a-z])iban(?![a-z])|token(?!s(?:\b|_|$)|[._-]?(?:count|usage|type|limit)$|izer|ization)|"
    r"(?<![a-z])signature|x[._-]forwarded[._-]for|x[._-]real[._-]ip|remote[._-]addr|ip[._-]?address|"
    r"phpsessid|connect\.sid|passport|symfony|pylf_v\d+_)"
)
"""Key names whose whole value is sensitive: Sentry's and Logfire's default denylists and more,
without their false positives (``authors``, ``author_id``, ``gen_ai.usage.input_tokens``)."""

DEFAULT_SAFE_KEYS: tuple[str, ...] = (
    "trace_id", "span_id", "parent_id", "trace.id", "span.id", "trace_flags", "otel.*", "ricecoder.redacted.*",
    "ricecoder.audit.id", "ricecoder.audit.seq", "ricecoder.audit.hash", "ricecoder.audit.prev_hash",
    "service.*", "telemetry.*", "http.method", "http.request.method", "http.status_code",
    "http.response.status_code", "url.scheme", "url.template", "server.port", "network.protocol.*",
    "event.name", "exception.type", "code.*", "db.system", "db.system.name", "db.operation.name",
    "rpc.system", "rpc.service", "rpc.method", "messaging.system", "messaging.operation*", "session.id",
    "session.previous_id", "gen_ai.usage.*", "process.pid", "thread.id", "thread.name", "deployment.environment*",
    "ricecoder.perf.histogram",  # numbers only (an exponential histogram); long float digits look like cards
)  # fmt: skip
"""Keys never touched (neither scanned nor redacted); ``prefix*`` matches every key starting so.

Not ``http.route``: an application without route templates reports the raw path as its route
(``/users/ana@example.com``), and a route repeats, so scanning it costs one cache lookup.
Not ``ricecoder.*`` as a whole: capabilities copy user data into their own attributes (an error
group's ``ricecoder.error.context.span.name`` holds the span name), so those are scanned too."""

# The collector agent's `redaction` processor speaks RE2: no look-around, no backreferences and
# no validators, so these forms are broader than the detectors above (they may mask a
# near-miss the in-process policy keeps). ``None``: the detector cannot be expressed without
# its validator without masking far too much (version strings, timestamps); the in-process
# policy is the only line for it.
COLLECTOR: dict[str, str | None] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "credit_card": r"\b(?:4\d{3}|5[1-5]\d{2}|2[2-7]\d{2}|3\d{3}|6(?:011|[245]\d{2}))(?:[ -]?\d){8,15}\b",
    "ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
    "phone": r"\+[1-9]\d{0,3}(?:[ .-]?\(?\d{1,5}\)?){2,6}",
    "ip_address": None,
    "jwt": r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
    "bearer_token": r"(?i)\b(?:bearer|basic|digest)\s+[A-Za-z0-9._~+/-]{8,}=*",
    "api_key": r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bgh[pousr]_[A-Za-z0-9]{36,}|\bgithub_pat_[A-Za-z0-9_]{22,}"
    r"|\bxox[abposre]-[A-Za-z0-9-]{10,}|\b[spr]k_(?:live|test)_[A-Za-z0-9]{10,}|\bAIza[0-9A-Za-z_-]{35}"
    r"|\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,}|\bglpat-[A-Za-z0-9_-]{20,}|\bnpm_[A-Za-z0-9]{36}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "url_credentials": r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/?#@:]*:[^\s/?#@]+@"
    rf"|[?&;](?:{_QUERY_SECRETS})=[^&#\s]+|https://hooks\.slack\.com/services/[A-Za-z0-9/]+",
    "password": rf"(?i)\b(?:{_SECRET_WORDS})[\"']?\s*[=:]\s*[\"']?[^\s\"',;&]+",
}
"""RE2 value patterns for the collector, per detector (order: the order of ``BUILTIN``)."""

COLLECTOR_KEY_PATTERN = (
    r"(?i)(password|passwd|passphrase|pwd|secret|authorization|auth[._-]?token|credential|private[._ -]?key"
    r"|api[._ -]?key|apikey|access[._ -]?key|access[._-]?token|refresh[._-]?token|session[._-]?id|sessionid"
    r"|cookie|csrf|xsrf|jwt|ssn|social[._ -]?security|credit[._ -]?card|card[._ -]?number|cvv|cvc"
    r"|x[._-]forwarded[._-]for|x[._-]real[._-]ip|remote[._-]addr|phpsessid|passport)"
)
"""The RE2 key pattern for the collector: the explicit words of ``SENSITIVE_KEY_PATTERN`` (RE2 has no
look-ahead, so the bare ``auth``/``token``/``session`` stems are listed as their sensitive forms)."""
