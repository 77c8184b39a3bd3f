"""Config loading: defaults, validation with clear messages, and where the file comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsocial.config import Config, load_config, resolve_config
from fedsocial.errors import ConfigError

EXAMPLE = Path(__file__).parents[3] / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fedsocial.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_every_section() -> None:
    # Given the shipped example config / When it is loaded
    config = load_config(EXAMPLE)
    # Then it is valid and matches the defaults for local use
    assert config.instance.domain == "localhost:8080"
    assert config.server.port == 8080
    assert config.federation.allow_private_addresses is False
    assert config.storage.database.endswith("fedsocial.sqlite3")


def test_unknown_key_is_named_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[instance]\ndomian = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "instance.domian" in info.value.message
    assert str(path) in info.value.message


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[nope]\na = 1\n")
    with pytest.raises(ConfigError, match=r"\[nope\]: unknown section"):
        load_config(path)


def test_wrong_type_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = "8080"\n')
    with pytest.raises(ConfigError, match=r"server\.port: expected int, got str"):
        load_config(path)


def test_bool_is_not_an_int(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = true\n")
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_config(path)


def test_bad_scheme_and_domain(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"instance\.scheme"):
        load_config(write(tmp_path, '[instance]\nscheme = "ftp"\n'))
    with pytest.raises(ConfigError, match=r"instance\.domain"):
        load_config(write(tmp_path, '[instance]\ndomain = "Example.org/x"\n'))


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[instance\n"))


def test_http_domain_with_port_builds_ids(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[instance]\ndomain = "127.0.0.1:8081"\nscheme = "http"\n')
    )
    assert config.base_url == "http://127.0.0.1:8081"
    assert config.user_agent.startswith("fedsocial/")
    assert config.user_agent.endswith("(+http://127.0.0.1:8081/)")


def test_relative_database_is_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[storage]\ndatabase = "data/x.sqlite3"\n'))
    assert config.storage.database == str(tmp_path / "data" / "x.sqlite3")


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a file in the working directory, one in the environment, and one on the command line
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fedsocial.toml").write_text('[instance]\nname = "cwd"\n')
    env_file = tmp_path / "env.toml"
    env_file.write_text('[instance]\nname = "env"\n')
    cli_file = tmp_path / "cli.toml"
    cli_file.write_text('[instance]\nname = "cli"\n')
    env = {"FEDSOCIAL_CONFIG": str(env_file)}
    # Then --config wins, then the environment, then ./fedsocial.toml, then the defaults
    assert resolve_config(str(cli_file), env).instance.name == "cli"
    assert resolve_config(None, env).instance.name == "env"
    assert resolve_config(None, {}).instance.name == "cwd"
    (tmp_path / "fedsocial.toml").unlink()
    assert resolve_config(None, {}) == Config()
