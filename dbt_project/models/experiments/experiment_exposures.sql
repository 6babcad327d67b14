-- One row per experiment, arm and user: when the arm first and last served the user, how much.
with turns as (
    select
        experiment,
        arm,
        user_id,
        session_id,
        occurred_at
    from {{ ref('stg_experiment_events') }}
    where kind = 'turn' and experiment is not null
),

exposures as (
    select
        experiment,
        arm,
        user_id,
        min(occurred_at) as first_exposed_at,
        max(occurred_at) as last_exposed_at,
        count(distinct session_id) as sessions,
        count(*) as turns
    from turns
    group by experiment, arm, user_id
)

select
    experiment || '/' || coalesce(arm, '') || '/' || user_id as exposure_id,
    experiment,
    arm,
    user_id,
    first_exposed_at,
    last_exposed_at,
    sessions,
    turns
from exposures
