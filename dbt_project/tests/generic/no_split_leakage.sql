{#- Fails with every normalized text of `column_name` found in more than one split. -#}
{% test no_split_leakage(model, column_name, split_column='split') %}
select
    {{ normalize_text(column_name) }} as text_normalized,
    count(distinct {{ split_column }}) as splits
from {{ model }}
group by {{ normalize_text(column_name) }}
having count(distinct {{ split_column }}) > 1
{% endtest %}
