"""Secret shapes as they turn up in logs, events, alerts and Sentry issues: (name, line, secret).

Each line holds one secret the way an application, a library or an operator writes it; `secret` is the part
that must never leave opsbot. The values are made up with the shapes the providers document (prefixes,
lengths, alphabets) and the forms secret scanners look for. Tests plant the lines and search every surface.
"""

from __future__ import annotations

_HEX32 = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
_B64_40 = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1"

# provider tokens: (name, secret, how it is written)
_TOKENS = [
    ("aws access key id", "AKIAZ3MSJV4WPQ7XK2L9", "aws_access_key_id={}"),
    ("aws temporary key id", "ASIAZ3MSJV4WPQ7XK2L9", "using credentials {} from the instance profile"),
    ("github classic token", "ghp_R3aLLy5ecr3tT0k3nV4lu3xYz0123456789", "git clone https://x:{}@github.com/shop/app"),
    ("github oauth token", "gho_16C7e42F292c6912E7710c838347Ae178B4a", "oauth token {}"),
    ("github app token", "ghs_16C7e42F292c6912E7710c838347Ae178B4a", "installation token {} expires in 1h"),
    ("github refresh token", "ghr_1B4a2e77838347a7E420ce178F2E7c6912E1", "refresh {}"),
    ("github fine-grained pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
     "GH_PAT {}"),
    ("gitlab pat", "glpat-xYz1234567890ABCDEFGH", "gitlab token: {}"),
    ("slack bot token", "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1", "slack client init {}"),
    ("slack user token", "xoxp-263594206564-2343594206574-2343594206574-fakeuser1234567890abcd", "user token {}"),
    ("slack app token", "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef", "socket mode {}"),
    ("slack webhook", "hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
     "posting to https://{}"),
    ("telegram bot token", "5012345678:AAE7dHqZ9vX1kYw2L3mN4oP5qR6sT7uV8wX", "telegram ready with {}"),
    ("telegram bot url", "7012345678:AAFqZ9vX1kYw2L3mN4oP5qR6sT7uV8wXyZa",
     "POST https://api.telegram.org/bot{}/sendMessage failed"),
    ("stripe live secret", "sk_live_51H8xYzAbCdEfGhIjKlMnOpQr", "stripe.api_key = {}"),
    ("stripe test secret", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "charge with {}"),
    ("stripe restricted", "rk_live_51H8xYzAbCdEfGhIjKlMnOpQr", "restricted key {}"),
    ("sendgrid", "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", "mail via {}"),
    ("twilio api key", "SK2a1b3c4d5e6f708192a3b4c5d6e7f801", "twilio {}"),
    ("twilio account sid", "AC2a1b3c4d5e6f708192a3b4c5d6e7f801", "account {}"),
    ("discord bot token", "MTA0NTY3ODkwMTIzNDU2Nzg5MA.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789",
     "discord login {}"),
    ("mailchimp", "0123456789abcdef0123456789abcdef-us14", "mailchimp key {}"),
    ("npm token", "npm_abcdefghijklmnopqrstuvwxyz0123456789", "//registry.npmjs.org/:_authToken {}"),
    ("pypi token", "pypi-AgEIcHlwaS5vcmcCJGY0ZjM0ZjU2LTc4OWEtNDU2Ny1iY2RlLWYwMTIzNDU2Nzg5YQACKlszLCJiIl0",
     "twine upload with {}"),
    ("openai key", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "openai client {}"),
    ("anthropic key", "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAA", "anthropic {}"),
    ("google api key", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "maps key={}"),
    ("sentry auth token", "sntrys_eyJpYXQiOjE2OTQwMDAwMDAuMCwidXJsIjoiaHR0cHM6Ly9zZW50cnkuaW8ifQ",
     "sentry-cli using {}"),
    ("shopify token", "shpat_0123456789abcdef0123456789abcdef", "shopify {}"),
    ("digitalocean token", "dop_v1_" + "ab" * 32, "doctl {}"),
    ("hugging face token", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "hub login {}"),
    ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
     "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "session {}"),
    ("azure storage key", "AccountKey=" + "Zm9vYmFyYmF6cXV4" * 5 + "AB==",
     "DefaultEndpointsProtocol=https;AccountName=shop;{};EndpointSuffix=core.windows.net"),
    ("square access token", "sq0atp-1a2B3c4D5e6F7g8H9i0J1k", "square {}"),
    ("linear api key", "lin_api_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", "linear {}"),
    ("atlassian api token", "ATATT3xFfGF0" + "aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV" * 2 + "=1A2B3C4D", "jira {}"),
    ("databricks token", "dapi0123456789abcdef0123456789abcdef", "databricks {}"),
    ("doppler token", "dp.st.prd.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", "doppler {}"),
    ("grafana service account token", "glsa_AbCdEfGhIjKlMnOpQrStUvWxYz012345_0a1b2c3d", "grafana {}"),
    ("grafana cloud token", "glc_eyJvIjoiMTIzNDU2IiwibiI6InN0YWNrLTEyMzQ1NiIsImsiOiJhYmNkZWYifQ==", "grafana cloud {}"),
    ("new relic key", "NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ0", "newrelic {}"),
    ("pulumi token", "pul-0123456789abcdef0123456789abcdef01234567", "pulumi {}"),
    ("terraform cloud token", "AbCdEfGhIjKlMn.atlasv1.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrSt",
     "terraform {}"),
    ("vault token", "hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "vault {}"),
    ("postman key", "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01", "postman {}"),
    ("age secret key", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "age {}"),
    ("firebase server key", "AAAAAbCdEfG:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx5uSDoOkXyt3-0hKXPbZDL0Z7ZvSL"
     "qoVrmGCuPfV7lTmjO0u0rLDkF4rTZkGXhK1ZmSdq7hbX3Pp0nnqF4nkJ_Lgv", "fcm {}"),
    ("notion token", "secret_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG", "notion {}"),
]

# values under secret-named keys, in the forms configuration and logs use
_KEYED = [
    ("env password", "DB_PASSWORD={}", "Tr0ub4dor&3"),
    ("env token", "export API_TOKEN={}", "c0rrect-h0rse-battery"),
    ("env secret key", "SECRET_KEY={}", "django-insecure-8s7d6f5g4h3j2k1"),
    ("datadog api key", "DD_API_KEY={}", _HEX32),
    ("datadog app key", "DD_APP_KEY={}", _HEX32[::-1] + "abcd1234"),
    ("aws secret access key", "aws_secret_access_key = {}", _B64_40),
    ("azure client secret", "AZURE_CLIENT_SECRET={}", "Q~8a7b6c5d4e3f2g1h0i9j8k7l6m5n4o3p2q1r"),
    ("json password", '{{"user": "app", "password": "{}"}}', "pa55w0rd!JSON"),
    ("json api key", '{{"api_key": "{}", "region": "eu"}}', "ak_9f8e7d6c5b4a3928"),
    ("json client secret", '{{"client_id": "opsbot", "client_secret": "{}"}}', "cs-1a2b3c4d5e6f7g8h"),
    ("yaml password", "  password: {}", "yamlS3cret!"),
    ("yaml token", "  token: {}", "yamlT0ken-42"),
    ("quoted passphrase", "passphrase='{}'", "my long pass phrase 77"),
    ("private key field", "private_key = {}", "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu"),
    ("access key field", "access_key: {}", "AK-7f6e5d4c3b2a1908"),
    ("auth token field", "auth_token={}", "at_0a1b2c3d4e5f6a7b"),
    ("session token field", "session_token={}", "FwoGZXIvYXdzEJr//////////wEaDHqa0AP"),
    ("credentials field", "credentials: {}", "svc:Cr3dz-x9"),
    ("query string token", "GET /callback?token={}&page=2", "qs-t0k3n-abc123"),
    ("query string api key", "GET /v1/data?api_key={}", "qs-ak-9f8e7d6c"),
    ("cli password flag", "mysql --password {} -h db", "cliPw-88aa"),
    ("cli token flag", "vault login --token={}", "hvs.CAESIJ1a2b3c4d5e6f7g8h9"),
    ("high-entropy signature", "signature={}", "9f8e7d6c5b4a39281706f5e4d3c2b1aZ"),
    ("high-entropy cookie", "cookie: {}", "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"),
    ("kube token", "token: {}", "eyJhbGciOiJSUzI1NiIsImtpZCI6Ik1rdXNlciJ9.payloadpart.sigpart12345"),
    ("basic auth header", "Authorization: Basic {}", "YWRtaW46c3VwZXJzZWNyZXQ="),
    ("bearer header", "Authorization: Bearer {}", "bearer.Tok3n-Value_987654"),
    ("proxy authorization", "Proxy-Authorization: Basic {}", "cHJveHk6cHJveHlwYXNz"),
    ("api key header", "X-Api-Key: {}", "hdr-ak-1234abcd5678"),
    ("bare bearer", "retrying with bearer {}", "AbCdEf0123456789xyzUVW"),
]

# credentials inside URLs: the password is the secret
_URLS = [
    ("postgres url", "postgres://checkout:{}@db.shop:5432/checkout", "Sup3rS3cretPw0rd"),
    ("postgresql url", "postgresql+psycopg://app:{}@pg-primary/app", "pgPa55-Word"),
    ("mysql url", "mysql://root:{}@mariadb:3306/shop", "mysqlR00tPw"),
    ("mongodb url", "mongodb+srv://svc:{}@cluster0.mongodb.net/prod", "m0ng0Pass"),
    ("redis url", "redis://:{}@cache:6379/0", "redisPa55"),
    ("amqp url", "amqp://guest:{}@rabbit:5672/", "rabbitPw77"),
    ("https basic auth", "fetching https://deploy:{}@artifacts.example.com/app.tgz", "artPw-123"),
    ("ftp url", "ftp://backup:{}@files.example.com/dump", "ftpSecret9"),
    ("smtp url", "smtp://mailer:{}@smtp.example.com:587", "smtpPw55"),
    ("elasticsearch url", "http://elastic:{}@es:9200/_cluster/health", "elasticPw1"),
]


def _corpus() -> list[tuple[str, str, str]]:
    out = [(name, how.format(secret), secret) for name, secret, how in _TOKENS]
    out += [(name, how.format(secret), secret) for name, how, secret in _KEYED]
    out += [(name, how.format(secret), secret) for name, how, secret in _URLS]
    return out


CORPUS = _corpus()
PEM_LINES = ["loading key -----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEAxKeyBodyLineOne0123456789abcd",
             "Q2VjcmV0S2V5Qm9keUxpbmVUd28wMTIzNDU2Nzg5YWJj", "-----END RSA PRIVATE KEY-----"]
PEM_SECRETS = [PEM_LINES[1], PEM_LINES[2]]
