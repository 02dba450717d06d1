-- The FAQ chatbot: entries with their versions, the question log, cached vectors.
-- SQLite twin of ../postgres/2026112301_faq.sql: keep the two in step.

-- よくある質問. `external_id` is the id the entry was imported with (or given
-- on its page); it is what the API returns as `id`.
create table faq_entries (
    id integer primary key,
    external_id text not null unique,
    organisation_id integer references organisations (id),  -- null: the whole installation
    section_code text not null default '',
    area text not null,                                       -- 業務分野, e.g. 自動車税
    question text not null,
    answer text not null,
    question_en text not null default '',
    answer_en text not null default '',
    url text not null default '',
    procedure_code text not null default '',
    keywords text not null default '',
    status text not null default 'published' check (status in ('published', 'draft', 'retired')),
    valid_from text not null default '',                      -- ISO date or empty
    valid_until text not null default '',
    version integer not null default 1,
    created_at text not null,
    updated_at text not null
);
create index faq_entries_organisation on faq_entries (organisation_id);

-- Every version of an entry, as JSON, with who changed it.
create table faq_entry_versions (
    entry_id integer not null references faq_entries (id),
    version integer not null,
    snapshot text not null,
    changed_by text not null,
    changed_at text not null,
    primary key (entry_id, version)
);

-- What residents asked, with personal data masked before it is stored.
create table faq_questions (
    id integer primary key,
    asked_at text not null,
    organisation_id integer references organisations (id),    -- where it was asked, else the top entry's
    question text not null,                                   -- masked
    language text not null,
    mode text not null,
    confident integer not null,
    top_score real,
    area text not null default '',                            -- the top entry's area
    shown text not null default '[]',                         -- JSON: external ids shown, best first
    feedback text not null default '' check (feedback in ('', 'helped', 'not_helped')),
    feedback_entry text not null default '',
    resolved_entry_id integer references faq_entries (id)
);
create index faq_questions_organisation on faq_questions (organisation_id, asked_at);

-- Vectors of entries' texts, by model and text hash (so an edit re-embeds).
create table faq_vectors (
    model text not null,
    text_hash text not null,
    vector text not null,                                     -- base64 of little-endian f32
    primary key (model, text_hash)
);

-- Bumped on every change to the entries, so that every node rebuilds its index.
create table faq_state (
    id integer primary key check (id = 1),
    generation integer not null
);
insert into faq_state (id, generation) values (1, 0);
