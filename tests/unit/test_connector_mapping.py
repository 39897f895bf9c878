"""The connector layer without a network: code tables, registry, settings, errors, instants."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)

from hiveo.dossier.catalogue import CATALOGUE
from hiveo.providers import (
    PROVIDERS,
    configured_providers,
    connector_for,
    supplied_types,
)
from hiveo.providers import actradis as actradis_module
from hiveo.providers import attestation_legale as al_module
from hiveo.providers.http import RETRIES, _pdf_chunks, retry_policy
from hiveo.providers.reading import latest_instant
from hiveo.providers.records import Connector, ErrorCode, ProviderError
from hiveo.sync.wording import provider_error
from simulator.catalogue import KINDS as SIMULATED_KINDS
from simulator.catalogue import STATES as SIMULATED_STATES

CONFIG = {
    "ATTESTATION_LEGALE_URL": "http://al.example.test/",
    "ATTESTATION_LEGALE_TOKEN": "token",
    "ACTRADIS_URL": "",
    "ACTRADIS_API_KEY": "",
}


def test_providers_are_listed_by_id_with_their_display_name_in_order():
    assert list(PROVIDERS.items()) == [
        ("attestation_legale", "Attestation Légale"),
        ("actradis", "Actradis"),
    ]


def test_attestation_legale_codes_cover_every_catalogue_type_once():
    assert sorted(al_module.CODES.values()) == sorted(CATALOGUE)
    assert al_module.CODES["LISTE_SALARIES_ETRANGERS"] == "LNTE"
    assert al_module.CODES["CONGES_PAYES_BTP"] == "BTP_PAID_LEAVE"


def test_actradis_codes_cover_every_catalogue_type_but_btp_paid_leave():
    assert sorted(actradis_module.CODES.values()) == sorted(set(CATALOGUE) - {"BTP_PAID_LEAVE"})
    assert actradis_module.CODES["ATTESTATION_VIGILANCE"] == "URSSAF_VIGILANCE"
    assert actradis_module.CODES["ATTESTATION_ASSURANCE_RC"] == "INSURANCE_RC_PRO"


@pytest.mark.parametrize("module", [al_module, actradis_module])
def test_the_code_tables_know_exactly_the_codes_of_the_contract(module):
    # The simulator's vocabulary is the contract's list of known codes and states.
    assert set(module.CODES) == set(SIMULATED_KINDS[module.PROVIDER])
    assert set(module.STATES) == set(SIMULATED_STATES[module.PROVIDER].all)
    assert sorted(module.STATES.values()) == ["awaiting", "expired", "refused", "valid"]


def test_supplied_types_are_the_catalogue_codes_each_provider_can_supply():
    assert supplied_types("attestation_legale") == frozenset(CATALOGUE)
    assert supplied_types("actradis") == frozenset(CATALOGUE) - {"BTP_PAID_LEAVE"}
    with pytest.raises(ValueError):
        supplied_types("provigis")


def test_connector_for_returns_none_when_the_provider_url_is_empty():
    assert connector_for("actradis", CONFIG) is None
    assert connector_for("actradis", {**CONFIG, "ACTRADIS_URL": "   "}) is None
    assert connector_for("attestation_legale", {}) is None


def test_connector_for_refuses_an_unknown_provider():
    with pytest.raises(ValueError, match="provigis"):
        connector_for("provigis", CONFIG)


def test_connector_for_builds_a_configured_connector_with_defaults():
    connector = connector_for("attestation_legale", CONFIG)
    try:
        assert isinstance(connector, Connector)
        assert (connector.provider, connector.display_name) == (
            "attestation_legale",
            "Attestation Légale",
        )
        assert connector.base_url == "http://al.example.test"
        assert connector.timeout == (3.05, 10.0)
        assert connector.page_size == 100
    finally:
        connector.close()


def test_settings_shape_the_timeout_and_the_page_size():
    config = {
        **CONFIG,
        "ACTRADIS_URL": "http://actradis.example.test",
        "PROVIDER_TIMEOUT": 0.5,
        "PROVIDER_PAGE_SIZE": 500,
    }
    actradis = connector_for("actradis", config)
    al = connector_for("attestation_legale", {**CONFIG, "PROVIDER_PAGE_SIZE": 7})
    try:
        assert actradis.timeout == (0.5, 0.5)
        # The contract caps Actradis's `limite` at 200.
        assert actradis.page_size == 200
        assert al.page_size == 7
    finally:
        actradis.close()
        al.close()


def test_a_lent_session_stays_open_and_keeps_its_other_adapters():
    with requests.Session() as session:
        connector = connector_for("attestation_legale", CONFIG, session=session)
        assert connector.session is session
        assert session.get_adapter("http://al.example.test/v1/x") is not session.get_adapter(
            "http://elsewhere.example.test/"
        )
        connector.close()
        assert session.adapters


def test_configured_providers_are_those_with_a_url():
    assert configured_providers(CONFIG) == ["attestation_legale"]
    assert configured_providers({**CONFIG, "ACTRADIS_URL": "http://a"}) == [
        "attestation_legale",
        "actradis",
    ]
    assert configured_providers({}) == []


def test_high_water_compares_instants_not_strings_across_offsets():
    stamps = [
        "2026-10-02T10:00:00+02:00",  # 08:00 UTC, the greatest as text
        "2026-10-02T08:30:00Z",  # 08:30 UTC
        "2026-10-02T09:15:00+01:00",  # 08:15 UTC
    ]

    assert max(stamps) == "2026-10-02T10:00:00+02:00"
    assert latest_instant(stamps) == "2026-10-02T08:30:00Z"
    assert latest_instant(["2026-03-29T03:00:00+02:00", "2026-03-29T01:30:00+01:00"]) == (
        "2026-03-29T03:00:00+02:00"
    )
    assert latest_instant([]) is None


def test_an_instant_without_offset_is_refused():
    with pytest.raises(ValueError):
        latest_instant(["2026-10-02T10:00:00"])
    with pytest.raises(ValueError):
        latest_instant(["2026-10-02"])


def test_error_messages_are_french_and_name_the_provider():
    checksum = ProviderError("actradis", "checksum")
    subscription = ProviderError("attestation_legale", ErrorCode.SUBSCRIPTION)

    expected = "Un fichier reçu d'Actradis est corrompu (empreinte SHA-256 différente)"
    assert provider_error(checksum, "Actradis") == expected
    assert (checksum.provider, checksum.code) == ("actradis", ErrorCode.CHECKSUM)
    assert provider_error(subscription, "Attestation Légale") == (
        "Abonnement Attestation Légale inactif")

    def word(name, code, **data):
        return provider_error(ProviderError("x", code, **data), name)

    assert word("Attestation Légale", "timeout") == "Attestation Légale ne répond pas"
    assert word("Provigis", "not_pdf") == "Un fichier reçu de Provigis n'est pas un PDF"
    assert "HTTP 500" in word("Actradis", "http", status=500)
    assert word("Actradis", "deadline", limit=30.0) == (
        "Actradis met trop de temps à répondre : appel interrompu (délai de 30 s dépassé)")
    assert word("Actradis", "json_too_large", limit=2 * 1024 * 1024) == (
        "Actradis a envoyé une réponse trop volumineuse (limite de 2 Mo dépassée)")
    for code in ErrorCode:
        assert "Actradis" in word("Actradis", code)
    with pytest.raises(ValueError):
        ProviderError("actradis", "oops")


def test_retry_after_is_honoured_up_to_the_bound_only():
    policy = retry_policy(2.5)

    assert policy.parse_retry_after("1") == 1
    assert policy.parse_retry_after("60") == 2.5
    assert policy.parse_retry_after("demain") == 0
    assert policy.increment(method="GET", url="/x").retry_after_bound == 2.5
    assert policy.is_retry("GET", 429) and policy.is_retry("GET", 503)
    assert not policy.is_retry("GET", 500)
    assert not policy.is_retry("POST", 503)


def test_timeouts_are_never_retried_but_refused_connections_are():
    policy = retry_policy(1.0)

    with pytest.raises(ReadTimeoutError):
        policy.increment(method="GET", url="/x", error=ReadTimeoutError(None, "/x", "slow"))
    with pytest.raises(MaxRetryError):
        policy.increment(method="GET", url="/x", error=ConnectTimeoutError("no SYN-ACK"))
    refused = NewConnectionError(None, "refused")
    for _ in range(RETRIES):
        policy = policy.increment(method="GET", url="/x", error=refused)
    with pytest.raises(MaxRetryError):
        policy.increment(method="GET", url="/x", error=refused)


def test_the_pdf_check_reads_across_small_chunks_before_letting_anything_through():
    assert b"".join(_pdf_chunks([b"%P", b"D", b"F-1.7", b"rest"])) == b"%PDF-1.7rest"
    with pytest.raises(Exception, match="html"):
        next(_pdf_chunks([b"<ht", b"ml>"]))
    with pytest.raises(Exception, match="%PD"):
        next(_pdf_chunks([b"%PD"]))


def test_provider_texts_lose_their_control_characters():
    from hiveo.providers.reading import text

    assert text({"name": "Acme\x00 Nettoy\x1bage\x9f"}, "name", "company") == "Acme Nettoyage"
    assert text({"name": "Déjà\tvu"}, "name", "company") == "Déjàvu"
