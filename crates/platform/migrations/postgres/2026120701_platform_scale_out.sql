-- What several nodes on one database share besides the data: counters of
-- attempts (sign-in rate limits hold across nodes) and leases (periodic work
-- done by one node at a time).
-- PostgreSQL twin of ../sqlite/2026120701_platform_scale_out.sql: keep the two in step.

-- Attempts per key (an account, a client address) in a fixed window.
create table rate_limits (
    key text primary key,
    window_start text not null,             -- when the current window began
    hits bigint not null                    -- attempts in it
);

-- 担当ノード: periodic work (publishing, purges) is done by the node holding its lease.
create table leases (
    name text primary key,                  -- the work, e.g. `maintenance`
    holder text not null,                   -- the node (a random id per process)
    until text not null                     -- the lease ends unless renewed
);
