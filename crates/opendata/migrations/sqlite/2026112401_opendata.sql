-- Open data: the CKAN-compatible catalogue (organizations, groups, datasets,
-- resources), API tokens and the generation counter every node watches.
-- SQLite twin of ../postgres/2026112401_opendata.sql: keep the two in step.
-- CKAN's timestamps (metadata_created, …) are naive ISO-8601 UTC text with
-- microseconds (2026-11-22T03:46:26.123456), so they sort as text.

-- A publisher (CKAN "organization"), always under one local government of the installation.
create table od_organizations (
    id text primary key,                       -- UUID
    name text not null unique,                 -- CKAN name: [a-z0-9_-]{2,100}
    title text not null,
    description text not null default '',
    image_url text not null default '',
    organisation_id integer not null references organisations (id),
    state text not null default 'active',
    created_at text not null
);
create index od_organizations_organisation on od_organizations (organisation_id);

-- A CKAN group (a theme across publishers).
create table od_groups (
    id text primary key,
    name text not null unique,
    title text not null,
    description text not null default '',
    image_url text not null default '',
    state text not null default 'active',
    created_at text not null
);

-- A dataset; tags, group ids and extras are JSON arrays (one row per dataset keeps loading 10,000 quick).
create table od_datasets (
    id text primary key,
    name text not null unique,
    title text not null default '',
    notes text not null default '',
    owner_org text not null references od_organizations (id),
    license_id text not null default '',
    author text not null default '',
    author_email text not null default '',
    maintainer text not null default '',
    maintainer_email text not null default '',
    url text not null default '',
    version text not null default '',
    private integer not null default 0,
    state text not null default 'active',      -- active | deleted | draft
    tags text not null default '[]',           -- ["公園", …]
    group_ids text not null default '[]',      -- ["<group id>", …]
    extras text not null default '[]',         -- [["key", "value"], …]
    creator_user_id text not null default '', -- CKAN's user id of who created it (derived from the token or staff member)
    publisher_key text unique,                 -- set on datasets the platform publishes itself
    seq integer not null,                      -- od_state.generation of the last change
    created_at text not null,
    modified_at text not null
);
create index od_datasets_seq on od_datasets (seq);
create index od_datasets_owner on od_datasets (owner_org);

-- A resource: an uploaded file (file_key in the file store) or a link.
create table od_resources (
    id text primary key,
    dataset_id text not null references od_datasets (id),
    position integer not null,
    name text not null default '',
    description text not null default '',
    format text not null default '',
    mimetype text not null default '',
    url text not null default '',
    url_type text not null default '',         -- 'upload' or ''
    file_key text,
    size integer,
    hash text not null default '',
    extras text not null default '{}',         -- {"key": "value", …}: the resource's other keys
    created_at text not null,
    modified_at text not null
);
create index od_resources_dataset on od_resources (dataset_id, position);

-- API tokens: only the SHA-256 of the token is kept.
create table od_tokens (
    id integer primary key autoincrement,
    organisation_id integer not null references organisations (id),
    name text not null,
    token_hash text not null unique,
    created_by text not null,
    created_at text not null,
    last_used_at text,
    revoked_at text
);

-- 紙の申請件数: applications a section received on paper, per procedure and month (as it recorded them).
create table od_paper_counts (
    organisation_id integer not null references organisations (id),
    procedure_code text not null,
    month text not null,                       -- YYYY-MM
    count integer not null,
    recorded_by text not null,
    recorded_at text not null,
    primary key (organisation_id, procedure_code, month)
);

create table od_state (
    id integer primary key check (id = 1),
    generation integer not null
);
insert into od_state (id, generation) values (1, 0);
