{#- Luhn check of a text holding a card number (spaces / dashes allowed), as plain SQL:
    the reversed digit string is unrolled position by position (cards have at most 19 digits),
    so the same expression runs on every adapter. -#}
{% macro luhn_valid(expr) -%}
  {%- set digits = "regexp_replace(" ~ expr ~ ", '[^0-9]', '', 'g')" -%}
  {%- set rev = "reverse(" ~ digits ~ ")" -%}
  (
    length({{ digits }}) between 13 and 19
    and mod(
      {%- for i in range(1, 20) %}
      {%- set d = "cast(substr(" ~ rev ~ ", " ~ i ~ ", 1) as integer)" %}
      {% if not loop.first %}+ {% endif -%}
      case when length({{ digits }}) >= {{ i }} then
        {%- if i % 2 == 0 %} (case when {{ d }} > 4 then {{ d }} * 2 - 9 else {{ d }} * 2 end)
        {%- else %} {{ d }}
        {%- endif %}
      else 0 end
      {%- endfor %}
    , 10) = 0
  )
{%- endmacro %}
