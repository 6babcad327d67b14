{#- Fails with every taxonomy intent x language with fewer than `min_count` examples in `split`
    (default var('min_examples_per_intent_language', 2) training examples). -#}
{% test min_examples_per_intent_language(model, intent_column='intent', language_column='language',
                                         split='train', split_column='split', min_count=none) %}
{%- set minimum = min_count if min_count is not none else var('min_examples_per_intent_language', 2) %}
with expected as (
    select intents.intent, languages.language
    from {{ ref('taxonomy_intents') }} as intents
    cross join (
        {%- for language in var('languages') %}
        {% if not loop.first %}union all {% endif %}select '{{ language }}' as language
        {%- endfor %}
    ) as languages
),

counts as (
    select {{ intent_column }} as intent, {{ language_column }} as language, count(*) as examples
    from {{ model }}
    where {{ split_column }} = '{{ split }}'
    group by {{ intent_column }}, {{ language_column }}
)

select expected.intent, expected.language, coalesce(counts.examples, 0) as examples
from expected
left join counts
    on counts.intent = expected.intent and counts.language = expected.language
where coalesce(counts.examples, 0) < {{ minimum }}
{% endtest %}
