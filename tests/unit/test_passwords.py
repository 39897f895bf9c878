from hiveo.passwords import hash_password, needs_rehash, password_problem, verify_password


def test_hash_is_argon2id_and_verifies():
    hashed = hash_password("un mot de passe long", "fast")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "un mot de passe long", "fast")
    assert not verify_password(hashed, "un autre mot de passe", "fast")


def test_same_password_hashes_differently_each_time():
    assert hash_password("identique identique", "fast") != hash_password(
        "identique identique", "fast"
    )


def test_default_profile_uses_strong_parameters():
    hashed = hash_password("un mot de passe long")
    assert "m=65536,t=3,p=4" in hashed
    assert not needs_rehash(hashed)
    assert needs_rehash(hash_password("un mot de passe long", "fast"))


def test_garbage_hash_does_not_verify():
    assert not verify_password("not-a-hash", "x", "fast")


def test_short_passwords_are_refused_in_french():
    assert "10 caractères" in password_problem("court")
    assert password_problem("assez long pour passer") is None
