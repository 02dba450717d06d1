-- Online procedures: the catalogue, form versions, applications and their history.
-- SQLite twin of ../postgres/2026112102_procedures.sql: keep the two in step.

-- 手続: every procedure of an organisation, online or not.
create table procedures (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    section_id integer not null references sections (id),
    code text not null,                     -- unique within the organisation (e.g. the inventory's 手続ID)
    name text not null,
    name_en text not null default '',
    summary text not null default '',
    summary_en text not null default '',
    description text not null default '',
    description_en text not null default '',
    category text not null,                 -- procedures::catalogue::CATEGORIES
    basis text not null default 'local' check (basis in ('local', 'statutory')),  -- 県独自 / 法定
    audience text not null default 'resident' check (audience in ('resident', 'business', 'both')),
    life_events text not null default '',   -- space-separated life event codes
    attachments text not null default '[]', -- JSON: [{"name", "name_en", "note", "note_en"}]
    fee_yen integer,                        -- null: no fee
    fee_note text not null default '',
    online integer not null default 0,      -- accepts applications here
    annual_volume integer,                  -- 年間受付件数
    priority integer not null default 0,    -- 重点手続
    keywords text not null default '',      -- extra words for search (readings, former names)
    status text not null default 'draft' check (status in ('draft', 'published', 'archived')),
    current_form_id integer,                -- the form_versions row new applications use
    created_at text not null,
    updated_at text not null,
    unique (organisation_id, code)
);
create index procedures_status on procedures (status, organisation_id);

-- Every imported version of a procedure's form; applications keep the version they answered.
create table form_versions (
    id integer primary key,
    procedure_id integer not null references procedures (id),
    organisation_id integer not null references organisations (id),
    version integer not null,
    source text not null,                   -- the definition as the admin wrote it (TOML or JSON)
    definition text not null,               -- the checked definition, JSON
    created_at text not null,
    created_by integer references staff (id),
    unique (procedure_id, version)
);

-- 申請: a resident's application, from draft to decision.
create table applications (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    section_id integer not null references sections (id),
    procedure_id integer not null references procedures (id),
    form_version_id integer not null references form_versions (id),
    resident_id integer not null references residents (id),
    status text not null check (status in ('draft', 'submitted', 'in_review', 'returned', 'completed', 'rejected', 'withdrawn')),
    answers text not null default '{}',     -- JSON, normalised (see procedures::form::answers)
    pending text not null default '{}',     -- JSON: what was typed into fields that did not validate yet (drafts)
    receipt_number text,                    -- unique per organisation; per fiscal year by construction
    fiscal_year integer,                    -- of submission
    idempotency_key text,                   -- the client's Idempotency-Key, per resident
    request_hash text,                      -- SHA-256 of the request that used the key
    version integer not null default 1,     -- optimistic locking: every update bumps it
    created_at text not null,
    updated_at text not null,
    submitted_at text,
    unique (organisation_id, receipt_number),
    unique (resident_id, idempotency_key)
);
create index applications_resident on applications (resident_id, updated_at);
create index applications_inbox on applications (organisation_id, section_id, status, submitted_at);
create index applications_procedure on applications (procedure_id, submitted_at);

-- What happened to an application, as the resident and staff see it.
create table application_events (
    id integer primary key,
    application_id integer not null references applications (id),
    organisation_id integer not null references organisations (id),
    at text not null,
    actor_kind text not null,               -- resident, staff, system
    actor_id integer,
    kind text not null,                     -- created, submitted, withdrawn, …
    status_from text,
    status_to text,
    comment text not null default '',
    answers text                            -- JSON snapshot of the answers at this event, where it matters
);
create index application_events_application on application_events (application_id, id);

-- 添付書類: files attached to an application, typed by their content.
create table attachments (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    application_id integer not null references applications (id),
    question_id text not null,
    filename text not null,
    kind text not null,                     -- platform::files::FileKind code
    size integer not null,
    storage_key text not null,              -- SHA-256 of the content (platform::files)
    created_at text not null
);
create index attachments_application on attachments (application_id);

-- 受付番号: the last number given per organisation and fiscal year.
create table receipt_counters (
    organisation_id integer not null references organisations (id),
    fiscal_year integer not null,
    last_number integer not null,
    primary key (organisation_id, fiscal_year)
);

-- Bumped whenever the published catalogue changes, so every node rebuilds its search index.
create table catalogue_generation (
    id integer primary key check (id = 1),
    generation integer not null
);
insert into catalogue_generation (id, generation) values (1, 1);
