"""The ``zichtbaar`` command as a subprocess, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

pytestmark = pytest.mark.slow


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zichtbaar.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "ZICHTBAAR_ENV", "SECRET_KEY", "ZICHTBAAR_FIELD_KEY", "ZICHTBAAR_LINKAGE_KEY",
                        "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env["ZICHTBAAR_DATA_DIR"] = str(tmp_path)
    return env


def production_env(tmp_path: Path) -> dict[str, str]:
    env = base_env(tmp_path)
    env.update({
        "ZICHTBAAR_ENV": "production",
        "SECRET_KEY": "x" * 20 + Fernet.generate_key().decode() + "-" * 30,
        "ZICHTBAAR_FIELD_KEY": Fernet.generate_key().decode(),
        "ZICHTBAAR_LINKAGE_KEY": "test-linkage-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "zichtbaar.example.org",
        # SQLite and no Redis here: one web process on purpose (core/checks.py).
        "ZICHTBAAR_SINGLE_PROCESS": "1",
    })
    return env


def test_check_deploy_reports_no_issues_with_production_settings(tmp_path: Path) -> None:
    result = run(["check", "--deploy"], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run(["check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set in production" in result.stderr


def test_production_refuses_debug(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    env["DEBUG"] = "1"
    result = run(["check"], env)
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_development_generates_and_keeps_its_keys(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    assert run(["check"], env).returncode == 0
    first = (tmp_path / "secret_key").read_text()
    assert run(["check"], env).returncode == 0
    assert (tmp_path / "secret_key").read_text() == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_demo_prepares_database_and_audit_chain_verifies(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    result = run(["demo", "--no-serve"], env)
    assert result.returncode == 0, result.stderr
    for step in ["[1/5]", "[2/5]", "[3/5]", "[4/5]"]:
        assert step in result.stdout
    for username in ["counsellor", "supervisor", "analyst", "coordinator", "police",
                     "auditor", "researcher", "admin"]:
        assert f"\n  {username} " in result.stdout
    again = run(["demo", "--no-serve"], env)  # idempotent
    assert again.returncode == 0, again.stderr
    verify = run(["audit", "verify"], env)
    assert verify.returncode == 0 and "intact" in verify.stdout
    code = run(["totp", "counsellor"], env)
    assert code.returncode == 0 and code.stdout.strip().isdigit()
    # The same database with another field key: a clear sentence, not a traceback.
    wrong_key = {**env, "ZICHTBAAR_FIELD_KEY": Fernet.generate_key().decode()}
    refused = run(["demo", "--no-serve"], wrong_key)
    assert refused.returncode == 2
    assert "encrypted with another field key" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_totp_demo_tool_is_disabled_in_production(tmp_path: Path) -> None:
    result = run(["totp", "counsellor"], production_env(tmp_path))
    assert result.returncode == 2
    assert "disabled in production" in result.stderr


def test_createadmin_refuses_a_weak_password_without_traceback(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    run(["manage", "migrate", "-v", "0"], env)
    weak = run(["createadmin", "beheerder", "--password-stdin"], env, stdin="12345\n")
    assert weak.returncode == 2
    assert "Password refused" in weak.stderr and "Traceback" not in weak.stderr
    good = run(["createadmin", "beheerder", "--password-stdin"], env,
               stdin="a-long-and-unusual-passphrase-42\n")
    assert good.returncode == 0, good.stderr
    again = run(["createadmin", "beheerder", "--password-stdin"], env, stdin="x\n")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_watch_crawl_link_export_on_a_fresh_data_folder(tmp_path: Path) -> None:
    """`zichtbaar watch crawl` applies migrations itself, crawls the bundled synthetic site on
    loopback, and `watch link` / `watch export` follow; bad input ends with exit 2."""
    from zichtbaar.ads.synth import generate
    from zichtbaar.watch.testsite import build_site, serve, source_yaml, stop

    env = base_env(tmp_path / "data")
    site = tmp_path / "site"
    server, thread, port = serve(site)
    try:
        build_site(site, generate(networks=2, independents=4, seed=9), port=port)
        source = tmp_path / "voorbeeldsite.yaml"
        source.write_text(source_yaml("voorbeeldsite", port, rate={"concurrency": 1,
                                                                    "delay_s": 0}))
        crawled = run(["watch", "crawl", str(source), "--link"], env)
        assert crawled.returncode == 0, crawled.stderr
        assert "ads new" in crawled.stdout and "Linked" in crawled.stdout
    finally:
        stop(server, thread)
    out = tmp_path / "ads.csv"
    exported = run(["watch", "export", "--out", str(out)], env)
    assert exported.returncode == 0, exported.stderr
    header = out.read_text().splitlines()[0].split(",")
    assert header[:8] == ["url", "phones", "emails", "city", "age", "cluster", "score",
                          "indicators"]
    assert len(out.read_text().splitlines()) > 1
    missing = run(["watch", "crawl", str(tmp_path / "nope.yaml")], env)
    assert missing.returncode == 2 and "not found" in missing.stderr
    no_basis = tmp_path / "no-basis.yaml"
    no_basis.write_text(source.read_text().replace("legal_basis", "# legal_basis"))
    refused = run(["watch", "crawl", str(no_basis)], env)
    assert refused.returncode == 2 and "legal basis" in refused.stderr
    assert "Traceback" not in missing.stderr + refused.stderr


def test_monitor_protect_writes_a_protected_table(tmp_path: Path) -> None:
    rows = ["regio,vorm"] + ["Noord,seks"] * 2 + ["Noord,arbeid"] + ["Zuid,seks"] * 6 + \
        ["Zuid,arbeid"] * 7
    data = tmp_path / "micro.csv"
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "table.csv"
    done = run(["monitor", "protect", str(data), "--rows", "regio", "--cols", "vorm",
                "--out", str(out)], base_env(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "regio,arbeid,seks,Totaal"
    assert lines[1].startswith("Noord,<5,<5")
    assert lines[-1].startswith("Totaal,")
    bad = run(["monitor", "protect", str(data), "--rows", "nope", "--cols", "vorm"],
              base_env(tmp_path))
    assert bad.returncode == 2 and "nope" in bad.stderr and "Traceback" not in bad.stderr
