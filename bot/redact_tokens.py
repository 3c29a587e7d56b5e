"""Provider tokens by their prefixes (from public secret-scanner rules): each shape with the cheap substring
checks that gate it, so a line runs only the few patterns it could match."""

from __future__ import annotations

import re

MASK = "[REDACTED]"
AWS_ID_PREFIXES = ("A3T", "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "APKA")

# provider tokens by their prefixes: (words one of which the text must contain, the pattern). The words are
# cheap substring checks, so a line runs only the few patterns it could match (no words: always run).
_TOKEN_RULES: list[tuple[tuple[str, ...], str]] = [
    (("xox",), r"\bxox[abposre]-[A-Za-z0-9-]{10,}"),  # Slack bot/user/app-level/config tokens
    (("xoxe.xox",), r"\bxoxe\.xox[bp]-\d-[A-Za-z0-9-]{20,}"),
    (("xapp-",), r"\bxapp-\d-[A-Za-z0-9-]{10,}"),
    (("hooks.slack.com",), r"\bhooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"),
    (("gh",), r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub
    (("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    # GitLab: personal, deploy, runner, trigger, feed, incoming mail, agent, OAuth, SCIM, feature-flag,
    # CI job tokens, the routable forms (glpat-<random>.01.<suffix>) and runner registration tokens
    (("gl",), r"\bgl(?:pat|dt|rt|ptt|ft|imt|agent|oas|soat|ffct|cbt|wt|rtr)-[0-9A-Za-z_.-]{20,}"),
    (("GR1348941",), r"\bGR1348941[0-9A-Za-z_-]{20,}"),
    (("sk-",), r"\bsk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),  # OpenAI, Anthropic
    (("_live_", "_test_"), r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),  # Stripe
    (("whsec_",), r"\bwhsec_[A-Za-z0-9+/=_-]{16,}"),  # webhook signing secrets (Stripe, Svix, Clerk…)
    # AWS access key ids
    (AWS_ID_PREFIXES, rf"\b(?:{'|'.join(AWS_ID_PREFIXES).replace('A3T', 'A3T[A-Z0-9]')})[0-9A-Z]{{16}}\b"),
    (("AIza",), r"\bAIza[0-9A-Za-z_-]{35}"),  # Google API keys
    (("GOCSPX-",), r"\bGOCSPX-[A-Za-z0-9_-]{28}"),  # Google OAuth client secret
    (("ya29.",), r"\bya29\.[0-9A-Za-z_-]{20,}"),  # Google OAuth access token
    (("1//0",), r"\b1//0[0-9A-Za-z_-]{30,}"),  # Google OAuth refresh token
    (("sntry",), r"\bsntry[su]_[A-Za-z0-9_=+/-]{20,}"),  # Sentry
    (("npm_",), r"\bnpm_[A-Za-z0-9]{36}"),
    ((), r"(?<![\d:])\d{8,10}:[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])"),  # Telegram bot tokens, also in bot URLs
    (("SG.",), r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),  # SendGrid
    (("SK", "AC"), r"\b(?:SK|AC)[0-9a-f]{32}\b"),  # Twilio API key / account SID
    ((), r"\b[MNO][A-Za-z0-9]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}\b"),  # Discord bot tokens
    (("discord",), r"\bdiscord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]+"),
    ((".webhook.office.com",), r"\b[a-z0-9-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@/-]+"),  # Microsoft Teams
    (("-us",), r"\b[0-9a-f]{32}-us[0-9]{1,2}\b"),  # Mailchimp
    (("key-",), r"\bkey-[0-9a-f]{32}\b"),  # Mailgun
    (("xkeysib-",), r"\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),  # Brevo (Sendinblue)
    (("pypi-AgEIcHlwaS5vcmc",), r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),  # PyPI upload tokens
    (("rubygems_",), r"\brubygems_[a-f0-9]{48}\b"),
    (("CLOJARS_",), r"\bCLOJARS_[A-Za-z0-9]{60}"),
    (("shp",), r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b"),  # Shopify
    (("_v1_",), r"\bdo[opr]_v1_[a-f0-9]{64}\b"),  # DigitalOcean
    (("hf_",), r"\bhf_[A-Za-z0-9]{30,}\b"),  # Hugging Face
    (("api_org_",), r"\bapi_org_[A-Za-z0-9]{34}\b"),
    (("AccountKey",), r"\bAccountKey=[A-Za-z0-9+/=]{40,}"),  # Azure storage connection strings
    (("SharedAccessKey",), r"\bSharedAccessKey=[A-Za-z0-9+/=]{40,}"),  # Azure Service Bus / Event Hubs
    (("Q~",), r"(?<![A-Za-z0-9_~.])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}"),  # Azure AD client secrets
    (("sq0",), r"\bsq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}"),  # Square
    (("lin_api_",), r"\blin_api_[A-Za-z0-9]{40}"),  # Linear
    (("ATATT3",), r"\bATATT3[A-Za-z0-9_=-]{60,}"),  # Atlassian API tokens
    (("dapi",), r"\bdapi[a-f0-9]{32}(?:-\d)?\b"),  # Databricks
    (("dp.",), r"\bdp\.(?:st|ct|sa|scim|audit|pt)\.[A-Za-z0-9_.-]{40,}"),  # Doppler
    (("gl",), r"\bgl(?:sa|c)_[A-Za-z0-9_=+/-]{32,}"),  # Grafana service-account and cloud tokens
    (("eyJrIjoi",), r"\beyJrIjoi[A-Za-z0-9]{50,}={0,3}"),  # Grafana API keys
    (("NR",), r"\bNR(?:AK|II|JS)-[A-Za-z0-9-]{19,32}\b"),  # New Relic
    (("pul-",), r"\bpul-[a-f0-9]{40}\b"),  # Pulumi
    ((".atlasv1.",), r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{50,}"),  # Terraform Cloud
    (("hv",), r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}"),  # HashiCorp Vault
    (("s.",), r"\bs\.(?=[A-Za-z0-9]{0,23}\d)(?=[A-Za-z0-9]{0,23}[A-Z])[A-Za-z0-9]{24}\b"),  # Vault legacy tokens
    (("PMAK-",), r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"),  # Postman
    (("AGE-SECRET-KEY-1",), r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b"),  # age
    (("AAAA",), r"\bAAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{100,}"),  # Firebase Cloud Messaging server keys
    (("secret_", "ntn_"), r"\b(?:secret_[A-Za-z0-9]{43}|ntn_\d{11}[A-Za-z0-9]{35})\b"),  # Notion
    (("A3-",), r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})(?:-[A-Z0-9]{5}){3}\b"),  # 1Password
    (("ops_eyJ",), r"\bops_eyJ[A-Za-z0-9+/]{100,}={0,3}"),
    (("AKCp",), r"\bAKCp[A-Za-z0-9]{60,}"),  # Artifactory
    (("cmVmd",), r"\bcmVmd[A-Za-z0-9]{59}\b"),
    (("LTAI",), r"\bLTAI[A-Za-z0-9]{20}\b"),  # Alibaba Cloud
    (("dt0c01.",), r"\bdt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"),  # Dynatrace
    (("EZ",), r"\bEZ[AT]K[A-Za-z0-9]{54}\b"),  # EasyPost
    (("EAA",), r"\bEAA[MC][A-Za-z0-9]{100,}"),  # Facebook
    (("FLW",), r"\bFLW(?:SECK|PUBK)(?:_TEST)?-[A-Za-z0-9]{12,32}(?:-X)?"),  # Flutterwave
    (("fo1_", "fm1", "fm2"), r"\b(?:fo1_[\w-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})"),  # Fly.io
    (("fio-u-",), r"\bfio-u-[A-Za-z0-9_=-]{64}"),  # Frame.io
    (("pat.", "sat."), r"\b(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),  # Harness
    (("HRKU-AA",), r"\bHRKU-AA[0-9A-Za-z_-]{58}"),  # Heroku
    (("ico-",), r"\bico-[A-Za-z0-9]{32}\b"),  # Infracost
    (("_mmk",), r"\b[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk\b"),  # MaxMind
    (("sha256~",), r"\bsha256~[\w-]{43}"),  # OpenShift user tokens
    (("pplx-",), r"\bpplx-[A-Za-z0-9]{48}"),  # Perplexity
    (("pscale_",), r"\bpscale_(?:tkn|oauth|pw)_[\w=.-]{32,64}"),  # PlanetScale
    (("pnu_",), r"\bpnu_[A-Za-z0-9]{36}\b"),  # Prefect
    (("rdme_",), r"\brdme_[a-z0-9]{70}\b"),  # ReadMe
    (("tk-us-",), r"\btk-us-[\w-]{48}"),  # Scalingo
    (("sm_",), r"\bsm_(?:aat|pat|sat)_[A-Za-z0-9]{16}\b"),  # SettleMint
    (("shippo_",), r"\bshippo_(?:live|test)_[a-fA-F0-9]{40}\b"),  # Shippo
    (("duffel_",), r"\bduffel_(?:test|live)_[A-Za-z0-9_=-]{43}"),  # Duffel
    (("v1.0-",), r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),  # Cloudflare origin CA keys
    (("glsa_",), r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b"),
    (("$",), r"\$(?:2[aby]?|5|6|apr1|argon2id?)\$[./A-Za-z0-9$=,]{20,}"),  # password hashes (htpasswd, shadow)
    (("dckr_pat_",), r"\bdckr_pat_[A-Za-z0-9_-]{27}"),  # Docker Hub
    (("sbp_",), r"\bsbp_[a-f0-9]{40}\b"),  # Supabase
    (("tskey-",), r"\btskey-[a-z]+-[A-Za-z0-9]+-[A-Za-z0-9]+"),  # Tailscale
    (("bkua_",), r"\bbkua_[a-f0-9]{40}\b"),  # Buildkite
    (("CCIPAT_",), r"\bCCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}"),  # CircleCI
    (("sk.eyJ",), r"\bsk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}"),  # Mapbox secret tokens
    (("access_token$production$",), r"\baccess_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}"),  # PayPal Braintree
    (("ATBB",), r"\bATBB[A-Za-z0-9_=.-]{32}"),  # Bitbucket app passwords
    (("sgp_",), r"\bsgp_(?:[a-fA-F0-9]{16}_)?[a-fA-F0-9]{40}"),  # Sourcegraph
    (("CFPAT-",), r"\bCFPAT-[A-Za-z0-9_-]{43}"),  # Contentful
    (("tfp_",), r"\btfp_[A-Za-z0-9_.=-]{59}"),  # Typeform
]
_TOKENS_BY_WORD = [(words, re.compile(rx)) for words, rx in _TOKEN_RULES if words]
_TOKENS_ALWAYS = re.compile("|".join(rx for words, rx in _TOKEN_RULES if not words))




def _prefix_tree(words: set[str]) -> str:
    """A pattern that finds whether any of the words occurs: their common prefixes factored out, so the engine
    branches once per character instead of trying every word at every position (a word that is a prefix of
    another is enough on its own)."""
    if "" in words:
        return ""
    heads: dict[str, set[str]] = {}
    for word in words:
        heads.setdefault(word[0], set()).add(word[1:])
    alternatives = [re.escape(head) + _prefix_tree(tails) for head, tails in sorted(heads.items())]
    return alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"


# any of the words at all: most text holds none, and then no word-gated rule can match
_ANY_WORD = re.compile(_prefix_tree({w for words, _ in _TOKEN_RULES for w in words}))
# zero-width edges (lookarounds, \b): dropping one only widens a pattern, and what is left runs on any engine
_EDGE = re.compile(r"\(\?<?[=!][^()]*\)|\\b")
# a pattern that finds every text some rule could find a token in (and some more): every rule without its
# edges (its words would do too, but "s." of Vault's legacy tokens ends half the sentences written)
TOKEN_GATE = "|".join(_EDGE.sub("", rx) for _, rx in _TOKEN_RULES)


def mask_tokens(text: str) -> str:
    """Every provider token in the text replaced by MASK."""
    if ":" in text or "." in text:  # the always-run shapes (Telegram, Discord) each hold one of them
        text = _TOKENS_ALWAYS.sub(MASK, text)
    if not _ANY_WORD.search(text):
        return text
    for words, pattern in _TOKENS_BY_WORD:
        for word in words:
            if word in text:
                text = pattern.sub(MASK, text)
                break
    return text
