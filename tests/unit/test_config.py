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


def test_mail_is_off_by_default_and_the_demo_mailbox_too(tmp_path):
    settings = load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path)})
    assert settings["SMTP_URL"] == ""
    assert settings["DEMO_MAILBOX"] is False
    assert settings["INVITATION_DAYS"] == 7
    assert settings["MAIL_MAX_ATTEMPTS"] == 5


@pytest.mark.parametrize("url", ["smtp://user:secret@mail.example:587", "smtps://mail.example",
                                 "smtp://127.0.0.1:25?starttls=no"])
def test_smtp_urls_that_are_accepted(tmp_path, url):
    settings = load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path), "HIVEO_SMTP_URL": url})
    assert settings["SMTP_URL"] == url


@pytest.mark.parametrize(("url", "message"), [
    ("http://mail.example", "smtp://"),
    ("smtp://", "smtp://"),
    ("smtp://mail.example:abc", "port"),
    ("smtp://user:secret@mail.example:25?starttls=no", "never sent without TLS"),
    ("smtp://mail.example?starttls=maybe", "starttls"),
])
def test_smtp_urls_that_stop_the_start_up(tmp_path, url, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({"HIVEO_INSTANCE_DIR": str(tmp_path), "HIVEO_SMTP_URL": url})


def test_smtp_settings_read_from_the_url():
    from hiveo.mail.smtp import SmtpSettings

    plain = SmtpSettings.from_url("smtp://marie%40x.fr:p%C3%A0ss@mail.example")
    assert (plain.host, plain.port, plain.starttls, plain.implicit_tls) == (
        "mail.example", 587, True, False)
    assert (plain.username, plain.password) == ("marie@x.fr", "pàss")
    tls = SmtpSettings.from_url("smtps://mail.example")
    assert (tls.port, tls.implicit_tls, tls.starttls) == (465, True, False)
    relay = SmtpSettings.from_url("smtp://127.0.0.1:25?starttls=no")
    assert (relay.port, relay.starttls) == (25, False)
