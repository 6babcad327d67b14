# ruff: noqa: RUF002 (the docstring quotes Russian names in Cyrillic on purpose)
"""A data subject's identifiers and how to recognise them in text and in Arrow columns.

``identify`` gathers the CRM id, its ``customer_key`` (``core.pseudonym``) and, from the CRM
record (the simulator's CRM database under the sources root, else the lake's raw CRM
customers at ``main``), the full name, phone, email and passport; the card numbers come
from the subject's own calls. A value matches when:

* ``customer_id``, ``customer_key``, ``passport``: it occurs as a whole token (``CUST-001002``
  does not match ``CUST-0010021``);
* ``full_name``, ``email``: it occurs, ignoring case; a name also in the forms callers
  and agents say it (``name_forms``: "Елена Кузьмина", "Елену Кузьмину", "Кузьмина Е.
  Д."). First name and patronymic alone ("Елена Дмитриевна") is not searched: on the
  demo's 501 customers it matched another customer's CRM row and tickets;
* ``phone``: its last ``PHONE_DIGITS`` digits (the number without the country or trunk
  prefix) occur in the text's digits (``+7 (912) 345-67-89`` matches ``8 912 3456789``);
* ``card_number``: a card number (Luhn-valid, ``core.pii_detect``) the subject said in one of
  their own calls occurs in the text's digits. The CRM holds no card numbers, so these are
  gathered from the subject's calls as the search reads them (sources first).
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from core.pseudonym import customer_key, pseudonym_key
from core.settings import Settings

#: Identifier kinds, in report order.
KINDS = ("customer_id", "customer_key", "full_name", "phone", "email", "passport")
_TOKEN_KINDS = ("customer_id", "customer_key", "passport")
_CASELESS_KINDS = ("full_name", "email")
#: Kinds matched against the text's digits only.
_DIGIT_KINDS = ("phone", "card_number")
#: Fewer digits than this would match unrelated numbers.
MIN_PHONE_DIGITS = 7
#: The national number of the simulator's phones (+7 and +44 numbers): callers say it with
#: +7, 8 or 0 in front, so the prefix is not searched.
PHONE_DIGITS = 10
_CALL_ID = re.compile(r'"call_id":\s*"([^"]+)"')
_CUSTOMER_ID = re.compile(r'"customer_id":\s*"([^"]+)"')


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass
class Subject:
    """The identifiers of one customer (values keyed by kind) and their calls' ids."""

    customer_id: str
    values: dict[str, str]
    call_ids: set[str] = field(default_factory=set)
    #: every form of the full name searched (the CRM's first)
    name_forms: list[str] = field(default_factory=list)
    #: where the CRM record came from ("sources", "lake", or "" when unknown)
    record_from: str = ""
    #: card numbers (digits) said in the subject's own calls
    cards: set[str] = field(default_factory=set)
    #: call ids that another customer's records claim too (e.g. a duplicated call id)
    other_calls: set[str] = field(default_factory=set)
    #: ids and keys of other customers with the same full name: their own rows' names are
    #: theirs, not the subject's (two "Michael Gray"s on the demo's 501 customers)
    namesakes: set[str] = field(default_factory=set)

    def namesake_in(self, text: str) -> bool:
        return any(token in text for token in self.namesakes)

    def contested_calls(self) -> set[str]:
        """The subject's calls another customer's record claims too. Plain data of such a
        call (a source WAV, a recordings row) counts as the subject's (erasure errs on
        the side of the subject); a sealed recording belongs to whom its key names."""
        return self.call_ids & self.other_calls

    def kinds(self) -> list[str]:
        """The identifier kinds searched: the CRM record's, and cards once any is known."""
        return sorted([*self.values, *(["card_number"] if self.cards else [])])

    def patterns(self) -> dict[str, str]:
        """One RE2/Python regex per kind, applied to the text (phone: to its digits)."""
        found: dict[str, str] = {}
        for kind, value in self.values.items():
            escaped = re.escape(value)
            if kind == "full_name" and self.name_forms:
                escaped = "|".join(re.escape(form) for form in self.name_forms)
                found[kind] = f"(?i)(?:{escaped})"
            elif kind in _TOKEN_KINDS:
                found[kind] = f"(?:^|[^0-9A-Za-z_-]){escaped}(?:$|[^0-9A-Za-z_])"
            elif kind in _CASELESS_KINDS:
                found[kind] = f"(?i){escaped}"
            else:
                found[kind] = escaped
        if self.cards:
            found["card_number"] = "|".join(sorted(self.cards))
        return found

    def add_cards(self, texts: list[str]) -> None:
        """Add the card numbers found in ``texts`` (the subject's own calls)."""
        from core.pii_detect import detect

        for text in texts:
            for span in detect(text, kinds=("card_number",)):
                self.cards.add(digits(span.text))

    def text_hits(self, lines: list[str]) -> Counter[str]:
        """How many of ``lines`` hold each kind."""
        compiled = {kind: re.compile(p) for kind, p in self.patterns().items()}
        hits: Counter[str] = Counter()
        for line in lines:
            line_digits = digits(line) if set(_DIGIT_KINDS) & set(compiled) else ""
            for kind, pattern in compiled.items():
                if kind == "full_name" and self.namesakes and self.namesake_in(line):
                    continue
                if pattern.search(line_digits if kind in _DIGIT_KINDS else line):
                    hits[kind] += 1
        return hits

    def add_calls_from_lines(self, lines: list[str]) -> None:
        """Add the ``"call_id"`` (and card numbers) of every JSON line that names the
        subject's id or key."""
        own = [re.compile(self.patterns()[k]) for k in ("customer_id", "customer_key")]
        for line in lines:
            if any(pattern.search(line) for pattern in own):
                self.call_ids.update(_CALL_ID.findall(line))
                self.add_cards([line])
            elif _CUSTOMER_ID.search(line):
                self.other_calls.update(_CALL_ID.findall(line))

    def table_hits(self, table: pa.Table) -> tuple[Counter[str], pa.Array | None]:
        """Rows of ``table`` whose string columns hold each kind, and the mask of rows that
        hold the CRM id or key (to find the subject's call ids)."""
        patterns = self.patterns()
        masks: dict[str, Any] = {}
        for name in table.column_names:
            column = table.column(name)
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                continue
            column = pc.fill_null(column, "")
            for kind, pattern in patterns.items():
                digit_kind = kind in _DIGIT_KINDS
                text = pc.replace_substring_regex(column, r"\D", "") if digit_kind else column
                mask = pc.match_substring_regex(text, pattern)
                masks[kind] = mask if kind not in masks else pc.or_(masks[kind], mask)
        if "full_name" in masks and self.namesakes:
            masks["full_name"] = pc.and_(masks["full_name"], pc.invert(self._namesake_rows(table)))
        hits = Counter({k: pc.sum(m).as_py() or 0 for k, m in masks.items()})
        own = [masks[k] for k in ("customer_id", "customer_key") if k in masks]
        subject_rows = pc.or_(*own) if len(own) == 2 else (own[0] if own else None)
        return +hits, subject_rows

    def _namesake_rows(self, table: pa.Table) -> pa.Array:
        """Rows whose customer id or key is a namesake's."""
        rows = pa.array([False] * table.num_rows, pa.bool_())
        names = pa.array(sorted(self.namesakes), pa.string())
        for column in ("customer_id", "customer_key", "user_id"):
            if column in table.column_names:
                found = pc.fill_null(pc.is_in(table.column(column), value_set=names), False)
                rows = pc.or_(rows, found)
        return rows


def identify(settings: Settings, customer_id: str) -> Subject:
    """The subject's identifiers: the id, its key, and the CRM record's personal fields."""
    values = {"customer_id": customer_id, "customer_key": customer_key(
        customer_id, pseudonym_key(settings))}  # fmt: skip
    record, record_from = _crm_record_from_sources(settings, customer_id), "sources"
    if record is None:
        record, record_from = _crm_record_from_lake(settings, customer_id), "lake"
    if record is None:
        return Subject(customer_id, values)
    for kind in ("full_name", "email", "passport"):
        if record.get(kind):
            values[kind] = str(record[kind])
    phone = digits(str(record.get("phone") or ""))
    if len(phone) >= MIN_PHONE_DIGITS:
        values["phone"] = phone[-PHONE_DIGITS:]
    forms = name_forms(values["full_name"], str(record.get("language") or "")) if (
        "full_name" in values) else []  # fmt: skip
    subject = Subject(customer_id, values, record_from=record_from, name_forms=forms)
    if "full_name" in values and record_from == "sources":
        key = pseudonym_key(settings)
        for other in _namesakes_in_sources(settings, customer_id, values["full_name"]):
            subject.namesakes.update((other, customer_key(other, key)))
    return subject


def _namesakes_in_sources(settings: Settings, customer_id: str, full_name: str) -> list[str]:
    """Ids of the other CRM customers with the same full name (ignoring case)."""
    from ingestion.simulator.layout import crm_database

    connection = sqlite3.connect(f"file:{crm_database(settings.sources_root)}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT customer_id FROM customers WHERE lower(full_name) = lower(?) "
            "AND customer_id <> ?",
            (full_name, customer_id),
        ).fetchall()
    finally:
        connection.close()
    return sorted({row[0] for row in rows})


def name_forms(full_name: str, language: str) -> list[str]:
    """The CRM's full name and the forms the simulator's callers and agents say it in that
    name one person: first and last name in three cases and the agent's short form
    (surname and initials). First name and patronymic, which agents say too, are shared by
    many customers and are left out."""
    from core.pii import person_from_full_name

    person = person_from_full_name(full_name, language)
    forms = [full_name, *(person.name(case) for case in range(3))]
    if person.language == "ru" and person.patronymic:
        forms.append(person.short_name)
    return list(dict.fromkeys(form for form in forms if form.strip()))


def _crm_record_from_sources(settings: Settings, customer_id: str) -> dict[str, Any] | None:
    from ingestion.simulator.layout import crm_database

    path = crm_database(settings.sources_root)
    if not path.exists():
        return None
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        row = connection.execute(
            "SELECT * FROM customers WHERE customer_id = ?", (customer_id,)
        ).fetchone()
    finally:
        connection.close()
    return dict(row) if row else None


def _crm_record_from_lake(settings: Settings, customer_id: str) -> dict[str, Any] | None:
    """The newest raw CRM row of the customer at ``main`` (parts are read in path order)."""
    import pyarrow.parquet as pq

    from core.sealing import Sealer
    from versioning.lake import open_lake
    from versioning.lake.models import ObjectStat

    lake, repository = open_lake(settings), settings.lake_repository
    if repository not in {repo.id for repo in lake.list_repositories()}:
        return None
    sealer = Sealer.from_settings(settings)
    found = None
    for item in lake.list_objects(repository, "main", "raw/crm/customers/"):
        if not isinstance(item, ObjectStat) or not item.path.endswith(".parquet"):
            continue
        data = pq.read_table(io.BytesIO(lake.read_bytes(repository, "main", item.path)))
        table = sealer.open_table(data).table  # rows under destroyed keys are dropped
        if "customer_id" not in table.column_names:
            continue
        rows = table.filter(pc.equal(table.column("customer_id"), customer_id)).to_pylist()
        found = rows[-1] if rows else found
    return found
