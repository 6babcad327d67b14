{#- One row per whitespace-separated word of a text column: `select word from <relation>`. -#}
{% macro split_words(column, relation) -%}
  {{ return(adapter.dispatch('split_words', 'voiceops')(column, relation)) }}
{%- endmacro %}

{% macro default__split_words(column, relation) -%}
  select regexp_split_to_table(trim({{ column }}), '\s+') as word from {{ relation }}
{%- endmacro %}

{% macro duckdb__split_words(column, relation) -%}
  select unnest(regexp_split_to_array(trim({{ column }}), '\s+')) as word from {{ relation }}
{%- endmacro %}
