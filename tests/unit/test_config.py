import stat

import pytest

from hiveo.config import ConfigError, load_settings


def test_defaults_use_sqlite_in_the_instance_folder(tmp_path):
    settings = load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path)})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'hiveo.db'}"
    assert settings["STORAGE_DIR"] == str(tmp_path / "storage")
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    assert settings["MAX_UPLOAD_MB"] == 10


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]
    second = load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]
    assert first == second
    assert len(first) >= 40
    mode = (tmp_path / "secret_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_secret_key_from_environment_wins(tmp_path):
    settings = load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path), "HIVEO_SECRET_KEY": "abc"})
    assert settings["SECRET_KEY"] == "abc"
    assert not (tmp_path / "secret_key").exists()


def test_postgres_urls_are_given_the_psycopg_driver(tmp_path):
    settings = load_settings(
        {"HIVEO_INSTANCE_DIR": str(tmp_path), "HIVEO_DATABASE_URL": "postgresql://u@h/db"}
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_unknown_database_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="HIVEO_DATABASE_URL"):
        load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path), "HIVEO_DATABASE_URL": "mysql://x"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HIVEO_SESSION_COOKIE_SECURE", "peut-être"),
        ("HIVEO_MAX_UPLOAD_MB", "dix"),
        ("HIVEO_MAX_UPLOAD_MB", "0"),
        ("HIVEO_PROVIDER_TIMEOUT", "vite"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path), "HIVEO_SECRET_KEY": "k", name: value})


def test_cookie_flag_and_upload_limit_are_configurable(tmp_path):
    settings = load_settings(
        {
            "HIVEO_INSTANCE_DIR": str(tmp_path),
            "HIVEO_SESSION_COOKIE_SECURE": "0",
            "HIVEO_MAX_UPLOAD_MB": "2",
            "HIVEO_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["MAX_UPLOAD_MB"] == 2
    assert settings["MAX_CONTENT_LENGTH"] > 2 * 1024 * 1024
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
