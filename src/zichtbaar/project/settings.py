"""Settings from the environment (12-factor).

Two modes: ``development`` (the default; used by ``zichtbaar demo`` and the tests) generates a
secret key and a field-encryption key on first run and keeps them in the data folder, and
``production`` (``ZICHTBAAR_ENV=production``, what ``zichtbaar serve`` expects) refuses to start
without them and turns on every transport-security setting so ``check --deploy`` is silent.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent


# Every missing or malformed variable adds one line here; all of them are raised together at
# the end of this module, so an operator fixes the whole list in one go (`zichtbaar check`
# prints them without a traceback).
PROBLEMS: list[str] = []
MAKE_SECRET = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105
MAKE_FERNET = ("make one with: python3 -c 'from cryptography.fernet import Fernet; "
               "print(Fernet.generate_key().decode())'")
MIN_SECRET_LENGTH = 32
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        PROBLEMS.append(f"{name} is {value!r}: use 1 or 0 (also true/false, yes/no, on/off).")
        return default
    return word in TRUE_WORDS


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        number = minimum - 1
    if number < minimum:
        PROBLEMS.append(f"{name} is {value!r}: use a whole number of at least {minimum}, "
                        f"e.g. {name}={default}.")
        return default
    return number


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


ENVIRONMENT = os.environ.get("ZICHTBAAR_ENV", "development").strip().lower()
if ENVIRONMENT not in {"development", "production"}:
    PROBLEMS.append(f"ZICHTBAAR_ENV is {os.environ.get('ZICHTBAAR_ENV')!r}: use 'production' "
                    "(what `zichtbaar serve` expects) or 'development'.")
    ENVIRONMENT = "production"  # report everything production would need
PRODUCTION = ENVIRONMENT == "production"

DATA_DIR = Path(os.environ.get("ZICHTBAAR_DATA_DIR") or Path.cwd() / "var").resolve()


def _development_secret(filename: str, make: callable) -> str:  # type: ignore[valid-type]
    """A development key kept in the data folder so restarts keep sessions and data readable."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _production_secret(name: str, *, required: bool) -> str:
    """A secret from the environment; in production a missing or short one is a problem."""
    value = os.environ.get(name, "").strip()
    if PRODUCTION and not value and required:
        PROBLEMS.append(f"{name} must be set in production: {MAKE_SECRET}")
    elif PRODUCTION and value and len(value) < MIN_SECRET_LENGTH:
        PROBLEMS.append(f"{name} is too short ({len(value)} characters, at least "
                        f"{MIN_SECRET_LENGTH}): {MAKE_SECRET}")
    return value


DEBUG = _env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    PROBLEMS.append("DEBUG must be off in production: unset DEBUG or set DEBUG=0.")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        PROBLEMS.append(f"SECRET_KEY must be set in production: {MAKE_SECRET}")
        SECRET_KEY = "unset"  # noqa: S105  (never used: the problems raised below stop the start)
    else:
        SECRET_KEY = _development_secret("secret_key", lambda: secrets.token_urlsafe(64))

# Comma-separated Fernet keys, newest first: the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = _env_list("ZICHTBAAR_FIELD_KEY", [])
if not FIELD_ENCRYPTION_KEYS:
    if PRODUCTION:
        PROBLEMS.append(f"ZICHTBAAR_FIELD_KEY must be set in production: {MAKE_FERNET}")
    else:
        from cryptography.fernet import Fernet

        FIELD_ENCRYPTION_KEYS = [
            _development_secret("field_key", lambda: Fernet.generate_key().decode())
        ]
else:
    from cryptography.fernet import Fernet

    for _position, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(_key)
        except (ValueError, TypeError):
            PROBLEMS.append(f"ZICHTBAAR_FIELD_KEY: key {_position} of "
                            f"{len(FIELD_ENCRYPTION_KEYS)} is not a Fernet key (32 bytes, "
                            f"url-safe base64); {MAKE_FERNET}")

# Key for the audit trail's HMAC chain, held outside the database.
AUDIT_CHAIN_KEY = _production_secret("ZICHTBAAR_AUDIT_KEY", required=False) or SECRET_KEY

# Secret of the pseudonymous linkage keys (HMAC of normalised identifiers, Bloom-filter
# encodings). Held outside the database; partners who link with us share this one key.
LINKAGE_KEY = _production_secret("ZICHTBAAR_LINKAGE_KEY", required=True)
if not LINKAGE_KEY and not PRODUCTION:
    LINKAGE_KEY = _development_secret("linkage_key", lambda: secrets.token_urlsafe(48))

# Pepper for pseudonyms that must never leave this installation (helpline returning codes).
PSEUDONYM_KEY = (_production_secret("ZICHTBAAR_PSEUDONYM_KEY", required=False)
                 or AUDIT_CHAIN_KEY + ":pseudonym")

ALLOWED_HOSTS = _env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    PROBLEMS.append("ALLOWED_HOSTS must be set in production: the comma-separated host names "
                    "the site is served under, e.g. ALLOWED_HOSTS=zichtbaar.example.org")
CSRF_TRUSTED_ORIGINS = _env_list("ZICHTBAAR_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "zichtbaar.core",
    "zichtbaar.accounts",
    "zichtbaar.audit",
    "zichtbaar.helpline",
    "zichtbaar.hub",
    "zichtbaar.estimate.web",
    "zichtbaar.watch",
    "zichtbaar.monitor",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "zichtbaar.core.middleware.AccessLogMiddleware",
    "zichtbaar.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "zichtbaar.core.middleware.DutchFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "zichtbaar.accounts.middleware.StaffAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "zichtbaar.project.urls"
ASGI_APPLICATION = "zichtbaar.project.asgi.application"
CSRF_FAILURE_VIEW = "zichtbaar.core.views.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zichtbaar.core.context_processors.navigation",
            ],
        },
    }
]

SQLITE_URL = f"sqlite:///{DATA_DIR / 'zichtbaar.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or SQLITE_URL,
                                                  conn_max_age=0 if not PRODUCTION else 60)}
except ValueError:
    PROBLEMS.append(f"DATABASE_URL is {os.environ.get('DATABASE_URL')!r}, which is not a "
                    "database address: use e.g. postgres://user@127.0.0.1:5432/zichtbaar")
    DATABASES = {"default": dj_database_url.parse(SQLITE_URL)}
# Production on PostgreSQL takes connections from a pool (Django's, psycopg_pool). Under
# ASGI every HTTP request runs its sync part on a thread of its own, so a "persistent"
# connection (CONN_MAX_AGE) was never reused: each page request opened a new connection
# (about half of a request's 11 ms in bench/chat_load.py) and left the old one to the
# garbage collector. Pooled connections go back to the pool at the end of each request
# or helpline database call. ZICHTBAAR_DB_POOL_SIZE: the most connections per process.
if PRODUCTION and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    try:
        _POOL_SIZE = int(os.environ.get("ZICHTBAAR_DB_POOL_SIZE", "20"))
        if not 2 <= _POOL_SIZE <= 1000:
            raise ValueError
    except ValueError:
        PROBLEMS.append(f"ZICHTBAAR_DB_POOL_SIZE is {os.environ.get('ZICHTBAAR_DB_POOL_SIZE')!r}: "
                        "give the most database connections per process, e.g. 20")
        _POOL_SIZE = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django requires 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2, "max_size": _POOL_SIZE, "timeout": 30}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
         "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    PROBLEMS.append(f"REDIS_URL is {REDIS_URL!r}, which is not a Redis address: use e.g. "
                    "redis://127.0.0.1:6379/0 (rediss:// for TLS)")
    REDIS_URL = ""
# One web process on purpose: SQLite and the in-process cache and channel layer are then
# accepted in production (`check --deploy` refuses them otherwise; see core/checks.py).
SINGLE_PROCESS = _env_bool("ZICHTBAAR_SINGLE_PROCESS", False)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": "zichtbaar"}}
    # Redis pub/sub by default: each process subscribes once per group and channel and
    # reads one stream, where the list-based layer pops one message per round trip per
    # process behind a lock and silently drops past 100 waiting messages per process (at a
    # thousand chats that was seconds of delay and lost lines). Pub/sub delivers at most
    # once; the helpline fills any gap from the database (lines are stored before they
    # are sent). ZICHTBAAR_CHANNEL_LAYER=list selects the list-based layer.
    _LAYER_KIND = os.environ.get("ZICHTBAAR_CHANNEL_LAYER", "pubsub").strip() or "pubsub"
    if _LAYER_KIND not in ("pubsub", "list"):
        PROBLEMS.append(f"ZICHTBAAR_CHANNEL_LAYER is {_LAYER_KIND!r}: use pubsub (default) "
                        "or list")
    CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer" if _LAYER_KIND == "list"
        else "zichtbaar.core.layers.PipelinedRedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "zichtbaar"}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "zichtbaar.core.layers.ThrottledInMemoryChannelLayer"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sign-in hardening (see accounts/conf.py for the defaults' reasons).
LOCKOUT_FAILURES = _env_int("ZICHTBAAR_LOCKOUT_FAILURES", 5, minimum=1)
LOCKOUT_MINUTES = _env_int("ZICHTBAAR_LOCKOUT_MINUTES", 15, minimum=1)
SIGNIN_CLIENT_FAILURES = _env_int("ZICHTBAAR_SIGNIN_CLIENT_FAILURES", 30, minimum=1)
IDLE_TIMEOUT_MINUTES = _env_int("ZICHTBAAR_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
OTP_TOTP_ISSUER = "zichtbaar"
OTP_TOTP_THROTTLE_FACTOR = 1

# Idle timeout: the session cookie lives IDLE_TIMEOUT_MINUTES after the last request.
SESSION_COOKIE_AGE = IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_NAME = "zb_session"
CSRF_COOKIE_NAME = "zb_csrf"
LANGUAGE_COOKIE_NAME = "zb_lang"
LANGUAGE_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_HTTPONLY = True

SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form posts,
# which CSRF protection must refuse. Other sites still never receive a referrer.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy: `zichtbaar serve` then reads X-Forwarded-For/-Proto, but only
# from the proxy's addresses (--forwarded-allow-ips, ZICHTBAAR_FORWARDED_ALLOW_IPS).
BEHIND_PROXY = _env_bool("ZICHTBAAR_BEHIND_PROXY", True)
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("ZICHTBAAR_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _env_int("ZICHTBAAR_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    if BEHIND_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Strict CSP: nothing inline, nothing from other origins.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]

# Partner API (Django REST framework). Views choose their own authentication (per-organisation
# tokens); nothing is reachable through a browser session or basic auth by default.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "zichtbaar partner API",
    "DESCRIPTION": "Signals of possible human trafficking from partner systems to the hub.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# The signal desk that owns public, helpline and API signals (slug of a reporting-point
# organisation); empty: the first reporting point.
HUB_DESK_SLUG = os.environ.get("ZICHTBAAR_HUB_DESK", "")
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("ZICHTBAAR_STATIC_ROOT") or DATA_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(DATA_DIR / "media")}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# Demo conveniences (printing current TOTP codes) exist only outside production.
DEMO_TOOLS_ENABLED = not PRODUCTION

LOG_LEVEL = os.environ.get("ZICHTBAAR_LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    PROBLEMS.append(f"ZICHTBAAR_LOG_LEVEL is {LOG_LEVEL!r}: use DEBUG, INFO, WARNING, ERROR "
                    "or CRITICAL.")
    LOG_LEVEL = "INFO"
# Requests Django refuses (a Host not in ALLOWED_HOSTS, oversized or overlong forms) are
# logged as one line each, without a traceback (core/logfilters.py).
REJECTED_REQUEST_LOGGERS = [f"django.security.{name}" for name in [
    "DisallowedHost", "DisallowedRedirect", "RequestDataTooBig", "TooManyFieldsSent",
    "TooManyFilesSent", "SuspiciousFileOperation", "SuspiciousMultipartForm",
    "SuspiciousSession", "SuspiciousOperation"]]
LOGGING = {
    "version": 1,
    "filters": {"one_line": {"()": "zichtbaar.core.logfilters.OneLineRejection"}},
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger can include request details; ours logs without addresses.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        "uvicorn.access": {"level": "CRITICAL", "propagate": False},
        # uvicorn logs each websocket handshake with the client address at INFO.
        "uvicorn.error": {"level": "WARNING"},
        **{name: {"filters": ["one_line"]} for name in REJECTED_REQUEST_LOGGERS},
    },
}

if PROBLEMS:
    raise ImproperlyConfigured("\n".join(PROBLEMS))
