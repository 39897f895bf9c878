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
    assert "12 caractères" in password_problem("court")
    assert password_problem("assez long pour passer") is None


def test_eleven_characters_are_refused_and_twelve_accepted():
    assert "12 caractères" in password_problem("onze-lettre")
    assert password_problem("douze-lettre") is None


def test_common_passwords_are_refused_whatever_their_case():
    for common in ("motdepasse123", "Azertyuiop2024", "123456789012", "Marseille2026!"):
        assert "plus courants" in password_problem(common), common


def test_no_composition_rule_a_long_lowercase_phrase_passes():
    assert password_problem("le chat dort sur le canapé") is None


def test_a_password_made_of_one_repeated_character_or_the_email_is_refused():
    assert "répète" in password_problem("aaaaaaaaaaaaaaaa")
    assert "adresse e-mail" in password_problem("jeanne.martin", email="jeanne.martin@example.fr")


def test_the_shipped_list_holds_only_passwords_the_length_rule_lets_through():
    from hiveo.passwords import MIN_PASSWORD_LENGTH, common_passwords

    listed = common_passwords()
    assert len(listed) > 10_000
    assert all(len(item) >= MIN_PASSWORD_LENGTH for item in listed)
