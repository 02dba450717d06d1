//! The query language of `GET /v2/entities`: the `id`, `idPattern`,
//! `type` and `typePattern` filters and the Simple Query Language of `q`
//! and `mq` (`;`-separated statements such as `temperature>20`,
//! `name~=^津`, `address.addressLocality=='津市'`).

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::Value;

use super::geo::GeoQuery;
use super::pattern;
use super::request::Params;
use super::response::ApiError;
use crate::entities::Entity;

pub(super) struct Filter {
    ids: Option<HashSet<String>>,
    id_pattern: Option<pattern::Regex>,
    types: Option<HashSet<String>>,
    type_pattern: Option<pattern::Regex>,
    q: Vec<Statement>,
    mq: Vec<Statement>,
    pub(super) geo: Option<GeoQuery>,
}

impl Filter {
    pub(super) fn parse(params: &Params) -> Result<Filter, ApiError> {
        if params.get("id").is_some() && params.get("idPattern").is_some() {
            return Err(ApiError::bad_request(
                "Incompatible parameters: id, IdPattern",
            ));
        }
        if params.get("type").is_some() && params.get("typePattern").is_some() {
            return Err(ApiError::bad_request(
                "Incompatible parameters: type, typePattern",
            ));
        }
        let regex = |key: &str| {
            params
                .get(key)
                .map(|p| {
                    pattern::Regex::new(p)
                        .map_err(|e| ApiError::bad_request(format!("Invalid regex for {key}: {e}")))
                })
                .transpose()
        };
        Ok(Filter {
            ids: params.list("id").map(|l| l.into_iter().collect()),
            id_pattern: regex("idPattern")?,
            types: params.list("type").map(|l| l.into_iter().collect()),
            type_pattern: regex("typePattern")?,
            q: params
                .get("q")
                .map(parse_q)
                .transpose()?
                .unwrap_or_default(),
            mq: params
                .get("mq")
                .map(parse_q)
                .transpose()?
                .unwrap_or_default(),
            geo: GeoQuery::parse(params)?,
        })
    }

    pub(super) fn matches(&self, entity: &Entity) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&entity.id))
            && self
                .id_pattern
                .as_ref()
                .is_none_or(|p| p.is_match(&entity.id))
            && self
                .types
                .as_ref()
                .is_none_or(|t| t.contains(&entity.entity_type))
            && self
                .type_pattern
                .as_ref()
                .is_none_or(|p| p.is_match(&entity.entity_type))
            && self.q.iter().all(|s| s.matches(entity))
            // Entities have no metadata: only negated statements hold.
            && self.mq.iter().all(|s| matches!(s, Statement::NotExists(_)))
            && self.geo.as_ref().is_none_or(|g| g.matches(entity))
    }
}

/// A value on the right of a q statement.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Literal {
    text: String,
    /// In single quotes: always a string.
    quoted: bool,
}

impl Literal {
    pub(super) fn number(&self) -> Option<f64> {
        if self.quoted {
            return None;
        }
        self.text.parse::<f64>().ok().filter(|n| n.is_finite())
    }

    pub(super) fn equals(&self, attr_type: &str, value: &Value) -> bool {
        if let Some(Ordering::Equal) = self.compare(attr_type, value) {
            return true;
        }
        match value {
            Value::String(s) => *s == self.text,
            Value::Bool(b) => !self.quoted && self.text == b.to_string(),
            Value::Null => !self.quoted && self.text == "null",
            _ => false,
        }
    }

    /// The order of `value` relative to this literal, when comparable:
    /// numbers numerically, dates (of `DateTime` attributes) in time,
    /// strings as strings.
    pub(super) fn compare(&self, attr_type: &str, value: &Value) -> Option<Ordering> {
        match value {
            Value::Number(n) => n.as_f64()?.partial_cmp(&self.number()?),
            Value::String(s) => {
                if attr_type == "DateTime"
                    && let (Some(a), Some(b)) = (parse_date(s), parse_date(&self.text))
                {
                    return Some(a.cmp(&b));
                }
                if self.number().is_some() && !self.quoted {
                    // A number literal is compared with numbers only.
                    return None;
                }
                Some(s.as_str().cmp(self.text.as_str()))
            }
            _ => None,
        }
    }
}

pub(super) fn parse_date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, format) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Match,
}

#[derive(Debug)]
pub(super) enum Rhs {
    List(Vec<Literal>),
    Range(Literal, Literal),
    Pattern(pattern::Regex),
}

#[derive(Debug)]
pub(super) enum Statement {
    Exists(Vec<String>),
    NotExists(Vec<String>),
    Compare { path: Vec<String>, op: Op, rhs: Rhs },
}

impl Statement {
    pub(super) fn matches(&self, entity: &Entity) -> bool {
        match self {
            Statement::Exists(path) => lookup(entity, path).is_some(),
            Statement::NotExists(path) => lookup(entity, path).is_none(),
            Statement::Compare { path, op, rhs } => {
                let Some((attr_type, value)) = lookup(entity, path) else {
                    return false;
                };
                match (op, rhs) {
                    (Op::Eq, Rhs::List(list)) => list.iter().any(|l| l.equals(attr_type, value)),
                    (Op::Ne, Rhs::List(list)) => !list.iter().any(|l| l.equals(attr_type, value)),
                    (Op::Eq | Op::Ne, Rhs::Range(lo, hi)) => {
                        let inside = matches!(
                            lo.compare(attr_type, value),
                            Some(Ordering::Greater | Ordering::Equal)
                        ) && matches!(
                            hi.compare(attr_type, value),
                            Some(Ordering::Less | Ordering::Equal)
                        );
                        inside == (*op == Op::Eq)
                    }
                    (Op::Match, Rhs::Pattern(regex)) => {
                        value.as_str().is_some_and(|s| regex.is_match(s))
                    }
                    (_, Rhs::List(list)) => {
                        let Some(ordering) = list.first().and_then(|l| l.compare(attr_type, value))
                        else {
                            return false;
                        };
                        match op {
                            Op::Gt => ordering == Ordering::Greater,
                            Op::Ge => ordering != Ordering::Less,
                            Op::Lt => ordering == Ordering::Less,
                            Op::Le => ordering != Ordering::Greater,
                            _ => false,
                        }
                    }
                    _ => false,
                }
            }
        }
    }
}

/// The attribute (and the part of its value) a q path names:
/// `temperature`, `address.addressLocality`.
pub(super) fn lookup<'a>(entity: &'a Entity, path: &[String]) -> Option<(&'a str, &'a Value)> {
    let (name, rest) = path.split_first()?;
    let (attr_type, mut value) = entity.attr(name)?;
    for key in rest {
        value = value.get(key)?;
    }
    Some((if rest.is_empty() { attr_type } else { "" }, value))
}

/// Splits on `separator` outside single quotes; `None` for an unclosed
/// quote.
pub(super) fn split_outside_quotes(s: &str, separator: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '\'' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(s.get(start..i).unwrap_or(""));
            start = i + c.len_utf8();
        }
    }
    if quoted {
        return None;
    }
    parts.push(s.get(start..).unwrap_or(""));
    Some(parts)
}

/// The byte index of the first `needle` outside single quotes.
pub(super) fn find_outside_quotes(s: &str, needle: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted && s.get(i..).is_some_and(|rest| rest.starts_with(needle)) {
            return Some(i);
        }
    }
    None
}

pub(super) fn literal(token: &str) -> Literal {
    let token = token.trim();
    match token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Some(inner) if token.len() >= 2 => Literal {
            text: inner.to_string(),
            quoted: true,
        },
        _ => Literal {
            text: token.to_string(),
            quoted: false,
        },
    }
}

pub(super) const MAX_Q_STATEMENTS: usize = 100;

/// Parses the Simple Query Language: `;`-separated statements.
pub(super) fn parse_q(q: &str) -> Result<Vec<Statement>, ApiError> {
    let statements = split_outside_quotes(q, ';')
        .ok_or_else(|| ApiError::bad_request("unclosed quote in q-item"))?;
    if statements.len() > MAX_Q_STATEMENTS {
        return Err(ApiError::bad_request("too many q-items"));
    }
    let mut parsed = Vec::new();
    for statement in statements {
        let statement = statement.trim();
        if statement.is_empty() {
            continue;
        }
        parsed.push(parse_statement(statement).map_err(ApiError::bad_request)?);
    }
    Ok(parsed)
}

pub(super) fn attr_path(s: &str) -> Result<Vec<String>, String> {
    let s = s.trim();
    let s = s
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(s);
    if s.is_empty() {
        return Err("empty left-hand-side in q-item".to_string());
    }
    if s.chars().any(|c| "<>\"'=;()".contains(c)) {
        return Err("invalid character found in URI param /q/".to_string());
    }
    let path: Vec<String> = s.split('.').map(|p| p.trim().to_string()).collect();
    if path.iter().any(String::is_empty) {
        return Err(format!("empty attribute name in /{s}/"));
    }
    Ok(path)
}

pub(super) fn parse_statement(statement: &str) -> Result<Statement, String> {
    // As Orion: the first operator of this list found (outside quotes)
    // splits the statement, so `a<b>==3` has the left-hand side `a<b>`.
    const OPERATORS: [(&str, Op); 7] = [
        ("==", Op::Eq),
        ("~=", Op::Match),
        ("!=", Op::Ne),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let found = OPERATORS.iter().find_map(|(symbol, op)| {
        find_outside_quotes(statement, symbol).map(|at| (at, symbol.len(), *op))
    });
    let Some((at, len, op)) = found else {
        return Ok(match statement.strip_prefix('!') {
            Some(rest) => Statement::NotExists(attr_path(rest)?),
            None => Statement::Exists(attr_path(statement)?),
        });
    };
    let (left, rest) = statement.split_at_checked(at).unwrap_or((statement, ""));
    let right = rest.get(len..).unwrap_or("").trim();
    let path = attr_path(left)?;
    if right.is_empty() {
        return Err("empty right-hand-side in q-item".to_string());
    }
    let rhs = if op == Op::Match {
        let text = literal(right).text;
        Rhs::Pattern(pattern::Regex::new(&text)?)
    } else {
        let items = split_outside_quotes(right, ',').ok_or("unclosed quote")?;
        if items.len() == 1
            && items.first().is_some_and(|i| !literal(i).quoted)
            && right.contains("..")
        {
            let (lo, hi) = right.split_once("..").unwrap_or((right, ""));
            if lo.trim().is_empty() || hi.trim().is_empty() {
                return Err(format!("bad range in /{statement}/"));
            }
            Rhs::Range(literal(lo), literal(hi))
        } else {
            let list: Vec<Literal> = items.into_iter().map(literal).collect();
            if list.iter().any(|l| l.text.is_empty() && !l.quoted) {
                return Err(format!("empty item in /{statement}/"));
            }
            if list.len() > 1 && !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!(
                    "a list is only allowed with == and != in /{statement}/"
                ));
            }
            Rhs::List(list)
        }
    };
    if matches!(rhs, Rhs::Range(..)) && !matches!(op, Op::Eq | Op::Ne) {
        return Err(format!(
            "a range is only allowed with == and != in /{statement}/"
        ));
    }
    Ok(Statement::Compare { path, op, rhs })
}
