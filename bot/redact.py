"""Masking secrets before text reaches the model, the chat or the logs.

Patterns by structure, not a scanner: token prefixes (from public secret-scanner rules), credentials in URLs,
headers and command lines, armored key blocks of any kind (split over log lines too), JWTs, AWS secret keys
beside an AWS word, Kubernetes Secret manifests, and values under secret-named keys in key=value, JSON and
YAML forms. A value under a looser key (`key`, `signature`, `session`…) is masked only when it looks random;
after `key: ` a plain word followed by more words is prose and stays. What is masked keeps its key or scheme,
so the reader still sees that a credential was there.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

import re2

from bot.redact_tokens import MASK, TOKEN_GATE, mask_tokens

KEY_MASK = "[REDACTED private key]"

# A key that names a secret: it must END with one of these words (db_password, GITHUB_TOKEN, x-api-key),
# so max_tokens, secretName or token_count are left alone. `pass` only after a separator (DB_PASS, not bypass).
_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|(?<![A-Za-z])pass|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|secret[_-]?key|credentials?|creds|auth[_-]?token|session[_-]?token"
    r"|bearer|key[_-]?data"
)
_LOOSE_WORDS = r"key|signature|sig|session|cookie|auth|salt|sess(?:ion)?[_-]?id"
# key, optional closing quote, separator (= : or ": "), optional spaces; the value is read after it. One pass
# finds every key and sees whether its last word names a secret (always masked) or a looser one (masked when
# the value looks random).
_KEY_SEP = re.compile(r"""(?<![A-Za-z0-9_.-])(?P<key>[A-Za-z0-9_.-]+)(?P<sep>["']?[ \t]*[:=][ \t]*)""")
_VALUE = re.compile(r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"',;&}\]]+)""")
_SECRET_END = re.compile(rf"(?:{_SECRET_WORDS})$", re.IGNORECASE)
# every secret and loose word above holds one of these (lowercase): a key named by none of them masks nothing
_PAIR_PARTS = ("pass", "pwd", "secret", "token", "key", "cred", "bearer", "sig", "sess", "cookie", "auth", "salt")
_LOOSE_END = re.compile(rf"(?:{_LOOSE_WORDS})$", re.IGNORECASE)
# --password x, --db-password=x, --registration-token x, --client-secret=x (not --token-file, --secret-name)
_CLI_FLAG = re.compile(
    r"(--[a-z0-9-]*(?:password|passwd|pass|token|secret|api-key|apikey|access-key|secret-key)(?:=|\s+))"
    r"""(?!-)("[^"]*"|'[^']*'|\S+)""", re.IGNORECASE)
# database and login CLIs: mysql -uroot -pS3cret, mysqldump -p'x' (attached only: `-p db` asks for it), and
# the tools whose -p/-a takes the password after a space (sshpass -p x, docker login -p x, redis-cli -a x)
_DB_CLI_P = re.compile(
    r"""(\b(?:mysql\w*|mariadb[\w-]*|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mysqlpump)\b"""
    r"""[^\n|;&"]*?\s-p)("[^"]*"|'[^']*'|[^\s"']+)""")
_LOGIN_CLI_P = re.compile(
    r"""(\b(?:(?:sshpass|(?:docker|podman|buildah|skopeo|helm(?: registry)?|oras|nerdctl) login|mongo(?:sh|dump|"""
    r"""restore|import|export)?)\b[^\n|;&"]*?\s-p|\bredis-cli\b[^\n|;&"]*?\s-a|\bldap\w+\b[^\n|;&"]*?\s-w)\s+)"""
    r"""("[^"]*"|'[^']*'|[^\s"']+)""")
# keytool -storepass x -keypass y, openssl … -passin pass:x
_JAVA_PASS = re.compile(r"""((?:\s-(?:store|key|src|dest|srcstore|deststore)pass|\s-pass(?:in|out)\s+pass:)\s*)"""
                        r"""("[^"]*"|'[^']*'|[^\s"']+)""")
# <add key="ClearTextPassword" value="x" /> (NuGet, .NET config), <entry name="api_token" value="x"/>
_XML_VALUE = re.compile(r"""((?:key|name)=\\?["'][^"'\\]*(?:password|passwd|secret|token|api-?key)\\?["']\s+"""
                        r"""value=\\?["'])([^"'\\]+)""", re.IGNORECASE)
_CURL_USER = re.compile(r"""(\bcurl\b[^\n|;&"]*?\s(?:-u|--user)(?:=|\s*)["']?[^\s:"']+:)([^\s"']+)""")
# redis.conf's requirepass/masterauth, AUTH password, AUTH user password
_REDIS_CONF = re.compile(r"(\b(?:requirepass|masterauth|AUTH(?:\s+[A-Za-z][\w-]*(?=\s+\S))?)\s+)([^\s\"']{6,})")

# armored key blocks of any kind: RSA/EC/DSA/OPENSSH/ENCRYPTED PRIVATE KEY, PGP PRIVATE/SECRET KEY BLOCK,
# SSH2 ENCRYPTED PRIVATE KEY (four dashes): from BEGIN to its END, or to the end of the text when cut
_ARMOR_LABEL = r"[A-Z0-9 _-]*(?:PRIVATE|SECRET|ENCRYPTED)[A-Z0-9 _-]*"
_PEM = re.compile(rf"-----BEGIN ({_ARMOR_LABEL})-----.*?(?:-----END \1-----|$)|---- BEGIN ({_ARMOR_LABEL}) ----"
                  rf".*?(?:---- END \2 ----|$)", re.DOTALL)
# the same block base64-encoded (a kubeconfig's client-key-data, a Secret's tls.key): "LS0tLS1CRUdJTi" is "-----BEGIN"
_B64_ARMOR = re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{16,}={0,2}")
_PUTTY = re.compile(r"(Private-Lines: \d+)(?:(?:\r?\n|\\n)[A-Za-z0-9+/=]+)+")
# Authorization: <scheme> <credential>, or a bare credential. A known scheme's credential is always masked; after
# another word (GenieKey, SSWS, Splunk…) only one that is not a plain word, so a sentence stays a sentence.
_AUTH_HEADER = re.compile(r"\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:([A-Za-z][\w-]*)(\s+))?"
                          r"([^\s\"',;]+)", re.IGNORECASE)
_SCHEMES = re.compile(r"bearer|basic|token|digest|apikey|api-key|negotiate|ntlm|aws4-hmac-sha256|sso-key|"
                      r"splunk|ssws|geniekey|dsn|key", re.IGNORECASE)
_BEARER = re.compile(r"\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*://)([^\s:/@'\"]*):([^\s@/'\"]+)@", re.IGNORECASE)
# a URL's user part alone can be the key: a Sentry DSN (https://<public key>@o1.ingest.sentry.io/2), an old
# GitHub token (https://<40 hex>@github.com); `ssh://git@host` or a name is left alone
_URL_USER = re.compile(r"\b([a-z][a-z0-9+.-]*://)([A-Za-z0-9_.~+-]{16,})@", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
# an AWS secret access key written alone: 40 base64 characters (not all hex: a git sha stays) beside an AWS word
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_WORDS = ("aws", "amazon", "s3", "akia", "asia", "secretaccess", "secret_access", "secret access")
_AWS_CONTEXT = re.compile(r"aws|amazon|\bs3\b|AKIA|ASIA|secret.?access|SecretAccessKey", re.IGNORECASE)
# placeholders and non-values: null, ***, <token>, ${VAR}, $(VAR), $VAR, {{ .Values.x }}, an absolute path
_HARMLESS = re.compile(r"^(?:null|none|true|false|\*+|\[REDACTED[^\]]*\]?|<[^>]*>|\$\{[^}]*\}?|\$\([A-Za-z_]\w*\)?"
                       r"|\$[A-Z_]+|\{\{[^}]*(?:\}\})?|/(?:app|bin|etc|home|opt|tmp|usr|var|srv|run|root|data)"
                       r"(?:/[\w.-]*)*)$", re.I)
# a plain word (server, Invalid, EXPIRED): after `key: ` and followed by more words, the line is prose
# ("…may require authorization: server message: …"), not a credential
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+")
_PROSE_NEXT = re.compile(r"[ \t]+[A-Za-z(]")


def looks_random(value: str) -> bool:
    """Long, mixed letters and digits, high Shannon entropy: an api key rather than a word or a name."""
    if len(value) < 16 or not re.search(r"\d", value) or not re.search(r"[A-Za-z]", value):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 3.5


def _unquote(value: str) -> tuple[str, str]:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[0], value[1:-1]
    return "", value


def _in_prose(m: re.Match[str], value: str, sep: str) -> bool:
    """`key: word more words`: a sentence that names a secret, not one written down."""
    return "=" not in sep and bool(_WORD.fullmatch(value)) and bool(_PROSE_NEXT.match(m.string, m.end()))


def _mask_pairs(text: str) -> str:
    out, done = [], 0
    for m in _KEY_SEP.finditer(text):
        if m.start() < done:
            continue  # inside a value already masked
        key = m["key"]
        strict = _SECRET_END.search(key) is not None
        if not strict and _LOOSE_END.search(key) is None:
            continue
        value = _VALUE.match(text, m.end())
        if value is None:
            continue
        quote, inner = _unquote(value[0])
        if (not inner or _HARMLESS.match(inner) or (not strict and not looks_random(inner))
                or (not quote and _in_prose(value, inner, m["sep"]))):
            continue
        out += [text[done:m.end()], quote, MASK, quote]
        done = value.end()
    return "".join(out) + text[done:] if out else text


def _mask_auth_header(m: re.Match[str]) -> str:
    scheme, value = m[2], m[4]
    if value.startswith("[REDACTED"):
        return m.group(0)
    if scheme and not _SCHEMES.fullmatch(scheme) and _WORD.fullmatch(value.rstrip(":.,;!?)")):
        return m.group(0)  # "… may require authorization: server message: …"
    if not scheme and _in_prose(m, value, ":"):
        return m.group(0)
    return f"{m[1]}{scheme or ''}{m[3] or ''}{MASK}"


def _mask_bearer(m: re.Match[str]) -> str:
    if m[3].startswith("[REDACTED") or _WORD.fullmatch(m[3]):  # "basic authentication", "bearer tokens"
        return m.group(0)
    return f"{m[1]}{m[2]}{MASK}"


def _mask_url_user(m: re.Match[str]) -> str:
    user = m[2]
    keyish = looks_random(user) or re.fullmatch(r"[0-9a-f]{32,}", user, re.IGNORECASE)
    return f"{m[1]}{MASK}@" if keyish else m.group(0)


def _mask_written(m: re.Match[str]) -> str:
    """The value after a password flag or attribute, unless it is a placeholder (`-p…`, `--token $TOKEN`)."""
    value = m[2].strip("\"'`),.;")
    if not value or value.startswith("…") or _HARMLESS.match(value):
        return m.group(0)
    return f"{m[1]}{MASK}"


def _mask_aws_secret(text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        value = m[0]
        if value.isdigit() or value.islower() or value.isupper():  # a git sha, a number, a word run: not a key
            return value
        around = text[max(0, m.start() - 160):m.start()] + " " + text[m.end():m.end() + 60]
        return MASK if _AWS_CONTEXT.search(around) else value

    return _AWS_SECRET.sub(replace, text)


def _mask_b64_armor(m: re.Match[str]) -> str:
    head = m[0][:48]
    label = base64.b64decode(head[:len(head) // 4 * 4]).decode("ascii", "replace")
    return KEY_MASK if re.search("PRIVATE|SECRET|ENCRYPTED", label) else m[0]


# A Kubernetes Secret printed whole (kubectl's JSON or YAML, the last-applied annotation): every value under its
# data / stringData is masked, whatever the key is called (DATABASE_URL, tls.key…), base64 or plain.
_SECRET_KIND = re.compile(r"""\bkind\\?["']?\s*:\s*\\?["']?Secret\b""")
_JSON_DATA = re.compile(r"""(\\?"(?:data|stringData)\\?"\s*:\s*\{)([^{}]*)(\})""")
_JSON_VALUE = re.compile(r'(\\?"[^"\\]+\\?"\s*:\s*)\\?"(?:[^"\\]|\\[^"])*\\?"')
_YAML_DATA = re.compile(r"^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*$")
_YAML_ENTRY = re.compile(r"^(?P<indent>[ \t]*)(?P<key>[\w.-]+:)[ \t]*(?P<value>\S.*)$")


def _mask_secret_manifest(text: str) -> str:
    text = _JSON_DATA.sub(lambda m: m[1] + _JSON_VALUE.sub(lambda v: f'{v[1]}"{MASK}"', m[2]) + m[3], text)
    lines, out, inside = text.split("\n"), [], None
    for line in lines:
        entry = _YAML_ENTRY.match(line)
        if inside is not None and entry and len(entry["indent"]) > inside:
            line = f"{entry['indent']}{entry['key']} {MASK}"
        elif (data := _YAML_DATA.match(line)) is not None:
            inside = len(data["indent"])
        elif line.strip():
            inside = None
        out.append(line)
    return "\n".join(out)


def redact(text: str) -> str:
    """The text with every recognised secret replaced by [REDACTED] (keys, schemes and users kept)."""
    if not text:
        return text
    return _redact_short(text) if len(text) <= SHORT else _redact(text)


# Every word some masking rule below cannot match without (each rule is skipped in _redact when its word is
# absent), and every token's word or shape, in one pattern: most text holds none and is returned after this
# search. RE2 runs it in one linear pass over the text (re would try each alternative at every position: 50
# times slower on a 2 KB log line). The case-insensitive words fold like IGNORECASE on ASCII text; other text
# skips this gate. "@" stands for the URL rules (both need it after "://").
GATE = "|".join((
    r"BEGIN|LS0tLS1CRUdJTi|Secret|Private-Lines:|@|eyJ|--|value=| -|requirepass|masterauth|AUTH",
    "(?i:" + "|".join(("authorization", "bearer", "basic", *map(re.escape, _AWS_WORDS), *_PAIR_PARTS)) + ")",
    TOKEN_GATE))
_GATE = re2.compile(GATE)


def nothing_to_mask(text: str) -> bool:
    """True when no rule can mask anything in the text (False: some might)."""
    return text.isascii() and _GATE.search(text) is None


# an alert storm repeats its label values (alert names, namespaces, severities, containers): short texts are
# remembered (redact is pure), so a storm's intake masks each distinct value once
SHORT = 200


@functools.lru_cache(maxsize=8192)
def _redact_short(text: str) -> str:
    return _redact(text)


def _redact(text: str) -> str:
    if nothing_to_mask(text):
        return text
    if "-----BEGIN" in text or "---- BEGIN" in text:
        text = _PEM.sub(KEY_MASK, text)
    if "LS0tLS1CRUdJTi" in text:
        text = _B64_ARMOR.sub(_mask_b64_armor, text)
    if "Secret" in text and _SECRET_KIND.search(text):
        text = _mask_secret_manifest(text)
    if "Private-Lines:" in text:
        text = _PUTTY.sub(rf"\1 {KEY_MASK}", text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m[1]}{m[2]}:{MASK}@", text)
        text = _URL_USER.sub(_mask_url_user, text)
    # each pattern below runs only where the text holds a word its match cannot do without; on ASCII text (whose
    # lower() is exactly what IGNORECASE folds) that is checked on the lowered text, else every pattern runs
    low = text.lower()
    caseless = not text.isascii()
    if caseless or "authorization" in low:
        text = _AUTH_HEADER.sub(_mask_auth_header, text)
    if caseless or "bearer" in low or "basic" in low:
        text = _BEARER.sub(_mask_bearer, text)
    if "eyJ" in text:
        text = _JWT.sub("[REDACTED jwt]", text)
    text = mask_tokens(text)
    low = text.lower()
    if any(word in low for word in _AWS_WORDS) and _AWS_CONTEXT.search(text):
        text = _mask_aws_secret(text)
    if "--" in text:
        text = _CLI_FLAG.sub(_mask_written, text)
    if "value=" in text:
        text = _XML_VALUE.sub(_mask_written, text)
    if " -" in text:
        text = _JAVA_PASS.sub(_mask_written, text)
        text = _DB_CLI_P.sub(_mask_written, text)
        text = _LOGIN_CLI_P.sub(_mask_written, text)
        text = _CURL_USER.sub(_mask_written, text)
    if "requirepass" in text or "masterauth" in text or "AUTH" in text:
        text = _REDIS_CONF.sub(lambda m: m.group(0) if _WORD.fullmatch(m[2].rstrip(":.,;!?")) else f"{m[1]}{MASK}",
                               text)
    if not caseless and not any(part in low for part in _PAIR_PARTS):
        return text
    return _mask_pairs(text)


_SECRET_KEY = re.compile(rf"(?:^|[_.-])(?:{_SECRET_WORDS})$|^(?:{_SECRET_WORDS})$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) or key.lower() in ("authorization", "cookie", "set-cookie")


def redact_data(data: Any) -> Any:
    """The same structure with secret-named keys' values masked and every string redacted."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict) and data.get("kind") != "Secret" and all(type(v) is str for v in data.values()):
        # a flat map of strings (an alert's labels and annotations): the common case, without the walk
        return {k: (MASK if isinstance(k, str) and secret_key(k) and v else redact(v)) for k, v in data.items()}
    if isinstance(data, Mapping):
        if data.get("kind") == "Secret":  # a Secret object: its values go, whatever their keys are called
            data = {k: ({dk: MASK for dk in v} if k in ("data", "stringData") and isinstance(v, Mapping) else v)
                    for k, v in data.items()}
        return {k: (MASK if isinstance(k, str) and secret_key(k) and v not in (None, "") else redact_data(v))
                for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v) for v in _mask_argv(_mask_key_blocks(data))]
    return data


_BLOCK_BEGIN = re.compile(rf"-{{4,5}} ?BEGIN {_ARMOR_LABEL} ?-{{4,5}}")
_PUTTY_LINES = re.compile(r"Private-Lines: (\d+)\s*$")
_BLOCK_END = re.compile(rf"-{{4,5}} ?END {_ARMOR_LABEL} ?-{{4,5}}")


# an argv written as a list (a container's command and args): the item after a password flag, and the
# password a database CLI takes glued to -p, each on its own item
_FLAG_ITEM = re.compile(r"--[a-z0-9-]*(?:password|passwd|pass|token|secret|api-key|apikey|access-key|secret-key)$",
                        re.IGNORECASE)
_GLUED_P_CLI = re.compile(r"(?:.*/)?(?:mysql\w*|mariadb[\w-]*)$")
_SPACED_CLI = {"sshpass": "-p", "mongo": "-p", "mongosh": "-p", "mongodump": "-p", "mongorestore": "-p",
               "redis-cli": "-a", "ldapsearch": "-w", "ldapadd": "-w", "ldapmodify": "-w"}


def _mask_argv(items: list[Any]) -> list[Any]:
    if not any(isinstance(item, str) and item.startswith("-") for item in items):
        return items
    program = items[0].rsplit("/", 1)[-1] if items and isinstance(items[0], str) else ""
    spaced = _SPACED_CLI.get(program)
    out, mask_next = [], False
    for item in items:
        if not isinstance(item, str):
            out.append(item)
            mask_next = False
            continue
        if mask_next and not _HARMLESS.match(item):
            item = MASK
        elif _GLUED_P_CLI.match(program) and len(item) > 2 and item.startswith("-p") and not item.startswith("-p="):
            item = f"-p{MASK}" if not _HARMLESS.match(item[2:]) else item
        mask_next = bool(_FLAG_ITEM.match(item)) or (spaced is not None and item == spaced)
        out.append(item)
    return out


def _mask_key_blocks(items: list[Any] | tuple[Any, ...]) -> list[Any]:
    """A private key split over several items (log lines) is masked whole: the lines after a BEGIN line that
    does not close, up to and including its END line (or the end of the list), and the N lines after a PuTTY
    key's `Private-Lines: N`. The BEGIN line itself is masked by redact()."""
    out: list[Any] = []
    inside, lines_left = False, 0
    for item in items:
        if isinstance(item, str):
            if inside or lines_left:
                inside = inside and not _BLOCK_END.search(item)
                lines_left = max(lines_left - 1, 0)
                out.append(KEY_MASK)
                continue
            begin = _BLOCK_BEGIN.search(item)
            inside = begin is not None and not _BLOCK_END.search(item, begin.end())
            putty = _PUTTY_LINES.search(item)
            lines_left = int(putty[1]) if putty else 0
        out.append(item)
    return out
