{#- Fails with every normalized text of `column_name` found in more than one split.
    Splits listed in `same_group` count as one (e.g. the same sentence under two test conditions). -#}
{% test no_split_leakage(model, column_name, split_column='split', same_group=[]) %}
{%- set split_key -%}
  {%- if same_group -%}
    case when {{ split_column }} in ('{{ same_group | join("', '") }}') then '{{ same_group[0] }}' else {{ split_column }} end
  {%- else -%}
    {{ split_column }}
  {%- endif -%}
{%- endset %}
select
    {{ normalize_text(column_name) }} as text_normalized,
    count(distinct {{ split_key }}) as splits
from {{ model }}
group by {{ normalize_text(column_name) }}
having count(distinct {{ split_key }}) > 1
{% endtest %}
