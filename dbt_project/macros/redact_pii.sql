{#- Personal-data redaction: the text keeps its shape for training, the data becomes placeholders.

    redact_pii(expr, person_pattern=none)
      emails -> <EMAIL>, Luhn-valid card numbers -> <CARD>, phone numbers (Russian and
      international) -> <PHONE>, passport numbers -> <PASSPORT>, SNILS -> <SNILS>, 12-digit
      INN -> <INN>, home addresses (street, house, flat) -> <ADDRESS>, and, when person_pattern (a SQL
      expression holding the regex of int_pii__person_patterns) is given, known person names
      -> <PERSON>. var('redact') = false turns it off (only to prove the PII tests fail).

    Regexes use only what Postgres ARE and DuckDB RE2 share (no look-around): digit boundaries
    are matched as groups and written back. -#}

{% macro pii_email_regex() -%}
[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+
{%- endmacro %}

{#- Card candidates (13-19 digits, spaced / dashed / plain); only Luhn-valid ones are cards. -#}
{% macro pii_card_candidate_regex() -%}
[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{3}|[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{4}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{5}|[0-9]{13,19}
{%- endmacro %}

{#- Phones: +7 (912) 345-67-89, +44 20 7946 0958, +1-202-555-0143, 8 912 345 67 89, 89123456789 -#}
{% macro pii_phone_regexes() -%}
  {{ return([
    "\\+[0-9]{1,3}[ -]?(\\([0-9]{2,4}\\)|[0-9]{2,4})[ -]?[0-9]{3,4}[ -]?[0-9]{2,4}([ -]?[0-9]{2})?",
    "8[ -]?(\\([0-9]{3}\\)|[0-9]{3})[ -]?[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{2}",
  ]) }}
{%- endmacro %}

{#- Passports: Russian internal 45 08 123456 / 4508 123456, international 75 1234567,
    British 9 digits, US A12345678. -#}
{% macro pii_passport_regexes() -%}
  {{ return([
    "[0-9]{2} ?[0-9]{2} [0-9]{6}",
    "[0-9]{2} [0-9]{7}",
    "[A-Z][0-9]{8}",
    "[0-9]{9}",
  ]) }}
{%- endmacro %}

{#- SNILS (123-456-789 64) and a person's INN (12 digits). Shapes only: the checksums are
    checked by core.pii_detect; redacting a look-alike costs a placeholder, missing one a leak. -#}
{% macro pii_snils_regex() -%}
[0-9]{3}[- ][0-9]{3}[- ][0-9]{3}[- ][0-9]{2}
{%- endmacro %}

{% macro pii_inn_regex() -%}
[0-9]{12}
{%- endmacro %}

{#- Home addresses with a flat: "г. Казань, ул. Лесная, д. 12, кв. 34", "14 Oak Road, flat 7,
    London" (a bank branch's address has no flat and stays). -#}
{% macro pii_address_regexes() -%}
  {{ return([
    "(г\\. )?[А-ЯЁ][А-Яа-яЁё-]+( [А-ЯЁ][А-Яа-яЁё-]+)?, (ул\\.|улица|пр-т|проспект|пер\\.|переулок) [А-ЯЁ][а-яё-]+, (д\\.|дом) [0-9]+[а-я]?, (кв\\.|квартира) [0-9]+",
    "[0-9]+[A-Za-z]? [A-Z][a-z]+ (Street|Road|Avenue|Lane), (flat|apt\\.|apartment) [0-9]+, (St\\. )?[A-Z][A-Za-z-]+( [A-Z][A-Za-z-]+)?",
  ]) }}
{%- endmacro %}

{#- Replace a digit pattern only where it is not part of a longer digit run. -#}
{% macro _replace_digits(expr, pattern, placeholder) -%}
regexp_replace({{ expr }}, '(^|[^0-9+])({{ pattern }})([^0-9]|$)', '\1{{ placeholder }}\{{ pattern.count('(') - pattern.count('\\(') + 3 }}', 'g')
{%- endmacro %}

{#- The regex alternation of the Luhn-valid card numbers found in expr ('' when none). -#}
{% macro luhn_card_alternation(expr) -%}
  {{ return(adapter.dispatch('luhn_card_alternation', 'voiceops')(expr)) }}
{%- endmacro %}

{% macro default__luhn_card_alternation(expr) -%}
  (select string_agg(m[1], '|') from regexp_matches({{ expr }}, '{{ pii_card_candidate_regex() }}', 'g') as m where {{ luhn_valid('m[1]') }})
{%- endmacro %}

{% macro duckdb__luhn_card_alternation(expr) -%}
  array_to_string(list_filter(regexp_extract_all({{ expr }}, '{{ pii_card_candidate_regex() }}'), card -> {{ luhn_valid('card') }}), '|')
{%- endmacro %}

{% macro redact_cards(expr) -%}
regexp_replace({{ expr }}, coalesce(nullif({{ luhn_card_alternation(expr) }}, ''), '[^\s\S]'), '<CARD>', 'g')
{%- endmacro %}

{% macro redact_persons(expr, person_pattern) -%}
  {%- set once = "regexp_replace(" ~ expr ~ ", coalesce(nullif(" ~ person_pattern ~ ", ''), '[^\\s\\S]'), '\\1<PERSON>\\3', 'g')" -%}
  {#- twice: a match consumes the character after it, which may start the next name -#}
  regexp_replace({{ once }}, coalesce(nullif({{ person_pattern }}, ''), '[^\s\S]'), '\1<PERSON>\3', 'g')
{%- endmacro %}

{% macro redact_pii(expr, person_pattern=none) -%}
  {%- if not var('redact', true) -%}
    {{ expr }}
  {%- else -%}
    {{ redact_pii_always(expr, person_pattern) }}
  {%- endif -%}
{%- endmacro %}

{#- The redaction itself, regardless of var('redact') (the no_pii test detects with it). -#}
{% macro redact_pii_always(expr, person_pattern=none) -%}
    {#- a namespace: variables set inside a Jinja for loop do not outlive it -#}
    {%- set ns = namespace(t="regexp_replace(" ~ expr ~ ", '" ~ pii_email_regex() ~ "', '<EMAIL>', 'g')") -%}
    {%- for p in pii_address_regexes() -%}
      {%- set ns.t = "regexp_replace(" ~ ns.t ~ ", '" ~ p ~ "', '<ADDRESS>', 'g')" -%}
    {%- endfor -%}
    {%- set ns.t = redact_cards(ns.t) -%}
    {%- set ns.t = _replace_digits(ns.t, pii_snils_regex(), '<SNILS>') -%}
    {%- set ns.t = _replace_digits(ns.t, pii_inn_regex(), '<INN>') -%}
    {%- for p in pii_phone_regexes() -%}
      {%- set ns.t = _replace_digits(ns.t, p, '<PHONE>') -%}
    {%- endfor -%}
    {%- for p in pii_passport_regexes() -%}
      {%- set ns.t = _replace_digits(ns.t, p, '<PASSPORT>') -%}
    {%- endfor -%}
    {%- if person_pattern is not none -%}
      {%- set ns.t = redact_persons(ns.t, person_pattern) -%}
    {%- endif -%}
    {{ ns.t }}
{%- endmacro %}

{#- Slots (JSON text): values of the taxonomy's pii slots become <PERSON>, then free-text redaction. -#}
{% macro redact_slots(expr, person_pattern=none) -%}
  {%- if not var('redact', true) -%}
    {{ expr }}
  {%- else -%}
    {%- set ns = namespace(t=expr) -%}
    {%- for slot in var('pii_slots') -%}
      {%- set ns.t = "regexp_replace(" ~ ns.t ~ ", '(\"" ~ slot ~ "\"[ ]*:[ ]*)\"[^\"]*\"', '\\1\"<PERSON>\"', 'g')" -%}
    {%- endfor -%}
    {{ redact_pii(ns.t, person_pattern) }}
  {%- endif -%}
{%- endmacro %}

{#- The person-name regex of int_pii__person_patterns as a SQL string literal, read when the
    model runs: a constant pattern is compiled once (a per-row pattern column made DuckDB
    recompile it for every row, ~700x slower). At parse time it is '' (and records the ref). -#}
{% macro person_pattern_literal() -%}
  {%- set relation = ref('int_pii__person_patterns') -%}
  {%- set pattern = '' -%}
  {%- if execute and load_relation(relation) is not none -%}
    {%- set result = run_query('select person_pattern from ' ~ relation) -%}
    {%- if result.rows | length > 0 and result.rows[0][0] -%}
      {%- set pattern = result.rows[0][0] -%}
    {%- endif -%}
  {%- endif -%}
  {{ return("'" ~ pattern | replace("'", "''") ~ "'") }}
{%- endmacro %}
