"""A labelled corpus for the redaction policy, generated with a seeded RNG.

Positive samples carry PII or secrets (every sensitive substring is listed, so a leak of any of
them counts as a miss) in realistic places: bare attribute values, log lines in several locales,
URLs, logfmt, JSON documents inside strings, stack-trace lines, and key/value pairs whose key
names the secret. Clean samples are rich in near-misses: UUIDs, trace and span ids, timestamps,
versions (some shaped like IP addresses), hashes, order numbers, card-like numbers failing Luhn,
prices, ports, routes and words such as "authors".

The values are generated from their specifications (issuer prefixes with a Luhn check digit,
IBAN country lengths with ISO 7064 check digits, national phone numbering formats), not from the
detectors' regular expressions. Two splits: ``dev`` (the values the defaults were checked on) and
``fresh`` (another seed, plus locales and carriers never looked at while choosing the defaults).
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    """One value to redact: ``secrets`` must all be gone from the output; none for a clean sample."""

    kind: str
    carrier: str
    value: str
    key: str | None = None
    secrets: tuple[str, ...] = field(default=())


# -- values ------------------------------------------------------------------------------------

FIRST = ["ana", "joão", "maría", "jürgen", "françois", "søren", "li", "wei", "yuki", "priya", "olga", "ahmed",
         "chloé", "mateus", "zoë", "nguyen", "kofi", "emma", "liam", "noah", "sofía", "hiroshi", "anaïs", "björn"]
LAST = ["silva", "müller", "garcía", "dubois", "kowalski", "tanaka", "patel", "smith", "o-neil", "van.dijk",
        "nielsen", "rossi", "kim", "chen", "okafor", "ivanova", "haddad", "martins", "fischer", "moreau"]
DOMAINS = ["example.com", "mail.example.org", "example.co.uk", "exemple.fr", "beispiel.de", "example.com.br",
           "corp.example.io", "uni-example.edu", "example.jp", "example.in", "post.example.es", "example.museum",
           "ex-ample.net", "sub.mail.example.co.jp"]


def _ascii(text: str) -> str:
    table = str.maketrans("ãáàâäçéèêëíïñóôöøüúß", "aaaaaceeeeiinooooous")
    return text.translate(table)


def email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if rng.random() < 0.6:
        first, last = _ascii(first), _ascii(last)
    local = rng.choice([f"{first}.{last}", f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}", f"{first}_{last}",
                        f"{first}+{rng.choice(['news', 'shop', 'x'])}", f"{last}.{first}.{rng.randint(1950, 2005)}"])
    if rng.random() < 0.2:
        local = local.upper() if rng.random() < 0.5 else local.capitalize()
    return f"{local}@{rng.choice(DOMAINS)}"


def _luhn_digit(partial: str) -> str:
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


CARD_BRANDS: list[tuple[Callable[[random.Random], str], int, tuple[int, ...]]] = [
    (lambda r: "4", 16, (4, 4, 4, 4)),
    (lambda r: str(r.randint(51, 55)), 16, (4, 4, 4, 4)),
    (lambda r: str(r.randint(2221, 2720)), 16, (4, 4, 4, 4)),
    (lambda r: r.choice(["34", "37"]), 15, (4, 6, 5)),
    (lambda r: "6011", 16, (4, 4, 4, 4)),
    (lambda r: str(r.randint(3528, 3589)), 16, (4, 4, 4, 4)),
    (lambda r: r.choice(["36", "38"]), 14, (4, 6, 4)),
    (lambda r: "62", 16, (4, 4, 4, 4)),
    (lambda r: "4", 13, (4, 4, 5)),
    (lambda r: "4", 19, (4, 4, 4, 4, 3)),
]


def card_digits(rng: random.Random, valid: bool = True) -> tuple[str, tuple[int, ...]]:
    prefix_of, length, groups = rng.choice(CARD_BRANDS)
    body = prefix_of(rng)
    body += "".join(rng.choice(string.digits) for _ in range(length - 1 - len(body)))
    check = _luhn_digit(body)
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    return body + check, groups


def _grouped(digits: str, groups: tuple[int, ...], sep: str) -> str:
    parts, position = [], 0
    for size in groups:
        parts.append(digits[position:position + size])
        position += size
    return sep.join(parts)


def card(rng: random.Random) -> str:
    digits, groups = card_digits(rng)
    sep = rng.choice(["", " ", "-", " "])
    return digits if not sep else _grouped(digits, groups, sep)


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    return rng.choice([f"{number[:3]}-{number[3:5]}-{number[5:]}", f"{number[:3]}-{number[3:5]}-{number[5:]}",
                       f"{number[:3]} {number[3:5]} {number[5:]}"])


IBAN_FORMATS = {  # country: BBAN spec as (count, kind) with kind n=digits, a=upper letters, c=alphanumeric
    "DE": [(18, "n")], "GB": [(4, "a"), (14, "n")], "FR": [(10, "n"), (11, "c"), (2, "n")], "ES": [(20, "n")],
    "IT": [(1, "a"), (10, "n"), (12, "c")], "NL": [(4, "a"), (10, "n")], "BE": [(12, "n")], "CH": [(5, "n"), (12, "c")],
    "AT": [(16, "n")], "PL": [(24, "n")], "PT": [(21, "n")], "SE": [(20, "n")], "IE": [(4, "a"), (14, "n")],
    "DK": [(14, "n")], "NO": [(11, "n")], "BR": [(23, "n"), (1, "a"), (1, "c")], "SA": [(2, "n"), (18, "c")],
}


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_FORMATS))
    alphabet = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + string.ascii_uppercase}
    bban = "".join(rng.choice(alphabet[kind]) for count, kind in IBAN_FORMATS[country] for _ in range(count))
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value


def _d(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


PHONE_FORMATS: list[Callable[[random.Random], str]] = [
    lambda r: f"+1 ({r.randint(201, 989)}) {r.randint(200, 999)}-{_d(r, 4)}",
    lambda r: f"({r.randint(201, 989)}) {r.randint(200, 999)}-{_d(r, 4)}",
    lambda r: f"{r.randint(201, 989)}-{r.randint(200, 999)}-{_d(r, 4)}",
    lambda r: f"{r.randint(201, 989)}.{r.randint(200, 999)}.{_d(r, 4)}",
    lambda r: f"+1-{r.randint(201, 989)}-{r.randint(200, 999)}-{_d(r, 4)}",
    lambda r: f"+44 20 {_d(r, 4)} {_d(r, 4)}",
    lambda r: f"07{_d(r, 3)} {_d(r, 6)}",
    lambda r: f"+44 7{_d(r, 3)} {_d(r, 6)}",
    lambda r: f"+49 30 {_d(r, 8)}",
    lambda r: f"0{r.randint(151, 179)} {_d(r, 7)}",
    lambda r: f"+33 {r.randint(1, 7)} {_d(r, 2)} {_d(r, 2)} {_d(r, 2)} {_d(r, 2)}",
    lambda r: f"0{r.randint(1, 7)} {_d(r, 2)} {_d(r, 2)} {_d(r, 2)} {_d(r, 2)}",
    lambda r: f"+34 6{_d(r, 2)} {_d(r, 3)} {_d(r, 3)}",
    lambda r: f"+55 11 9{_d(r, 4)}-{_d(r, 4)}",
    lambda r: f"(11) 9{_d(r, 4)}-{_d(r, 4)}",
    lambda r: f"+81 3-{_d(r, 4)}-{_d(r, 4)}",
    lambda r: f"090-{_d(r, 4)}-{_d(r, 4)}",
    lambda r: f"+91 9{_d(r, 4)} {_d(r, 5)}",
    lambda r: f"+61 4{_d(r, 2)} {_d(r, 3)} {_d(r, 3)}",
    lambda r: f"02 {_d(r, 4)} {_d(r, 4)}",
    lambda r: f"+52 55 {_d(r, 4)} {_d(r, 4)}",
    lambda r: f"+{r.randint(30, 49)}{_d(r, 9)}",
]
FRESH_PHONE_FORMATS: list[Callable[[random.Random], str]] = [
    lambda r: f"+39 06 {_d(r, 4)} {_d(r, 4)}",
    lambda r: f"+86 138 {_d(r, 4)} {_d(r, 4)}",
    lambda r: f"+31 6 {_d(r, 8)}",
    lambda r: f"+27 82 {_d(r, 3)} {_d(r, 4)}",
    lambda r: f"(0{r.randint(20, 99)}) {_d(r, 4)} {_d(r, 4)}",
    lambda r: f"+1 {r.randint(201, 989)} {r.randint(200, 999)} {_d(r, 4)}",
]


def phone(rng: random.Random, fresh: bool = False) -> str:
    return rng.choice(FRESH_PHONE_FORMATS if fresh and rng.random() < 0.5 else PHONE_FORMATS)(rng)


def ipv4(rng: random.Random) -> str:
    first = rng.choice([10, 172, 192, 203, 198, 81, 91, 104, 151, 185, 45, 66, 8])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    groups[0] = rng.choice(["2001", "2a02", "2607", "fd12", "2a01", "2600"])
    if rng.random() < 0.6:
        start = rng.randint(2, 5)
        return ":".join(groups[:start]) + "::" + ":".join(groups[start + 2:])
    return ":".join(groups)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(rng: random.Random) -> str:
    header = {"alg": rng.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    payload = {"sub": str(rng.randint(1, 10**9)), "iat": rng.randint(1_600_000_000, 1_800_000_000),
               "name": rng.choice(FIRST)}
    signature = bytes(rng.randint(0, 255) for _ in range(rng.choice([32, 64])))
    return ".".join([_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()), _b64url(signature)])


def _token(rng: random.Random, count: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def bearer(rng: random.Random) -> str:
    return rng.choice([_token(rng, 32, "0123456789abcdef"), _token(rng, 40), _token(rng, 24) + "." + _token(rng, 12),
                       jwt(rng)])


def basic(rng: random.Random) -> str:
    pair = f"{rng.choice(FIRST)}:{_token(rng, rng.randint(8, 16))}".encode()
    return base64.b64encode(pair).decode()


API_KEYS: list[Callable[[random.Random], str]] = [
    lambda r: "AKIA" + _token(r, 16, string.ascii_uppercase + string.digits),
    lambda r: "ghp_" + _token(r, 36),
    lambda r: "github_pat_" + _token(r, 22) + "_" + _token(r, 59),
    lambda r: "xoxb-" + _d(r, 12) + "-" + _d(r, 13) + "-" + _token(r, 24),
    lambda r: "sk_live_" + _token(r, 24),
    lambda r: "pk_live_" + _token(r, 24),
    lambda r: "AIza" + _token(r, 35, string.ascii_letters + string.digits + "-_"),
    lambda r: "sk-proj-" + _token(r, 48, string.ascii_letters + string.digits + "-_"),
    lambda r: "sk-" + _token(r, 48),
    lambda r: "glpat-" + _token(r, 20),
    lambda r: "npm_" + _token(r, 36),
]


def api_key(rng: random.Random) -> str:
    return rng.choice(API_KEYS)(rng)


def password(rng: random.Random) -> str:
    return rng.choice([_token(rng, rng.randint(8, 20), string.ascii_letters + string.digits + "!#$%*?_-"),
                       f"{rng.choice(LAST).capitalize()}{rng.randint(10, 9999)}!", "correct-horse-" + _token(rng, 6)])


# -- carriers ----------------------------------------------------------------------------------

LOG_TEMPLATES = {
    "en": ["user {v} signed in", "sending receipt to {v}", "payment failed for {v}: card declined",
           "lookup by {v} took 35ms", "WARN retrying request for {v} (attempt 2/5)", "customer={v} status=active"],
    "de": ["Benutzer {v} hat sich angemeldet", "Zahlung für {v} fehlgeschlagen", "Rechnung an {v} gesendet"],
    "fr": ["Utilisateur {v} connecté", "échec du paiement pour {v}", "facture envoyée à {v}"],
    "es": ["usuario {v} inició sesión", "pago rechazado para {v}", "enviando factura a {v}"],
    "pt": ["usuário {v} entrou", "pagamento recusado para {v}", "enviando nota fiscal para {v}"],
}
FRESH_LOG_TEMPLATES = {
    "ja": ["ユーザー {v} がログインしました", "{v} への支払いに失敗しました"],
    "zh": ["用户 {v} 登录成功", "向 {v} 发送发票"],
    "hi": ["उपयोगकर्ता {v} ने लॉग इन किया", "{v} के लिए भुगतान विफल"],
    "it": ["utente {v} ha effettuato l'accesso", "pagamento rifiutato per {v}"],
    "en": ["[{v}] audit: profile updated", "ERROR 2024-11-30T21:07:15Z worker-3 job failed for {v}"],
}
CONTEXT_WORDS = {"email": ["email", "mail", "contact"], "card": ["card", "pan", "cc"], "ssn": ["ssn", "SSN"],
                 "iban": ["iban", "account"], "phone": ["phone", "tel", "mobile"], "ipv4": ["client", "ip", "from"],
                 "ipv6": ["client", "ip", "remote"], "jwt": ["token", "id_token"], "api_key": ["key", "credential"]}


def _log(rng: random.Random, value: str, fresh: bool) -> str:
    templates = FRESH_LOG_TEMPLATES if fresh and rng.random() < 0.6 else LOG_TEMPLATES
    locale = rng.choice(sorted(templates))
    return rng.choice(templates[locale]).format(v=value)


def _json(rng: random.Random, kind: str, value: str) -> str:
    field_name = rng.choice(CONTEXT_WORDS.get(kind, ["value"]))
    document = {"event": "checkout", "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "customer": {field_name: value, "plan": "pro"}, "items": [{"sku": "A-1", "qty": 2}]}
    return json.dumps(document, ensure_ascii=rng.random() < 0.5)


def _logfmt(rng: random.Random, kind: str, value: str) -> str:
    field_name = rng.choice(CONTEXT_WORDS.get(kind, ["value"]))
    quoted = f'"{value}"' if " " in value else value
    return f"level=info ts=2024-11-30T21:07:15.123Z msg=\"request done\" {field_name}={quoted} status=200 dur=12ms"


def _carry(rng: random.Random, kind: str, value: str, fresh: bool) -> tuple[str, str]:
    carrier = rng.choice(["bare", "log", "log", "json", "logfmt"])
    if carrier == "bare":
        return carrier, value
    if carrier == "log":
        return carrier, _log(rng, value, fresh)
    if carrier == "json":
        return carrier, _json(rng, kind, value)
    return carrier, _logfmt(rng, kind, value)


def _value_sample(rng: random.Random, kind: str, value: str, fresh: bool, secrets: tuple[str, ...] = ()) -> Sample:
    carrier, text = _carry(rng, kind, value, fresh)
    return Sample(kind, carrier, text, secrets=secrets or (value,))


def _card_secrets(value: str) -> tuple[str, ...]:
    digits = "".join(c for c in value if c.isdigit())
    return (value, digits) if digits != value else (value,)


def positives(rng: random.Random, count: int, fresh: bool = False) -> list[Sample]:
    makers: list[Callable[[], Sample]] = [
        lambda: _value_sample(rng, "email", email(rng), fresh),
        lambda: (lambda v: _value_sample(rng, "card", v, fresh, _card_secrets(v)))(card(rng)),
        lambda: _value_sample(rng, "ssn", ssn(rng), fresh),
        lambda: (lambda v: _value_sample(rng, "iban", v, fresh, (v, v.replace(" ", ""))))(iban(rng)),
        lambda: _value_sample(rng, "phone", phone(rng, fresh), fresh),
        lambda: _value_sample(rng, "ipv4", ipv4(rng), fresh),
        lambda: _value_sample(rng, "ipv6", ipv6(rng), fresh),
        lambda: _value_sample(rng, "jwt", jwt(rng), fresh),
        lambda: _value_sample(rng, "api_key", api_key(rng), fresh),
        lambda: _credential_sample(rng),
        lambda: _url_sample(rng),
        lambda: _key_sample(rng),
    ]
    return [rng.choice(makers)() for _ in range(count)]


def _credential_sample(rng: random.Random) -> Sample:
    kind = rng.choice(["bearer", "basic", "password"])
    if kind == "bearer":
        token = bearer(rng)
        text = rng.choice([f"Authorization: Bearer {token}", f"auth header 'Bearer {token}' rejected",
                           f'{{"headers": {{"Authorization": "Bearer {token}"}}}}'])
        return Sample("bearer", "log", text, secrets=(token,))
    if kind == "basic":
        token = basic(rng)
        return Sample("basic", "log", rng.choice([f"Authorization: Basic {token}", f"using basic {token}"]),
                      secrets=(token,))
    secret = password(rng)
    word = rng.choice(["password", "passwd", "pwd", "secret", "client_secret", "api_key", "access_token"])
    text = rng.choice([f"{word}={secret}", f"login with {word}: {secret}", f'{{"{word}": "{secret}", "user": "x"}}',
                       f"connect {word}='{secret}' host=db"])
    return Sample("password", "log", text, secrets=(secret,))


def _url_sample(rng: random.Random) -> Sample:
    secret = password(rng).replace("#", "x").replace("?", "x").replace("%", "x")
    secret = "".join(c for c in secret if c not in "/@:&=")
    token = _token(rng, 32)
    choice = rng.randrange(4)
    if choice == 0:
        scheme = rng.choice(["postgres", "mysql", "redis", "amqp", "https", "mongodb+srv"])
        return Sample("url_credentials", "url", f"{scheme}://{rng.choice(FIRST)}:{secret}@db.internal:5432/app",
                      secrets=(secret,))
    param = rng.choice(["token", "access_token", "api_key", "apikey", "password", "sig", "X-Amz-Signature", "key"])
    url = f"https://api.example.com/v1/files/42?page=2&{param}={token}&lang=en"
    if choice == 2:
        url = f"GET {url} 200 15ms"
    if choice == 3:
        url = json.dumps({"url": url, "method": "GET"})
    return Sample("url_credentials", "url", url, secrets=(token,))


SECRET_KEYS = ["password", "db.password", "user_password", "api_key", "apiKey", "x-api-key", "authorization",
               "http.request.header.authorization", "cookie", "http.request.header.set-cookie", "session_token",
               "client_secret", "private_key", "aws_secret_access_key", "credentials", "csrf_token", "refresh_token",
               "ssn", "credit_card_number", "passwd", "secret", "jwt", "auth_token", "card_number", "cvv"]


def _key_sample(rng: random.Random) -> Sample:
    key = rng.choice(SECRET_KEYS)
    value = rng.choice([_token(rng, rng.randint(6, 40)), password(rng), f"sessionid={_token(rng, 26)}",
                        _token(rng, 5, string.ascii_lowercase)])
    return Sample("sensitive_key", "attribute", value, key=key, secrets=(value,))


# -- clean, near-misses ------------------------------------------------------------------------

def _hex(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(count))


def _bad_card(rng: random.Random) -> str:
    digits, groups = card_digits(rng, valid=False)
    return rng.choice([digits, _grouped(digits, groups, " "), _grouped(digits, groups, "-")])


NEAR_MISSES: list[Callable[[random.Random], str]] = [
    lambda r: str(uuid.UUID(int=r.getrandbits(128))),
    lambda r: _hex(r, 32),
    lambda r: _hex(r, 16),
    lambda r: f"00-{_hex(r, 32)}-{_hex(r, 16)}-01",
    lambda r: f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:"
              f"{r.randint(0, 59):02d}.{_d(r, 6)}+00:00",
    lambda r: f"{r.randint(1, 28):02d}/{r.randint(1, 12):02d}/2024 {r.randint(0, 23):02d}:{r.randint(0, 59):02d}",
    lambda r: str(r.randint(1_600_000_000, 1_800_000_000)),
    lambda r: str(r.randint(1_600_000_000_000, 1_800_000_000_000)),
    lambda r: str(r.randint(1_600_000_000_000_000_000, 1_800_000_000_000_000_000)),
    lambda r: f"v{r.randint(0, 20)}.{r.randint(0, 40)}.{r.randint(0, 99)}",
    lambda r: f"version {r.randint(1, 12)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(0, 255)}",
    lambda r: f"Mozilla/5.0 (X11; Linux x86_64) Chrome/{r.randint(100, 130)}.0.{r.randint(1000, 6999)}."
              f"{r.randint(1, 200)}",
    lambda r: f"build {r.randint(1, 10)}.{r.randint(0, 20)}.{r.randint(0, 99)}.{r.randint(0, 255)}",
    lambda r: f"python-requests/2.{r.randint(20, 32)}.{r.randint(0, 3)}",
    lambda r: _hex(r, 40),
    lambda r: _hex(r, 64),
    lambda r: f"sha256:{_hex(r, 64)}",
    lambda r: f"commit {_hex(r, 7)}",
    lambda r: f"ORD-{r.randint(2019, 2025)}-{_d(r, 6)}",
    lambda r: f"order #{_d(r, 9)}",
    lambda r: f"INV-{_d(r, 8)}",
    lambda r: _d(r, 16),
    lambda r: f"order {_d(r, 16)} shipped",
    _bad_card,
    lambda r: f"total ${r.randint(1, 9)},{_d(r, 3)}.{_d(r, 2)}",
    lambda r: f"{r.randint(1, 999)}.{_d(r, 3)},{_d(r, 2)} €",
    lambda r: f"localhost:{r.randint(1024, 65535)}",
    lambda r: f"127.0.0.1:{r.randint(1024, 65535)}",
    lambda r: "0.0.0.0",
    lambda r: f"/api/v{r.randint(1, 3)}/users/{{id}}/orders",
    lambda r: f"GET /api/v1/orders/{_d(r, 6)} HTTP/1.1 200",
    lambda r: r.choice(["authors", "author_id", "Basic plan", "bearer of bad news", "token count exceeded",
                        "the secret sauce", "password reset requested", "session expired", "tokens: 512",
                        "max_tokens=4096", "auth ok", "@channel deploy done", "logo@2x.png", "user@localhost"]),
    lambda r: f"web-{_hex(r, 10)}-{_token(r, 5, string.ascii_lowercase + string.digits)}",
    lambda r: f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{_d(r, 3)}",
    lambda r: f"ISBN 978-{r.randint(0, 9)}-{_d(r, 2)}-{_d(r, 6)}-{r.randint(0, 9)}",
    lambda r: f"{r.uniform(-90, 90):.4f},{r.uniform(-180, 180):.4f}",
    lambda r: f"duration={r.randint(1, 999)}ms bytes={r.randint(1000, 99999999)}",
    lambda r: f"arn:aws:s3:::bucket-{_d(r, 4)}/logs/2024/11/30",
    lambda r: f"req_{_token(r, 14)}",
    lambda r: f"cus_{_token(r, 14)}",
    lambda r: f"pod web-{_d(r, 3)} restarted {r.randint(1, 9)} times in {r.randint(1, 59)}m",
    lambda r: f"{r.randint(1, 100)}.{r.randint(0, 99)}%",
    lambda r: f"+{r.randint(1, 99)}.{r.randint(0, 9)}% vs last week",
    lambda r: f"node {r.randint(1, 20)}.{r.randint(0, 20)}.{r.randint(0, 9)} / npm {r.randint(6, 10)}."
              f"{r.randint(0, 9)}.0",
    lambda r: f"retry in {r.randint(1, 60)}s (attempt {r.randint(1, 5)}/5)",
    lambda r: f"{_d(r, 3)}-{_d(r, 3)}",
    lambda r: f"error code E{_d(r, 4)} at line {r.randint(1, 999)}",
]


def clean(rng: random.Random, count: int, fresh: bool = False) -> list[Sample]:
    samples: list[Sample] = []
    for _ in range(count):
        value = rng.choice(NEAR_MISSES)(rng)
        carrier = rng.choice(["bare", "bare", "log", "json"])
        if carrier == "log":
            value = _log(rng, value, fresh)
        elif carrier == "json":
            value = json.dumps({"id": value, "status": "ok", "n": rng.randint(1, 9)})
        key = rng.choice(["message", "detail", "http.target", "order.id", "build", "note", "value"])
        samples.append(Sample("clean", carrier, value, key=key))
    return samples


SPLITS = {"dev": (1, False), "fresh": (2, True)}


def corpus(split: str, positive_count: int = 3000, clean_count: int = 3000) -> tuple[list[Sample], list[Sample]]:
    """(positives, cleans) of a split."""
    seed, fresh = SPLITS[split]
    rng = random.Random(seed)
    return positives(rng, positive_count, fresh), clean(rng, clean_count, fresh)
