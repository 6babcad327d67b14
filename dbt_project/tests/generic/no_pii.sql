{#- Fails with every (column, value) of `model` where personal data is left, found by two
    oracles (column `found_by`):
    - `redaction`: the redaction would still change the value (an email, a phone, a Luhn-valid
      card, a passport, SNILS, INN, a home address, a name known to the CRM / pii slots);
    - `crm_identifier`: an identifier the CRM holds for a customer is in the value, matched
      independently of the redaction's formats: the phone's last ten digits or the passport's
      digits anywhere in the value's digits, the email in the lower-cased value, a word of the
      full name as a whole word. It catches what the redaction's regexes miss
      ("8.903.123.45.67"), which the first oracle cannot, since it is those regexes.
    Checks every text column except identifiers (names ending in _id, _path, _commit) and
    `exclude`. -#}
{% test no_pii(model, exclude=[]) %}
{%- set columns = [] -%}
{%- if execute -%}
  {%- for column in adapter.get_columns_in_relation(model) -%}
    {%- set name = column.name | lower -%}
    {%- if column.is_string() and name not in exclude
        and not name.endswith('_id') and not name.endswith('_path') and not name.endswith('_commit') -%}
      {%- do columns.append(column.name) -%}
    {%- endif -%}
  {%- endfor -%}
{%- endif %}
{%- set person_pattern = person_pattern_literal() %}
{%- set customers = ref('stg_crm__customers') %}
with model_rows as (
    select * from {{ model }}
),

text_values as (
{%- if columns | length == 0 %}
    select cast(null as {{ dbt.type_string() }}) as column_name, cast(null as {{ dbt.type_string() }}) as value
    where 1 = 0
{%- else %}
{%- for column in columns %}
    {% if not loop.first %}union all{% endif %}
    select '{{ column }}' as column_name, model_rows.{{ adapter.quote(column) }} as value
    from model_rows
    where model_rows.{{ adapter.quote(column) }} is not null
{%- endfor %}
{%- endif %}
),

name_words as (
    {{ split_words('full_name', customers) }}
),

identifiers as (
    select right(regexp_replace(phone, '[^0-9]', '', 'g'), 10) as identifier, 'digits' as match_on
    from {{ customers }}
    where length(regexp_replace(phone, '[^0-9]', '', 'g')) >= 10
    union all
    select regexp_replace(passport, '[^0-9]', '', 'g'), 'digits'
    from {{ customers }}
    where length(regexp_replace(passport, '[^0-9]', '', 'g')) >= 8
    union all
    select lower(email), 'text' from {{ customers }} where email like '%_@_%'
    union all
    select distinct word, 'word' from name_words where length(word) >= 3
),

normalized as (
    select
        column_name,
        value,
        regexp_replace(value, '[^0-9]', '', 'g') as digits,
        lower(value) as lowered,
        ' ' || regexp_replace(value, '[^A-Za-zА-Яа-яЁё]+', ' ', 'g') || ' ' as words
    from text_values
)

select column_name, value, 'redaction' as found_by
from text_values
where {{ redact_pii_always('value', person_pattern) }} <> value

union all

select distinct normalized.column_name, normalized.value, 'crm_identifier' as found_by
from normalized
inner join identifiers
    on (identifiers.match_on = 'digits' and position(identifiers.identifier in normalized.digits) > 0)
    or (identifiers.match_on = 'text' and position(identifiers.identifier in normalized.lowered) > 0)
    or (identifiers.match_on = 'word' and position(' ' || identifiers.identifier || ' ' in normalized.words) > 0)
{% endtest %}
