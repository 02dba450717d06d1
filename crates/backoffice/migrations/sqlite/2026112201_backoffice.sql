-- The back office: approval routes and cases (電子決裁), delegations, read marks.
-- SQLite twin of ../postgres/2026112201_backoffice.sql: keep the two in step.

-- 決裁ルート: the steps a procedure's decisions go through. Without a row, the
-- default route applies (起案 by section staff, then 決裁 by an approver).
create table approval_routes (
    procedure_id integer primary key references procedures (id),
    organisation_id integer not null references organisations (id),
    steps text not null,                    -- JSON: [{"name", "name_en", "role", "simple"}]
    updated_at text not null,
    updated_by integer references staff (id)
);

-- 決裁: one proposed decision on an application, going through its route.
create table approval_cases (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    section_id integer not null references sections (id),
    application_id integer not null references applications (id),
    outcome text not null check (outcome in ('grant', 'refuse')),  -- 許可・交付 / 不許可・却下
    reason text not null default '',        -- the decision's reasons, sent to the resident
    steps text not null,                    -- the route as it was when drafted (JSON)
    current_step integer not null,          -- the step waiting for action
    status text not null check (status in ('pending', 'approved', 'rejected', 'cancelled')),
    drafted_by integer not null references staff (id),
    created_at text not null,
    updated_at text not null,
    decided_at text
);
create index approval_cases_application on approval_cases (application_id);
create index approval_cases_pending on approval_cases (organisation_id, section_id, status);

-- Every action on a case: who, for whom (delegation), what, with which comment.
create table approval_actions (
    id integer primary key,
    case_id integer not null references approval_cases (id),
    organisation_id integer not null references organisations (id),
    step integer not null,
    step_name text not null,
    actor_id integer not null references staff (id),
    on_behalf_of integer references staff (id),
    action text not null check (action in ('drafted', 'redrafted', 'approved', 'sent_back', 'rejected', 'cancelled')),
    comment text not null default '',
    at text not null
);
create index approval_actions_case on approval_actions (case_id, id);

-- 代決: someone acts for an approver while they are away.
create table delegations (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    from_staff_id integer not null references staff (id),
    to_staff_id integer not null references staff (id),
    starts_at text not null,
    ends_at text not null,
    created_at text not null,
    revoked_at text
);
create index delegations_to on delegations (to_staff_id, ends_at);

-- What each staff member has opened: the inbox's unread marks.
create table staff_reads (
    staff_id integer not null references staff (id),
    application_id integer not null references applications (id),
    version_seen integer not null,
    read_at text not null,
    primary key (staff_id, application_id)
);

-- The inbox pages newest first by (sent time, id) within a section.
create index applications_section_received on applications (organisation_id, section_id, submitted_at, id);
