{#- Deterministic train / validation / test split by a hash of the normalized text.

    Identical texts always land in the same split, so no text leaks between splits.
    var('split_by') = 'row' hashes a row key instead: a deliberately broken split that only
    exists so the leakage tests can be shown to fail. -#}

{% macro split_key(text_expr, row_key_expr) -%}
  {%- if var('split_by', 'text') == 'row' -%}
    cast({{ row_key_expr }} as {{ dbt.type_string() }})
  {%- else -%}
    {{ normalize_text(text_expr) }}
  {%- endif -%}
{%- endmacro %}

{% macro assign_split(text_expr, row_key_expr) -%}
  {%- set bucket = hash_bucket(split_key(text_expr, row_key_expr)) -%}
  {%- if var('split_by', 'text') == 'row' -%}
  case when {{ bucket }} < 50 then 'validation' else 'train' end
  {%- else -%}
  case
    when {{ bucket }} < {{ var('test_pct') }} then 'test'
    when {{ bucket }} < {{ var('test_pct') + var('validation_pct') }} then 'validation'
    else 'train'
  end
  {%- endif -%}
{%- endmacro %}

{#- train / validation only (the test split is chosen by another rule, e.g. held-out voices). -#}
{% macro assign_train_validation_split(text_expr, row_key_expr) -%}
  {%- set bucket = hash_bucket(split_key(text_expr, row_key_expr)) -%}
  {%- set validation_share = 50 if var('split_by', 'text') == 'row' else var('validation_pct') -%}
  case when {{ bucket }} < {{ validation_share }} then 'validation' else 'train' end
{%- endmacro %}

{#- Real recordings by sentence (core.splits.real_speech_split): test_real, validation, train. -#}
{% macro assign_real_speech_split(text_expr) -%}
  {%- set bucket = hash_bucket(normalize_text(text_expr)) -%}
  case
    when {{ bucket }} < {{ var('real_test_pct') }} then 'test_real'
    when {{ bucket }} < {{ var('real_test_pct') + var('real_validation_pct') }} then 'validation'
    else 'train'
  end
{%- endmacro %}
