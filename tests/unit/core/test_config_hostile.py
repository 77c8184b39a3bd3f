"""Config loading against careless input: every mistake is a ConfigError naming file and key."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from fedsocial.cli import main
from fedsocial.config import load_config, validate_actor_name
from fedsocial.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fedsocial.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    # Given a config file saved in Latin-1 (a careless editor)
    path = tmp_path / "fedsocial.toml"
    path.write_bytes('[instance]\nname = "café"\n'.encode("latin-1"))
    # When it is loaded / Then the error names the file, instead of a UnicodeDecodeError traceback
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        load_config(path)
    assert str(path) in info.value.message


def test_a_directory_or_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "absent.toml")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1.5"])
def test_request_timeout_must_be_a_positive_finite_number(tmp_path: Path, value: str) -> None:
    # Given a timeout TOML allows but that is no timeout (nan slips past `<= 0`)
    path = write(tmp_path, f"[federation]\nrequest_timeout = {value}\n")
    # Then it is refused, naming the key
    with pytest.raises(ConfigError, match=r"federation\.request_timeout"):
        load_config(path)


@pytest.mark.parametrize(
    "domain",
    [
        "social example.org",
        "social.example.org:0",
        "social.example.org:70000",
        "social.example.org:http",
        "alice@social.example.org",
        "social.example.org?x",
        "social.example.org#x",
        "https://social.example.org",
        "",
        " social.example.org",
    ],
)
def test_domain_must_be_host_and_port(tmp_path: Path, domain: str) -> None:
    # Given a domain that cannot stand between `https://` and the path of our ids
    path = write(tmp_path, f'[instance]\ndomain = "{domain}"\n')
    # Then it is refused with the key named
    with pytest.raises(ConfigError, match=r"instance\.domain"):
        load_config(path)


@pytest.mark.parametrize(
    "domain", ["social.example.org", "127.0.0.1:8080", "localhost:65535", "[::1]:8080", "my_box"]
)
def test_usual_domains_load(tmp_path: Path, domain: str) -> None:
    assert load_config(write(tmp_path, f'[instance]\ndomain = "{domain}"\n')).instance.domain == (
        domain
    )


def test_out_of_range_ports_and_worker_counts_are_named(tmp_path: Path) -> None:
    for text, key in [
        ("[server]\nport = 0\n", r"server\.port"),
        ("[server]\nport = 65536\n", r"server\.port"),
        ("[federation]\ndelivery_workers = 0\n", "delivery_workers"),
        ("[federation]\ndelivery_workers = 10000000\n", r"federation\.delivery_workers"),
        ("[federation]\ndelivery_per_host = -1\n", "delivery_per_host"),
    ]:
        with pytest.raises(ConfigError, match=key):
            load_config(write(tmp_path, text))


def test_a_name_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    # Given names that `^…$` would accept (`$` matches before a final newline)
    # Then they are refused, in the config and wherever an actor is named
    with pytest.raises(ConfigError, match=r"first_actor\.name"):
        load_config(write(tmp_path, '[first_actor]\nname = "admin\\n"\n'))
    with pytest.raises(ValueError, match="invalid actor name"):
        validate_actor_name("alice\n")
    assert validate_actor_name("alice_2") == "alice_2"


@pytest.mark.parametrize(
    ("option", "value"),
    [("--port", "70000"), ("--port", "0"), ("--workers", "0"), ("--workers", "100000")],
)
def test_serve_refuses_out_of_range_port_and_workers(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given `fedsocial serve` with a port bind() would refuse, or a worker count that is a typo
    # When the command line is read
    with pytest.raises(SystemExit) as info:
        main(["serve", option, value])
    # Then it stops before starting anything, with the option named (no bind() traceback)
    assert info.value.code == 2
    assert option in capsys.readouterr().err


def test_actor_add_refuses_a_name_with_a_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a fresh database / When a careless script adds "bob\n"
    config = write(tmp_path, '[storage]\ndatabase = "t.sqlite3"\n')
    assert main(["--config", str(config), "init"]) == 0
    code = main(["--config", str(config), "actor", "add", "bob\n"])
    # Then it is refused with a clear message, and no such actor exists
    assert code == 2
    assert "invalid actor name" in capsys.readouterr().err
    assert main(["--config", str(config), "actor", "list", "--json"]) == 0
    assert '"bob' not in capsys.readouterr().out


def test_an_empty_database_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"storage\.database"):
        load_config(write(tmp_path, '[storage]\ndatabase = ""\n'))


def test_a_database_file_that_is_not_sqlite_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a config whose database names a file that is not SQLite (a careless copy)
    (tmp_path / "notes.txt").write_text("not a database " * 100, encoding="utf-8")
    config = write(tmp_path, '[storage]\ndatabase = "notes.txt"\n')
    # When the CLI opens it / Then it says so (exit 1) instead of a sqlite3 traceback
    assert main(["--config", str(config), "init"]) == 1
    assert "cannot use database" in capsys.readouterr().err


def test_serve_on_a_port_in_use_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a port some other program already listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write(
            tmp_path,
            f'[instance]\ndomain = "127.0.0.1:{port}"\n[server]\nport = {port}\n'
            '[storage]\ndatabase = "t.sqlite3"\n',
        )
        # When `fedsocial serve` starts on it
        code = main(["--config", str(config), "serve"])
    # Then it ends with a message naming the address (exit 1), not an OSError traceback
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "entry", ["*.evil.example", "", "evil example", "evil.example/path", "https://[zz"]
)
def test_a_blocked_domain_that_would_block_nothing_is_refused(tmp_path: Path, entry: str) -> None:
    # Given a block list entry that matches no host (a wildcard, as other servers' lists have)
    path = write(tmp_path, f'[moderation]\nblocked_domains = ["ok.example", "{entry}"]\n')
    # Then the config is refused, naming the key and the entry, rather than silently not blocking
    with pytest.raises(ConfigError, match=r"moderation\.blocked_domains") as info:
        load_config(path)
    assert repr(entry) in info.value.message


def test_usual_blocked_domains_load(tmp_path: Path) -> None:
    entries = '["Evil.Example", "evil.example.", "https://evil.example/", "10.0.0.1"]'
    config = load_config(write(tmp_path, f"[moderation]\nblocked_domains = {entries}\n"))
    assert len(config.moderation.blocked_domains) == 4


@pytest.mark.parametrize("host", ["*.evil.example", "evil example", "evil.example/x"])
def test_domain_block_command_refuses_what_would_block_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    # Given a database / When an admin blocks a wildcard or a typo
    config = write(tmp_path, '[storage]\ndatabase = "t.sqlite3"\n')
    assert main(["--config", str(config), "init"]) == 0
    code = main(["--config", str(config), "domain", "block", host])
    # Then it is refused (exit 2) and nothing is listed as blocked
    assert code == 2 and "not a host" in capsys.readouterr().err
    assert main(["--config", str(config), "domain", "list"]) == 0
    assert capsys.readouterr().out == ""
