{#- Fails with every (column, value) of `model` where personal data is left: an email, a phone,
    a Luhn-valid card number, a passport number or a name known to the CRM / pii slots.
    Checks every text column except identifiers (names ending in _id, _path, _commit) and
    `exclude`; detection = "the redaction would still change this value". -#}
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
with model_rows as (
    select * from {{ model }}
)
{%- if columns | length == 0 %}
select cast(null as {{ dbt.type_string() }}) as column_name, cast(null as {{ dbt.type_string() }}) as value
where 1 = 0
{%- else %}
{%- for column in columns %}
{% if not loop.first %}union all{% endif %}
select '{{ column }}' as column_name, model_rows.{{ adapter.quote(column) }} as value
from model_rows
where model_rows.{{ adapter.quote(column) }} is not null
    and {{ redact_pii_always('model_rows.' ~ adapter.quote(column), person_pattern) }}
        <> model_rows.{{ adapter.quote(column) }}
{%- endfor %}
{%- endif %}
{% endtest %}
