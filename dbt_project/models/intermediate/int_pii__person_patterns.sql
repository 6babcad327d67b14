-- One row: the regex of every person name known to the warehouse (the redaction dictionary).
-- Words of CRM full names and of the pii slot values (recipient); Russian words match with
-- their case endings ("Иван" -> Ивана, Ивану; "Смирнова" -> Смирновой), English words exactly.
-- Runs of names with initials ("Иванов И. П.", "J. Smith", "Иван Петров") become one match.
with name_values as (
    select full_name as name_value from {{ ref('stg_crm__customers') }}
    {%- for slot in var('pii_slots') %}
        union all
        select slot_{{ slot }} from {{ ref('stg_call_exports__calls') }}
        where slot_{{ slot }} is not null
    {%- endfor %}
),

words as (
    {{ split_words('name_value', 'name_values') }}
),

clean_words as (
    select distinct word
    from words
    where length(word) >= 2 and regexp_replace(word, '[A-Za-zА-Яа-яЁё-]', '', 'g') = ''
),

word_patterns as (
    select distinct
        case
            when
                regexp_replace(word, '[А-Яа-яЁё-]', '', 'g') = ''
                and length(regexp_replace(word, '[аяйьоыеиуАЯ]+$', '', 'g')) >= 3
                then regexp_replace(word, '[аяйьоыеиуАЯ]+$', '', 'g') || '[а-яё]{0,3}'
            else word
        end as word_pattern
    from clean_words
),

alternation as (
    select string_agg(word_pattern, '|' order by length(word_pattern) desc, word_pattern) as name_alternation
    from word_patterns
)

select
    case
        when name_alternation is null then ''
        else
            '(^|[^A-Za-zА-Яа-яЁё])((?:[A-ZА-ЯЁ]\. ?){0,2}(?:' || name_alternation || ')(?:[ ]+(?:(?:'
            || name_alternation || ')|[A-ZА-ЯЁ]\.))*)([^A-Za-zА-Яа-яЁё]|$)'
    end as person_pattern
from alternation
