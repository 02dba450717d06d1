-- The platform's tables: organisations, people, sessions, the audit log and the job queue.
-- SQLite twin of ../postgres/2026112101_platform.sql: keep the two in step.
-- Timestamps are RFC 3339 UTC text with microseconds (see platform::db).

-- The prefecture and the municipalities that share this installation.
create table organisations (
    id integer primary key,
    code text not null unique,          -- 全国地方公共団体コード: 6 digits, the last a check digit
    name text not null,
    name_en text not null,
    kind text not null check (kind in ('prefecture', 'municipality')),
    parent_id integer references organisations (id),
    created_at text not null
);

-- 所属 / 室課: the unit that owns procedures and employs staff.
create table sections (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    code text not null,                 -- unique within the organisation
    name text not null,
    name_en text not null,
    department text not null default '',    -- 部局
    department_en text not null default '',
    phone text not null default '',
    email text not null default '',
    unique (organisation_id, code)
);

-- 県民 and 事業者: one account for every organisation of the installation.
create table residents (
    id integer primary key,
    email text not null unique,         -- stored lower-cased
    password_hash text,                 -- argon2id PHC string; null when only an external identity signs in
    display_name text not null default '',
    locale text not null default 'ja',
    created_at text not null,
    disabled integer not null default 0
);

-- 職員: belongs to one organisation and one section.
create table staff (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    section_id integer not null references sections (id),
    email text not null unique,
    password_hash text,
    name text not null,
    roles text not null,                -- space-separated role codes (platform::accounts::Role)
    created_at text not null,
    disabled integer not null default 0
);

-- Signed-in sessions (browser cookies) and API tokens. Only a hash of the token is kept.
create table sessions (
    token_hash text primary key,
    principal text not null check (principal in ('resident', 'staff')),
    principal_id integer not null,
    kind text not null check (kind in ('browser', 'api')),
    created_at text not null,
    expires_at text not null,
    last_seen_at text not null
);
create index sessions_principal on sessions (principal, principal_id);

-- Append-only, hash-chained record of every state change and every staff view of personal data.
-- id is assigned by the writer (previous id + 1), so a deleted row breaks the chain.
create table audit_log (
    id integer primary key,
    at text not null,
    organisation_id integer,            -- null for installation-wide events
    actor_kind text not null,           -- resident, staff, system, cli
    actor_id integer,
    action text not null,               -- e.g. application.submitted
    subject_kind text not null,
    subject_id integer,
    detail text not null,               -- JSON; ids and codes, never personal data
    prev_hash text not null,
    hash text not null
);
create index audit_log_subject on audit_log (subject_kind, subject_id);

-- The head of the chain: one row, updated in the same transaction as each append.
create table audit_head (
    id integer primary key check (id = 1),
    last_id integer not null,
    hash text not null
);

-- Background jobs and the outbox: written in the same transaction as the change they follow.
create table jobs (
    id integer primary key,
    kind text not null,
    payload text not null,              -- JSON
    dedupe_key text unique,             -- one job per event, however often it is enqueued
    run_at text not null,
    attempts integer not null default 0,
    max_attempts integer not null default 10,
    locked_until text,
    last_error text,
    created_at text not null,
    done_at text,
    failed_at text
);
create index jobs_due on jobs (run_at) where done_at is null and failed_at is null;

insert into audit_head (id, last_id, hash)
values (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
