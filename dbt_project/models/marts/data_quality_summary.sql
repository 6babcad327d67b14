-- Per source / stream / ingestion day: records loaded, records quarantined, quarantined share.
-- The grain includes the day so that one bad day cannot hide behind many good ones.
{% set day_of_path = "cast(nullif(substr(split_part(_lake_path, 'dt=', 2), 1, 10), '') as date)" %}
{%- set record_tables = [
    ('crm', 'customers', 'crm_customers'),
    ('crm', 'tickets', 'crm_tickets'),
    ('call_exports', 'calls', 'call_exports_calls'),
    ('voice_corpus', 'utterances', 'voice_corpus_utterances'),
] %}
{%- set wav_tables = [
    ('recordings', 'wav', 'recordings'),
    ('voice_corpus', 'audio', 'voice_corpus_audio'),
] %}
with loaded as (
    {%- for source_name, stream_name, table in record_tables %}
        select
            '{{ source_name }}' as source,
            '{{ stream_name }}' as stream,
            {{ day_of_path }} as dt,
            count(*) as loaded_records
        from {{ source('raw', table) }}
        group by 3
        union all
    {%- endfor %}
    {%- for source_name, stream_name, table in wav_tables %}
        select
            '{{ source_name }}' as source,
            '{{ stream_name }}' as stream,
            cast(dt as date) as dt,
            count(*) as loaded_records
        from {{ source('raw', table) }}
        group by 3
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

quarantined as (
    select
        source,
        stream,
        cast(quarantined_on as date) as dt,
        sum(rejected_records) as quarantined_records
    from {{ ref('quarantine') }}
    group by 1, 2, 3
),

joined as (
    select
        coalesce(loaded.source, quarantined.source) as source,
        coalesce(loaded.stream, quarantined.stream) as stream,
        coalesce(loaded.dt, quarantined.dt) as dt,
        coalesce(loaded.loaded_records, 0) as loaded_records,
        coalesce(quarantined.quarantined_records, 0) as quarantined_records
    from loaded
    full outer join quarantined
        on
            loaded.source = quarantined.source
            and loaded.stream = quarantined.stream
            and loaded.dt = quarantined.dt
)

select
    source,
    stream,
    dt,
    loaded_records,
    quarantined_records,
    case
        when loaded_records + quarantined_records = 0 then 0.0
        else cast(quarantined_records as double precision) / (loaded_records + quarantined_records)
    end as quarantined_share
from joined
