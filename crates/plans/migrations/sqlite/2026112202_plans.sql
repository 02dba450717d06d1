-- Plans, KPIs (PDCA) and the procedure inventory.
-- SQLite twin of ../postgres/2026112202_plans.sql: keep the two in step.
-- Fiscal years are stored as the Western year in which they start (令和3年度 = 2021).

create table plans (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    code text not null,
    title text not null,
    title_en text not null default '',
    description text not null default '',
    period_start integer not null,
    period_end integer not null,
    source text not null default '',
    grade_rules text not null default '{"a":0.95,"b":0.8,"c":0.6}',  -- average achievement thresholds for A, B, C
    notes text not null default '[]',                                 -- JSON: discrepancies in the source
    created_at text not null,
    updated_at text not null,
    unique (organisation_id, code)
);

create table visions (
    id integer primary key,
    plan_id integer not null references plans (id),
    code text not null,
    number text not null default '',
    title text not null,
    title_en text not null default '',
    description text not null default '',
    position integer not null,
    unique (plan_id, code)
);

-- リーディングプロジェクト / 施策.
create table projects (
    id integer primary key,
    plan_id integer not null references plans (id),
    vision_id integer references visions (id),
    code text not null,
    number text not null default '',
    title text not null,
    title_en text not null default '',
    lead_department text not null default '',
    desired_state text not null default '',
    policy_area text not null default '',
    position integer not null,
    unique (plan_id, code)
);

create table measures (
    id integer primary key,
    project_id integer not null references projects (id),
    code text not null,
    number text not null default '',
    title text not null,
    title_en text not null default '',
    description text not null default '',
    departments text not null default '',   -- 担当部局, separated by '、'
    position integer not null,
    unique (project_id, code)
);

-- 工程: a measure's plan for one fiscal year, with the year's check and act notes.
create table roadmap_entries (
    id integer primary key,
    measure_id integer not null references measures (id),
    fiscal_year integer not null,
    text text not null,
    status text not null check (status in ('planned', 'in_progress', 'done', 'delayed')),
    check_note text not null default '',    -- 施策推進にあたっての留意点
    act_note text not null default '',      -- 左の対応方針
    unique (measure_id, fiscal_year)
);

create table kpis (
    id integer primary key,
    plan_id integer not null references plans (id),
    project_id integer references projects (id),
    code text not null,
    name text not null,
    name_en text not null default '',
    unit text not null default '',
    cumulative integer not null default 0,
    direction text not null check (direction in ('higher', 'lower')),
    is_new integer not null default 0,      -- 【新】
    baseline_fy integer,
    baseline_value double precision,
    baseline_text text not null default '',
    series text not null default '[]',       -- JSON list of series names
    bound_metric text,                       -- plans::metrics::Metric code
    policy_area text not null default '',
    department text not null default '',
    note text not null default '',
    source text not null default '',
    position integer not null,
    unique (plan_id, code)
);

-- A target per fiscal year (and series): a number, a range, a bound, or words.
create table kpi_targets (
    id integer primary key,
    kpi_id integer not null references kpis (id),
    series text not null default '',
    fiscal_year integer not null,
    kind text not null check (kind in ('value', 'range', 'at_least', 'at_most', 'text')),
    value double precision,
    value_high double precision,
    text text not null default '',
    updated_at text not null,
    unique (kpi_id, series, fiscal_year)
);

-- Every revision of a target, with its previous value and the reason.
create table kpi_target_revisions (
    id integer primary key,
    target_id integer not null references kpi_targets (id),
    previous_kind text not null,
    previous_value double precision,
    previous_value_high double precision,
    previous_text text not null default '',
    reason text not null,
    revised_at text not null,
    revised_by integer references staff (id)
);

create table kpi_actuals (
    id integer primary key,
    kpi_id integer not null references kpis (id),
    series text not null default '',
    fiscal_year integer not null,
    value double precision,
    text text not null default '',
    source text not null default '',
    recorded_on text,                        -- YYYY-MM-DD
    updated_at text not null,
    updated_by integer references staff (id),
    unique (kpi_id, series, fiscal_year)
);

-- 進展度: the grade decided for a policy area and year, overriding the computed one.
create table progress_grades (
    id integer primary key,
    plan_id integer not null references plans (id),
    policy_area text not null,
    fiscal_year integer not null,
    grade text not null check (grade in ('A', 'B', 'C', 'D')),
    reason text not null,
    decided_at text not null,
    decided_by integer references staff (id),
    unique (plan_id, policy_area, fiscal_year)
);

-- 行政手続等の棚卸調査: every procedure of an organisation, online or not.
create table inventory_items (
    id integer primary key,
    organisation_id integer not null references organisations (id),
    item_id text not null,                   -- 手続ID
    name text not null,                      -- 手続名
    legal_basis text not null default '',    -- 根拠法令
    kind text not null default '',           -- 手続類型
    actor text not null default '',          -- 手続主体
    recipient text not null default '',      -- 手続の受け手
    online_status integer not null check (online_status between 1 and 4),  -- 1 実施済 2 未実施 3 適用除外 4 その他
    plan_text text not null default '',      -- 実施予定
    concerns text not null default '',       -- 懸念点
    timing text not null default '',         -- 実施時期
    identity_method text not null default '',-- 本人確認手法
    fee text not null default '',            -- 手数料
    payment_method text not null default '', -- 納付方法
    total_count integer,                     -- 総手続件数
    online_count integer,                    -- オンライン手続件数
    offline_count integer,                   -- 非オンライン手続件数
    attachments text not null default '',    -- 添付書類
    life_events text not null default '',
    basis text not null default '',          -- local (県独自) / statutory (法定)
    annual_volume integer,                   -- 年間受付件数
    priority integer not null default 0,     -- 重点手続
    planned_fy integer,                      -- デジタル化予定年度
    procedure_code text not null default '', -- the madoguchi procedure it is (online once published)
    updated_at text not null,
    unique (organisation_id, item_id)
);
create index inventory_items_procedure on inventory_items (organisation_id, procedure_code);
