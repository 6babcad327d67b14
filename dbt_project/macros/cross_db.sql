{#- Small cross-database helpers (DuckDB and Postgres), dispatched where the SQL differs. -#}

{#- A deterministic bucket 0..buckets-1 from the md5 of a text: identical on every adapter. -#}
{% macro hash_bucket(expr, buckets=100) -%}
  {{ return(adapter.dispatch('hash_bucket', 'voiceops')(expr, buckets)) }}
{%- endmacro %}

{% macro default__hash_bucket(expr, buckets) -%}
  mod(cast(('x' || lpad(substr(md5({{ expr }}), 1, 8), 16, '0'))::bit(64) as bigint), {{ buckets }})
{%- endmacro %}

{% macro duckdb__hash_bucket(expr, buckets) -%}
  (cast('0x' || substr(md5({{ expr }}), 1, 8) as bigint) % {{ buckets }})
{%- endmacro %}

{#- A JSON text in the adapter's canonical form (keys, spacing), unicode escapes decoded. -#}
{% macro json_normalize(expr) -%}
  {{ return(adapter.dispatch('json_normalize', 'voiceops')(expr)) }}
{%- endmacro %}

{% macro default__json_normalize(expr) -%}
  cast(cast(nullif({{ expr }}, '') as jsonb) as text)
{%- endmacro %}

{% macro duckdb__json_normalize(expr) -%}
  cast(json(nullif({{ expr }}, '')) as varchar)
{%- endmacro %}

{#- The text value of a top-level key of a JSON text. -#}
{% macro json_get_text(expr, key) -%}
  {{ return(adapter.dispatch('json_get_text', 'voiceops')(expr, key)) }}
{%- endmacro %}

{% macro default__json_get_text(expr, key) -%}
  (cast(nullif({{ expr }}, '') as jsonb) ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_get_text(expr, key) -%}
  json_extract_string(nullif({{ expr }}, ''), '$.{{ key }}')
{%- endmacro %}

{#- Lower-cased, punctuation-free, single-spaced text: the key of the leakage-free splits. -#}
{% macro normalize_text(expr) -%}
  trim(regexp_replace(lower({{ expr }}), '[^a-zа-яё0-9<>]+', ' ', 'g'))
{%- endmacro %}
