"""A production configuration as the operator meets it: `zichtbaar check --deploy` as a
subprocess with a controlled environment. Every missing or malformed setting is one clear line
that names the variable and how to make a value, and production without its real parts
(PostgreSQL, Redis) is refused unless a single process is chosen on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import production_env, run

pytestmark = pytest.mark.slow


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in names}


def real_parts_env(tmp_path: Path) -> dict[str, str]:
    """Production on SQLite and without Redis, with every key set."""
    env = without(production_env(tmp_path), "REDIS_URL", "DATABASE_URL",
                  "ZICHTBAAR_SINGLE_PROCESS")
    return env


@pytest.mark.parametrize(("change", "variable", "hint"), [
    ({"ZICHTBAAR_LINKAGE_KEY": None}, "ZICHTBAAR_LINKAGE_KEY", "token_urlsafe"),
    ({"ZICHTBAAR_LINKAGE_KEY": "short"}, "ZICHTBAAR_LINKAGE_KEY", "token_urlsafe"),
    ({"SECRET_KEY": None}, "SECRET_KEY", "token_urlsafe"),
    ({"ZICHTBAAR_FIELD_KEY": None}, "ZICHTBAAR_FIELD_KEY", "Fernet.generate_key"),
    ({"ZICHTBAAR_FIELD_KEY": "not-a-fernet-key"}, "ZICHTBAAR_FIELD_KEY", "Fernet.generate_key"),
    ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS", "zichtbaar.example.org"),
    ({"ZICHTBAAR_ENV": "prod"}, "ZICHTBAAR_ENV", "production"),
    ({"ZICHTBAAR_LOCKOUT_FAILURES": "five"}, "ZICHTBAAR_LOCKOUT_FAILURES", "whole number"),
    ({"ZICHTBAAR_HSTS_SECONDS": "1y"}, "ZICHTBAAR_HSTS_SECONDS", "whole number"),
    ({"ZICHTBAAR_SSL_REDIRECT": "perhaps"}, "ZICHTBAAR_SSL_REDIRECT", "1 or 0"),
    ({"DATABASE_URL": "mongodb://db/zichtbaar"}, "DATABASE_URL", "postgres://"),
    ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL", "redis://"),
    ({"REDIS_URL": "redis://127.0.0.1:6379/9", "ZICHTBAAR_CHANNEL_LAYER": "kafka"},
     "ZICHTBAAR_CHANNEL_LAYER", "pubsub"),
])
def test_missing_or_malformed_setting_is_one_clear_line(tmp_path: Path, change, variable,
                                                       hint) -> None:  # type: ignore[no-untyped-def]
    env = production_env(tmp_path)
    for name, value in change.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    result = run(["check", "--deploy"], env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if variable in line]
    assert lines, result.stderr
    assert any(hint in line for line in lines), result.stderr


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    env = without(production_env(tmp_path), "SECRET_KEY", "ZICHTBAAR_FIELD_KEY",
                  "ZICHTBAAR_LINKAGE_KEY")
    result = run(["check", "--deploy"], env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    for variable in ["SECRET_KEY", "ZICHTBAAR_FIELD_KEY", "ZICHTBAAR_LINKAGE_KEY"]:
        assert sum(line.startswith(variable) for line in result.stderr.splitlines()) == 1, \
            result.stderr


def test_production_on_sqlite_and_memory_layer_fails_the_deploy_check(tmp_path: Path) -> None:
    result = run(["check", "--deploy"], real_parts_env(tmp_path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "DATABASE_URL" in result.stderr and "SQLite" in result.stderr
    assert "REDIS_URL" in result.stderr and "ZICHTBAAR_SINGLE_PROCESS" in result.stderr


def test_single_process_setting_allows_sqlite_and_memory_layer(tmp_path: Path) -> None:
    env = {**real_parts_env(tmp_path), "ZICHTBAAR_SINGLE_PROCESS": "1"}
    result = run(["check", "--deploy"], env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_serve_refuses_production_without_its_real_parts(tmp_path: Path) -> None:
    result = run(["serve", "--port", "1"], real_parts_env(tmp_path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "REDIS_URL" in result.stderr


def test_serve_refuses_several_workers_in_a_single_process_installation(tmp_path: Path) -> None:
    env = {**real_parts_env(tmp_path), "ZICHTBAAR_SINGLE_PROCESS": "1"}
    result = run(["serve", "--port", "1", "--workers", "2"], env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "ZICHTBAAR_SINGLE_PROCESS" in result.stderr


@pytest.mark.parametrize("command", [["createadmin", "beheer"], ["manage", "migrate"],
                                     ["audit", "verify"]])
def test_other_commands_give_the_same_lines(tmp_path: Path, command: list[str]) -> None:
    env = without(production_env(tmp_path), "ZICHTBAAR_LINKAGE_KEY")
    result = run(command, env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert any(line.startswith("ZICHTBAAR_LINKAGE_KEY") for line in result.stderr.splitlines())
