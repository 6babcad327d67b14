-- NLG training examples: (language, intent, slots) -> the bot's response (redacted).
-- Split by a hash of the normalized response text.
with calls as (
    select * from {{ ref('int_calls__redacted') }}
    where bot_response is not null and bot_response <> ''
),

examples as (
    select distinct
        language,
        intent,
        coalesce(slots, '{}') as slots,
        bot_response as response
    from calls
)

select
    {{ dbt.hash("concat(language, '|', intent, '|', slots, '|', response)") }} as example_id,
    language,
    intent,
    slots,
    response,
    {{ assign_split('response', dbt.hash("concat(language, '|', intent, '|', slots, '|', response)")) }} as split
from examples
