-- Per experiment, arm and user: the unit of the A/B analysis (users, not turns, are randomized).
-- Outcome events belong to every arm that served a turn of their session.
with events as (
    select * from {{ ref('stg_experiment_events') }}
),

turns as (
    select * from events
    where kind = 'turn' and experiment is not null
),

turn_metrics as (
    select
        experiment,
        arm,
        user_id,
        experiment || '/' || coalesce(arm, '') || '/' || user_id as user_metrics_id,
        count(*) as turns,
        sum(case when error is not null then 1 else 0 end) as errors,
        cast(avg(case when error is not null then 1.0 else 0.0 end) as double precision) as error_rate,
        cast(avg(case when handoff then 1.0 else 0.0 end) as double precision) as handoff_rate,
        cast(
            avg(case when transcript_empty then 1.0 else 0.0 end) as double precision
        ) as empty_transcript_rate,
        sum(case when fallback then 1 else 0 end) as fallback_turns,
        cast(avg(confidence) as double precision) as mean_confidence,
        cast(percentile_cont(0.5) within group (order by latency_ms) as double precision) as p50_latency_ms,
        cast(percentile_cont(0.99) within group (order by latency_ms) as double precision) as p99_latency_ms
    from turns
    group by experiment, arm, user_id
),

session_arms as (
    select distinct
        experiment,
        arm,
        user_id,
        session_id
    from turns
),

outcomes as (
    select
        session_arms.experiment,
        session_arms.arm,
        session_arms.user_id,
        count(*) as outcomes,
        min(case when events.resolved then 1 else 0 end) as resolved
    from session_arms
    inner join events
        on
            session_arms.session_id = events.session_id
            and session_arms.user_id = events.user_id
            and events.kind = 'outcome'
    group by session_arms.experiment, session_arms.arm, session_arms.user_id
),

arms_per_user as (
    select
        experiment,
        user_id,
        count(distinct arm) as arms_of_user
    from turns
    group by experiment, user_id
)

select
    turn_metrics.user_metrics_id,
    turn_metrics.experiment,
    turn_metrics.arm,
    turn_metrics.user_id,
    turn_metrics.turns,
    turn_metrics.errors,
    turn_metrics.error_rate,
    turn_metrics.handoff_rate,
    turn_metrics.empty_transcript_rate,
    turn_metrics.fallback_turns,
    turn_metrics.mean_confidence,
    turn_metrics.p50_latency_ms,
    turn_metrics.p99_latency_ms,
    coalesce(outcomes.outcomes, 0) as outcomes,
    outcomes.resolved,
    arms_per_user.arms_of_user
from turn_metrics
left join outcomes
    on
        turn_metrics.experiment = outcomes.experiment
        and turn_metrics.arm = outcomes.arm
        and turn_metrics.user_id = outcomes.user_id
inner join arms_per_user
    on
        turn_metrics.experiment = arms_per_user.experiment
        and turn_metrics.user_id = arms_per_user.user_id
