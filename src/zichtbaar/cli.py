"""The ``zichtbaar`` command.

Subcommands that need no database (``estimate``) never load Django; the others set Django up
and call the same services the web pages call.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

DEMO_STEPS = 5


def _step(number: int, total: int, text: str) -> None:
    print(f"[{number}/{total}] {text}", flush=True)


def _django(environment: str | None = None) -> None:
    if environment:
        os.environ.setdefault("ZICHTBAAR_ENV", environment)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zichtbaar.project.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def _serve(host: str, port: int, workers: int, reload: bool = False, *,
           forwarded_allow_ips: str = "127.0.0.1", proxy_headers: bool = True) -> int:
    import uvicorn

    uvicorn.run(
        "zichtbaar.project.asgi:application",
        host=host,
        port=port,
        workers=workers,
        lifespan="off",
        # The server's access log writes client addresses; ours (core.middleware) does not.
        access_log=False,
        # X-Forwarded-For/-Proto are read only from these proxy addresses; from anyone else
        # they are ignored, so a client cannot choose the address a throttle counts.
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        # Chat frames are a few hundred bytes: compressing each one cost more CPU than
        # anything else per message at a thousand chats (bench/chat_load.py), and
        # compressing secrets next to attacker-chosen text is a known risk over TLS.
        ws_per_message_deflate=False,
        reload=reload,
        log_level=os.environ.get("ZICHTBAAR_SERVER_LOG_LEVEL", "warning"),
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    os.environ["ZICHTBAAR_ENV"] = "development"
    from zichtbaar.core.i18n_build import compile_catalogues

    _step(1, DEMO_STEPS, "Compiling translations")
    compile_catalogues()
    _django("development")
    _step(2, DEMO_STEPS, "Migrating the database")
    _manage("migrate", "--no-input", "-v", "0")
    _step(3, DEMO_STEPS, "Collecting static files")
    _manage("collectstatic", "--no-input", "-v", "0")
    _step(4, DEMO_STEPS, "Loading demo organisations, users and synthetic data")
    from zichtbaar.core.demo_registry import load_all

    credentials = load_all(progress=lambda text: print(f"      {text}", flush=True))
    _print_credentials(credentials)
    if args.no_serve:
        return 0
    _step(5, DEMO_STEPS, f"Serving on http://{args.host}:{args.port}/ (Ctrl+C stops)")
    return _serve(args.host, args.port, workers=1)


def _print_credentials(credentials: list[dict[str, str]]) -> None:
    if not credentials:
        return
    print("\n  Demo accounts (synthetic; development only). Password for all:",
          credentials[0]["password"])
    print("  Each has an authenticator enrolled; add the key to an authenticator app, or run")
    print("  `zichtbaar totp USERNAME` to print the current code.\n")
    width = max(len(c["username"]) for c in credentials)
    for c in credentials:
        print(f"  {c['username']:<{width}}  {c['role']:<12} {c['organisation']:<32} "
              f"{c['totp_key']}")
    print()


def _django_configured() -> bool:
    """Set Django up; on a missing or malformed setting print one line each, no traceback."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        _django()
    except ImproperlyConfigured as exc:
        for line in str(exc).splitlines():
            print(line, file=sys.stderr)
        return False
    return True


def cmd_serve(args: argparse.Namespace) -> int:
    os.environ.setdefault("ZICHTBAAR_ENV", "production")
    if not _django_configured():
        return 2
    from django.conf import settings

    if settings.PRODUCTION:
        # The deployment checks, before anything is served: no production on SQLite and an
        # in-process channel layer by accident (core/checks.py).
        from django.core.management import call_command

        try:
            call_command("check", "--deploy", "--fail-level", "ERROR")
        except Exception as exc:  # SystemCheckError: the report, not a traceback
            print(str(exc), file=sys.stderr)
            return 2
    if args.workers > 1 and getattr(settings, "SINGLE_PROCESS", False):
        print(f"--workers {args.workers}: ZICHTBAAR_SINGLE_PROCESS=1 promises one web process "
              "(SQLite, in-process cache and channel layer). Set DATABASE_URL and REDIS_URL "
              "and unset ZICHTBAAR_SINGLE_PROCESS to run several.", file=sys.stderr)
        return 2
    if args.migrate:
        _manage("migrate", "--no-input")
    _manage("collectstatic", "--no-input", "-v", "0")
    return _serve(args.host, args.port, workers=args.workers,
                  forwarded_allow_ips=args.forwarded_allow_ips,
                  proxy_headers=settings.BEHIND_PROXY)


def cmd_check(args: argparse.Namespace) -> int:
    if not _django_configured():
        return 2
    from django.core.management import call_command

    options = ["check"]
    if args.deploy:
        options += ["--deploy", "--fail-level", "WARNING"]
    try:
        call_command(*options)
    except Exception as exc:  # SystemCheckError: print the report, not a traceback
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    import getpass

    _django()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from zichtbaar.accounts import services
    from zichtbaar.accounts.models import Organisation, User
    from zichtbaar.accounts.roles import OrganisationType, Role

    if User.objects.filter(username=args.username).exists():
        print(f"A user named {args.username!r} already exists.", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    candidate = User(username=args.username)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        print("Password refused: " + " ".join(exc.messages), file=sys.stderr)
        return 2
    with transaction.atomic():
        organisation = Organisation.objects.filter(name=args.organisation).first()
        if organisation is None:
            organisation = services.organisation_create(
                name=args.organisation, type=OrganisationType(args.organisation_type))
        user = services.user_create(username=args.username, password=password,
                                    organisation=organisation, roles={Role.ADMIN})
    print(f"Administrator {user.username} created in {organisation.name}. "
          "Two-step sign-in is set up at the first sign-in.")
    return 0


def cmd_totp(args: argparse.Namespace) -> int:
    _django()
    from django.conf import settings
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not settings.DEMO_TOOLS_ENABLED:
        print("`zichtbaar totp` is a demo tool and is disabled in production.", file=sys.stderr)
        return 2
    device = TOTPDevice.objects.filter(user__username=args.username, confirmed=True).first()
    if device is None:
        print(f"No enrolled authenticator for {args.username!r}.", file=sys.stderr)
        return 2
    print(f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    _django()
    try:
        _manage("audit_verify")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Crawl, link and export from the command line: Scrapy runs in this process, never in
    the web server's. Works on a fresh data folder: migrations are applied first."""
    if args.watch_command == "crawl" and not os.path.isfile(args.source):
        print(f"Source file not found: {args.source}", file=sys.stderr)
        return 2
    if args.watch_command == "crawl" and args.max_pages is not None and args.max_pages < 1:
        print("--max-pages must be a positive number.", file=sys.stderr)
        return 2
    _django()
    _manage("migrate", "--no-input", "-v", "0")
    from zichtbaar.watch import services

    try:
        if args.watch_command == "crawl":
            from zichtbaar.watch.crawler.run import FINISHED_REASONS, crawl

            summary = crawl(args.source, max_pages=args.max_pages,
                            progress=lambda text: print(text, flush=True))
            print(summary.line())
            if summary.reason not in FINISHED_REASONS:
                print(f"The crawl did not finish: {summary.reason}", file=sys.stderr)
                return 1
            if args.link:
                print(services.link_summary(services.link_pending()))
        elif args.watch_command == "link":
            report = services.link_pending(progress=lambda text: print(text, flush=True))
            print(services.link_summary(report))
        elif args.watch_command == "export":
            from zichtbaar.watch.exports import write_ads_csv

            try:
                with open(args.out, "w", newline="", encoding="utf-8") as stream:
                    rows = write_ads_csv(stream)
            except OSError as exc:
                print(f"Cannot write {args.out}: {exc.strerror}", file=sys.stderr)
                return 2
            services.export_recorded(rows=rows)
            print(f"{rows} ads written to {args.out}")
    except services.WatchError as exc:
        print(services.error_text(exc), file=sys.stderr)
        return 2
    return 0


def _writable(path: str) -> str | None:
    """Why ``path`` cannot be written, or None: checked before a long report is made."""
    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        return "it is a folder"
    if not os.path.isdir(folder):
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK) or (os.path.exists(target)
                                          and not os.access(target, os.W_OK)):
        return "permission denied"
    return None


def cmd_report(args: argparse.Namespace) -> int:
    """The annual chat report as PDF or HTML, the same file the web page makes. Works on a
    fresh data folder: migrations are applied first."""
    from datetime import date

    if not 2018 <= args.year <= date.today().year:
        print(f"There is no report for {args.year}: choose a year from 2018 to "
              f"{date.today().year}.", file=sys.stderr)
        return 2
    problem = _writable(args.out)
    if problem:
        print(f"Cannot write {args.out}: {problem}.", file=sys.stderr)
        return 2
    _django()
    _manage("migrate", "--no-input", "-v", "0")
    from zichtbaar.accounts.models import Organisation
    from zichtbaar.monitor import report

    organisation = None
    if args.organisation:
        organisation = Organisation.objects.filter(slug=args.organisation).first()
        if organisation is None:
            known = ", ".join(Organisation.objects.values_list("slug", flat=True)) or "none"
            print(f"Unknown organisation {args.organisation!r} (known: {known}).",
                  file=sys.stderr)
            return 2
    try:
        data, built = report.generate(
            args.year, fmt=args.format, language=args.lang, organisation=organisation,
            progress=lambda percent, text: print(f"[{percent:3d}%] {text}", flush=True))
    except report.ReportError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    try:
        with open(args.out, "wb") as stream:
            stream.write(data)
    except OSError as exc:
        print(f"Cannot write {args.out}: {exc.strerror}.", file=sys.stderr)
        return 2
    report.audit_generated(built, actor=None, fmt=args.format, via="cli")
    scope = f"internal, {organisation.slug}" if organisation else "national, protected"
    print(f"Chat report {built.year} ({scope}, {args.lang}) written to {args.out} "
          f"({len(data)} bytes); input SHA-256 {built.version.input_sha256}")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["zichtbaar manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zichtbaar", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="migrate, load demo data and serve on 127.0.0.1:8000")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-serve", action="store_true", help="prepare only, do not serve")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="production ASGI server (needs ZICHTBAAR_ENV etc.)")
    serve.add_argument("--host", default=os.environ.get("ZICHTBAAR_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("ZICHTBAAR_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.add_argument(
        "--forwarded-allow-ips", metavar="ADDRESSES",
        default=os.environ.get("ZICHTBAAR_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="comma-separated addresses (or networks) of the TLS proxy whose X-Forwarded-For "
        "and X-Forwarded-Proto are trusted; from anyone else they are ignored (default: "
        "ZICHTBAAR_FORWARDED_ALLOW_IPS or 127.0.0.1)")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check", help="Django's system checks")
    check.add_argument("--deploy", action="store_true")
    check.set_defaults(func=cmd_check)

    admin = sub.add_parser("createadmin", help="create an administrator account")
    admin.add_argument("username")
    admin.add_argument("--organisation", default="Platformbeheer")
    admin.add_argument("--organisation-type", default="platform_operator",
                       choices=[
                           "care_ngo", "reporting_point", "police", "labour_inspectorate",
                           "municipality", "veilig_thuis", "research", "platform_operator"])
    admin.add_argument("--password-stdin", action="store_true")
    admin.set_defaults(func=cmd_createadmin)

    totp = sub.add_parser("totp", help="print a demo user's current authenticator code")
    totp.add_argument("username")
    totp.set_defaults(func=cmd_totp)

    audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="verify the hash chain")
    verify.set_defaults(func=cmd_audit)

    watch = sub.add_parser("watch", help="online watch: crawl ad sites, link, export")
    watch_sub = watch.add_subparsers(dest="watch_command", required=True)
    crawl = watch_sub.add_parser("crawl", help="crawl one source (YAML) politely")
    crawl.add_argument("source", help="the source's YAML file")
    crawl.add_argument("--max-pages", type=int, default=None)
    crawl.add_argument("--link", action="store_true", help="link the new ads afterwards")
    crawl.set_defaults(func=cmd_watch)
    link = watch_sub.add_parser("link", help="link new and changed ads into clusters")
    link.set_defaults(func=cmd_watch)
    export = watch_sub.add_parser("export", help="one CSV row per ad")
    export.add_argument("--out", required=True)
    export.set_defaults(func=cmd_watch)

    report = sub.add_parser("report", help="annual reports (PDF or HTML)")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    chat = report_sub.add_parser("chat", help="the annual chat report (CKM's 'Onzichtbare "
                                 "slachtoffers' shape)")
    chat.add_argument("--year", type=int, required=True)
    chat.add_argument("--format", choices=["pdf", "html"], default="pdf")
    chat.add_argument("--lang", choices=["nl", "en"], default="nl")
    chat.add_argument("--out", required=True, help="the file to write")
    chat.add_argument("--organisation", metavar="SLUG",
                      help="one organisation's own report (internal: exact numbers, not for "
                      "publication) instead of the protected national report")
    chat.set_defaults(func=cmd_report)

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    sub.add_parser("monitor", help="monitoring tools: `zichtbaar monitor protect` (cell "
                   "suppression of a count table; see zichtbaar monitor protect -h)",
                   add_help=False)
    sub.add_parser("estimate", help="Multiple Systems Estimation (see zichtbaar estimate -h)",
                   add_help=False)
    sub.add_parser("link", help="privacy-preserving record linkage of person lists "
                   "(see zichtbaar link -h)", add_help=False)
    return parser


# Subcommands served by a pure-Python core without Django: name -> module with main(argv).
LIBRARY_COMMANDS = {"estimate": "zichtbaar.estimate.cli", "link": "zichtbaar.linkage.cli"}
# Subcommands of a group served by a pure core: (group, name) -> module with main(argv).
LIBRARY_SUBCOMMANDS = {("monitor", "protect"): "zichtbaar.disclosure.cli"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in LIBRARY_COMMANDS:
        # No Django here: the estimation and linkage libraries run anywhere.
        import importlib

        module = importlib.import_module(LIBRARY_COMMANDS[argv[0]])
        return int(module.main(argv[1:]) or 0)
    if tuple(argv[:2]) in LIBRARY_SUBCOMMANDS or argv[:1] == ["monitor"]:
        import importlib

        module = importlib.import_module(LIBRARY_SUBCOMMANDS[("monitor", "protect")])
        return int(module.main(argv[1:]) or 0)
    args = build_parser().parse_args(argv)
    from django.core.exceptions import ImproperlyConfigured

    try:
        return int(args.func(args) or 0)
    except ImproperlyConfigured as exc:
        # Settings are read when a command first touches Django: one line per problem,
        # naming the variable and how to make a value, for every command.
        for line in str(exc).splitlines():
            print(line, file=sys.stderr)
        return 2
    except Exception as exc:
        if type(exc).__name__ != "DecryptionError":
            raise
        print("The database holds data encrypted with another field key. Set "
              "ZICHTBAAR_FIELD_KEY to the key it was written with (keys are kept in the data "
              "folder in development), or use a fresh database.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
