{#
  One warehouse schema per audit: every model lands in <base>_<folder schema> where <base> is
  the `audit_schema` var (audit_<branch> while a branch is audited, `published` after the
  publish), or the target's schema when the var is not given.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set base = var('audit_schema', target.schema) -%}
    {%- if custom_schema_name is none -%}
        {{ base }}
    {%- else -%}
        {{ base }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
