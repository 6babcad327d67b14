{#- Source freshness of a raw table: when the load step last loaded a new object into it.
    The load step records every loaded object in `_loads` (same schema) with `table_name` and
    `loaded_at` (set by the warehouse at load time); null when nothing was loaded yet. -#}
{% macro raw_table_loaded_at(relation) -%}
select max(loaded_at) as max_loaded_at
from {{ relation.incorporate(path={'identifier': '_loads'}) }}
where table_name = '{{ relation.identifier }}'
{%- endmacro %}
