"""A client invites its suppliers: one at a time, or from a CSV file (DOMAIN.md 5).

No Flask request here: the views and tests call these functions, in the
caller's transaction; the caller commits.

- A supplier already on the portal: the relation is opened and waits for the
  acceptance of its admins, who are told by e-mail (they answer on "Mes
  clients"). The contact address, when it is not one of those admins, gets
  the same notice, saying that only the admins can answer: a client never
  makes anybody a member of another company. A company on the portal with no
  admin yet (created by another client, its contact not signed up) is
  treated as a new one: the contact is invited as its admin.
- A company not on the portal: it is created from the SIREN and the name
  entered (and the establishment, for a SIRET), the relation is opened, and
  the contact is invited as its admin through the accounts' invitations
  (hiveo/members/services.invite), the e-mail naming the client.
- A SIRET narrows the relation to that establishment.

Each invitation runs in a SAVEPOINT: a refusal leaves nothing written, so a
CSV import can go on with the next row (row by row), or undo every row
(all or nothing).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from ..auth.services import AccountError, check_email
from ..core.audit import audit
from ..core.dates import out_of_range
from ..core.inputs import ascii_digits
from ..core.text import size_fr
from ..extensions import db
from ..identifiers import (
    InvalidIdentifier,
    clean,
    format_siren,
    format_siret,
    validate_siren,
    validate_siret,
)
from ..mail.outbox import enqueue
from ..members.services import MemberError, invite
from ..models import (
    Company,
    Establishment,
    Invitation,
    Relation,
    RelationState,
    Role,
    User,
    utcnow,
)
from ..organisations.services import OrganisationError, add_establishment, create_company
from .services import (
    References,
    RelationError,
    admin_addresses,
    change_mail_allowed,
    open_relation,
    relation_between,
    state_label,
)

# The form's field names (the CSV columns map onto them).
FIELDS = ("siren", "name", "email", "supplier_code", "contract_ref", "category",
          "description", "tracking_end")
CSV_COLUMNS = ("siren_ou_siret", "nom", "email", "code_fournisseur", "reference_contrat",
               "categorie", "description", "fin_de_suivi")
_COLUMN_FIELDS = dict(zip(CSV_COLUMNS, FIELDS, strict=True))
# Each row costs some twenty statements and two rendered e-mails (about 25 ms on an idle
# SQLite): a page answers within a worker's timeout up to ~1,000 rows; larger files go
# through `flask suppliers import`, up to MAX_CLI_ROWS.
MAX_IMPORT_ROWS = 1000
MAX_CLI_ROWS = 5000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MODES = ("all_or_nothing", "row_by_row")


class InvitationRefused(RelationError):
    """Every problem of one invitation, by field; the message is the first one."""

    def __init__(self, errors: dict[str, str]):
        field_name, message = next(iter(errors.items()))
        super().__init__(message, field_name)
        self.errors = errors


class ImportFileError(ValueError):
    """The file itself cannot be read (French): nothing of it is imported."""


@dataclass(frozen=True)
class Identifier:
    """A typed SIREN or SIRET, checked."""

    siren: str
    siret: str | None = None

    @property
    def shown(self) -> str:
        return format_siret(self.siret) if self.siret else format_siren(self.siren)


def read_identifier(value: str) -> Identifier:
    """A SIREN (9 digits) or a SIRET (14 digits), or InvalidIdentifier saying why not."""
    number = clean(value)
    if not number:
        raise InvalidIdentifier("Le SIREN ou le SIRET est obligatoire.")
    if not ascii_digits(number):
        raise InvalidIdentifier("Le SIREN ou le SIRET ne doit contenir que des chiffres.")
    if len(number) == 9:
        return Identifier(validate_siren(number))
    if len(number) == 14:
        siret = validate_siret(number)
        return Identifier(siret[:9], siret)
    raise InvalidIdentifier(
        "Saisissez un SIREN (9 chiffres) ou un SIRET (14 chiffres)\u00a0: "
        f"vous avez saisi {len(number)} chiffres.")


@dataclass(frozen=True)
class InviteResult:
    relation: Relation
    supplier: Company
    company_created: bool
    # The admin invitation sent to the contact (a company with no admin yet), if any.
    invitation: Invitation | None
    # The addresses told of the relation (existing company).
    notified: tuple[str, ...]
    establishment: Establishment | None

    def summary(self) -> str:
        """What happened, in French, for a flash message or the import report."""
        if self.company_created:
            return (f"{self.supplier.name} a été créée sur hiveo\u00a0; "
                    f"{self.invitation.email if self.invitation else ''} est invité "
                    "à en créer le compte.")
        if self.invitation is not None:
            return (f"{self.supplier.name} n'a pas encore d'administrateur\u00a0; "
                    f"{self.invitation.email} est invité à en créer le compte.")
        if not self.notified:
            return (f"{self.supplier.name} est déjà sur hiveo et a été réinvitée\u00a0; "
                    "ses administrateurs ont déjà reçu plusieurs messages à son sujet "
                    "aujourd'hui\u00a0: celui-ci ne leur est pas envoyé, l'invitation "
                    "les attend dans «\u00a0Mes clients\u00a0».")
        return (f"{self.supplier.name} est déjà sur hiveo\u00a0: ses administrateurs "
                "sont prévenus et doivent accepter l'invitation.")


def check_invitation(client: Company, *, identifier: str, name: str, email: str,
                     references: References) -> tuple[Identifier, Company | None, str,
                                                      References]:
    """Every check that needs no write: the identifier, the e-mail, the name, the references.

    Returns (identifier, supplier if on the portal, address, cleaned references),
    or raises InvitationRefused with every problem found, by field.
    """
    errors: dict[str, str] = {}
    number: Identifier | None = None
    supplier: Company | None = None
    try:
        number = read_identifier(identifier)
    except InvalidIdentifier as error:
        errors["siren"] = str(error)
    if number is not None:
        supplier = db.session.scalar(select(Company).where(Company.siren == number.siren))
        if number.siren == client.siren:
            errors["siren"] = "Une entreprise ne peut pas être son propre fournisseur."
        elif supplier is not None:
            existing = relation_between(client.id, supplier.id)
            if existing is not None and existing.state != RelationState.CLOSED:
                errors["siren"] = (f"{supplier.name} est déjà votre fournisseur "
                                   f"(relation {state_label(existing.state)}).")
    if supplier is None and not (name or "").strip():
        errors["name"] = ("La raison sociale est obligatoire\u00a0: cette entreprise n'est "
                          "pas encore sur hiveo.")
    elif len((name or "").strip()) > 200:
        errors["name"] = "200 caractères au plus."
    address = ""
    if not (email or "").strip():
        errors["email"] = "L'e-mail du contact est obligatoire."
    else:
        try:
            address = check_email(email)
        except AccountError as error:
            errors["email"] = str(error)
    cleaned = references.cleaned()
    errors.update({key: value for key, value in cleaned.problems().items() if key not in errors})
    if cleaned.tracking_end is not None and "tracking_end" not in errors:
        problem = out_of_range(cleaned.tracking_end)
        if problem:
            errors["tracking_end"] = problem
    if cleaned.supplier_code and "supplier_code" not in errors:
        taken = db.session.scalar(select(Relation.id).where(
            Relation.client_id == client.id, Relation.supplier_code == cleaned.supplier_code,
            Relation.supplier_id != (supplier.id if supplier else 0)))
        if taken is not None:
            errors["supplier_code"] = (
                f"Le code fournisseur «\u00a0{cleaned.supplier_code}\u00a0» est déjà "
                "utilisé pour un autre de vos fournisseurs.")
    if errors:
        raise InvitationRefused({key: errors[key] for key in FIELDS if key in errors})
    assert number is not None
    return number, supplier, address, cleaned


def invite_supplier(client: Company, user: User, *, identifier: str, name: str, email: str,
                    references: References | None = None, base_url: str,
                    days: int = 7) -> InviteResult:
    """Invite a supplier by SIREN or SIRET; nothing is written when it is refused.

    Raises InvitationRefused (a RelationError) with the problems by field.
    """
    number, supplier, address, cleaned = check_invitation(
        client, identifier=identifier, name=name, email=email,
        references=references or References())
    savepoint = db.session.begin_nested()
    try:
        result = _invite(client, user, number, supplier, (name or "").strip(), address,
                         cleaned, base_url=base_url, days=days)
    except (RelationError, OrganisationError, MemberError) as error:
        savepoint.rollback()
        if isinstance(error, InvitationRefused):
            raise
        if isinstance(error, MemberError):
            field_name = "email"
        else:
            field_name = getattr(error, "field", None) or "siren"
        raise InvitationRefused({field_name: str(error)}) from None
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def _invite(client: Company, user: User, number: Identifier, supplier: Company | None,
            name: str, address: str, references: References, *, base_url: str,
            days: int) -> InviteResult:
    created = supplier is None
    if supplier is None:
        supplier = create_company(number.siren, name)
    establishment = None
    if number.siret:
        establishment = db.session.scalar(select(Establishment).where(
            Establishment.siret == number.siret))
        if establishment is None:
            establishment = add_establishment(number.siret, name or supplier.name,
                                              company=supplier)
            audit(supplier.id, user, "establishment.added", siret=number.siret,
                  client=client.name)
    relation, _ = open_relation(client, supplier, user, references=references,
                                establishments=[establishment] if establishment else [],
                                contact_email=address)
    admins = [] if created else admin_addresses(supplier.id)
    invitation = None
    notified: tuple[str, ...] = ()
    if not admins:
        invitation = _admin_invitation(supplier, user, address, client,
                                       base_url=base_url, days=days)
    elif change_mail_allowed(relation):
        # A closed relation re-invited again and again: its history says so each
        # time, the supplier's inbox only the first MAX_CHANGE_MAILS times a day.
        recipients = admins if address in admins else [*admins, address]
        for recipient in recipients:
            _notify(recipient, client, supplier, user, relation, base_url=base_url,
                    is_admin=recipient in admins, establishment=establishment)
        notified = tuple(recipients)
    audit(client.id, user, "supplier.invited", siren=supplier.siren,
          siret=number.siret, contact=address, created=created)
    return InviteResult(relation, supplier, created, invitation, notified, establishment)


def _admin_invitation(supplier: Company, user: User, address: str, client: Company, *,
                      base_url: str, days: int) -> Invitation | None:
    """The contact invited as the supplier's admin; an invitation already pending for
    that address is kept as it is (its link still works)."""
    pending = db.session.scalar(select(Invitation).where(
        Invitation.company_id == supplier.id, Invitation.email == address,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow()))
    if pending is not None:
        return pending
    return invite(supplier, user, address, Role.ADMIN.value, days=days, base_url=base_url,
                  client=client.name)


def _notify(recipient: str, client: Company, supplier: Company, user: User,
            relation: Relation, *, base_url: str, is_admin: bool,
            establishment: Establishment | None) -> None:
    enqueue("relation_invitation", recipient,
            f"{client.name} vous invite à partager vos documents sur hiveo",
            "relation_invitation", reply_to=user.email, client=client.name,
            inviter=user.name, supplier=supplier.name, is_admin=is_admin,
            establishment=(f"{establishment.name} (SIRET {format_siret(establishment.siret)})"
                           if establishment else None),
            link=f"{base_url}/organisations/{supplier.siren}/clients")


# --- bulk: a CSV file, one supplier per row ---

@dataclass(frozen=True)
class ImportRow:
    line: int
    values: dict[str, str]

    @property
    def identifier(self) -> str:
        return self.values.get("siren", "")

    @property
    def name(self) -> str:
        return self.values.get("name", "")


@dataclass(frozen=True)
class RowOutcome:
    line: int
    identifier: str
    name: str
    message: str


@dataclass
class ImportReport:
    mode: str
    accepted: list[RowOutcome] = field(default_factory=list)
    refused: list[RowOutcome] = field(default_factory=list)

    @property
    def written(self) -> int:
        """How many suppliers were invited (none in all-or-nothing mode with a refusal)."""
        if self.mode == "all_or_nothing" and self.refused:
            return 0
        return len(self.accepted)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "Le fichier n'est pas en UTF-8\u00a0: enregistrez-le au format «\u00a0CSV UTF-8\u00a0» "
            "puis envoyez-le à nouveau.") from None
    if "\x00" in text:
        raise ImportFileError("Ce fichier n'est pas un fichier CSV (texte).")
    return text


def parse_csv(data: bytes, *, max_rows: int = MAX_IMPORT_ROWS,
              max_bytes: int = MAX_IMPORT_BYTES) -> list[ImportRow]:
    """The rows of a CSV file (`;` or `,`, UTF-8 with or without BOM, a header row)."""
    if len(data) > max_bytes:
        raise ImportFileError(f"Le fichier dépasse {size_fr(max_bytes)}\u00a0: "
                              "découpez-le en plusieurs fichiers.")
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error:
        header = None
    if not header or not any(cell.strip() for cell in header):
        raise ImportFileError("Le fichier est vide\u00a0: la première ligne doit nommer "
                              f"les colonnes ({', '.join(CSV_COLUMNS)}).")
    columns = [cell.strip().lower() for cell in header]
    unknown = [name for name in columns if name and name not in _COLUMN_FIELDS]
    if unknown:
        raise ImportFileError(f"Colonne inconnue\u00a0: {', '.join(unknown)}. Les colonnes "
                              f"possibles sont {', '.join(CSV_COLUMNS)}.")
    for required in ("siren_ou_siret", "email"):
        if required not in columns:
            raise ImportFileError(f"La colonne «\u00a0{required}\u00a0» manque "
                                  "dans la première ligne.")
    rows: list[ImportRow] = []
    line = reader.line_num + 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= max_rows:
                raise ImportFileError(
                    f"Le fichier compte plus de {max_rows} lignes\u00a0: découpez-le en "
                    "plusieurs fichiers (ou demandez à l'opérateur de l'importer en ligne "
                    "de commande).")
            values = {_COLUMN_FIELDS[name]: (cells[index].strip() if index < len(cells) else "")
                      for index, name in enumerate(columns) if name}
            rows.append(ImportRow(start, values))
    except csv.Error as error:
        raise ImportFileError(f"Ligne {line}\u00a0: le fichier CSV est mal formé ({error}).") \
            from None
    if not rows:
        raise ImportFileError("Le fichier ne contient aucune ligne de fournisseur.")
    return rows


def parse_date(value: str) -> date | None:
    """A date written 31/12/2027 or 2027-12-31; None when empty; ValueError otherwise."""
    value = (value or "").strip()
    if not value:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"La date «\u00a0{value}\u00a0» n'est pas lisible\u00a0: "
                     "écrivez-la JJ/MM/AAAA.")


def _row_references(row: ImportRow) -> References:
    return References(supplier_code=row.values.get("supplier_code") or None,
                      contract_ref=row.values.get("contract_ref", ""),
                      category=row.values.get("category", ""),
                      description=row.values.get("description", ""),
                      tracking_end=parse_date(row.values.get("tracking_end", "")))


def _duplicate(row: ImportRow, seen_sirens: dict[str, int],
               seen_codes: dict[str, int]) -> str | None:
    try:
        siren = read_identifier(row.identifier).siren
    except InvalidIdentifier:
        siren = None
    code = (row.values.get("supplier_code") or "").strip()
    if siren and siren in seen_sirens:
        return (f"Le SIREN {format_siren(siren)} figure déjà à la ligne "
                f"{seen_sirens[siren]} du fichier.")
    if code and code in seen_codes:
        return (f"Le code fournisseur «\u00a0{code}\u00a0» figure déjà à la ligne "
                f"{seen_codes[code]} du fichier.")
    if siren:
        seen_sirens[siren] = row.line
    if code:
        seen_codes[code] = row.line
    return None


def import_suppliers(client: Company, user: User, rows: Iterable[ImportRow],
                     mode: str = "all_or_nothing", *, base_url: str,
                     days: int = 7) -> ImportReport:
    """Invite every row's supplier, with the same checks as one invitation.

    "row_by_row": the accepted rows are written, the refused ones are not.
    "all_or_nothing": if any row is refused, nothing is written (the report
    still says which rows would have been accepted). The caller commits.
    """
    if mode not in MODES:
        raise ValueError(f"unknown import mode {mode!r}")
    report = ImportReport(mode)
    seen_sirens: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    whole = db.session.begin_nested()
    try:
        for row in rows:
            outcome = _import_row(client, user, row, seen_sirens, seen_codes,
                                  base_url=base_url, days=days)
            (report.refused if isinstance(outcome, str) else report.accepted).append(
                RowOutcome(row.line, row.identifier, row.name,
                           outcome if isinstance(outcome, str) else outcome.summary()))
    except BaseException:
        whole.rollback()
        raise
    if mode == "all_or_nothing" and report.refused:
        whole.rollback()
    else:
        whole.commit()
    return report


def _import_row(client: Company, user: User, row: ImportRow, seen_sirens: dict[str, int],
                seen_codes: dict[str, int], *, base_url: str,
                days: int) -> InviteResult | str:
    duplicate = _duplicate(row, seen_sirens, seen_codes)
    if duplicate:
        return duplicate
    try:
        references = _row_references(row)
    except ValueError as error:
        return str(error)
    try:
        return invite_supplier(client, user, identifier=row.identifier, name=row.name,
                               email=row.values.get("email", ""), references=references,
                               base_url=base_url, days=days)
    except InvitationRefused as error:
        return " ".join(error.errors.values())


def model_csv() -> str:
    """The model file the import page offers: the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["73282932000074", "Exemple Nettoyage", "contact@exemple.fr", "F-0001",
                     "CT-2026-12", "Nettoyage", "Entretien des locaux", "31/12/2027"])
    return "\ufeff" + out.getvalue()
