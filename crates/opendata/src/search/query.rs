//! A query compiled against an index ([`Node`]): evaluation on one entry,
//! cost-ordering, and the glob and range predicates.

use std::borrow::Borrow;
use std::ops::Bound;

use chrono::{DateTime, Utc};

use super::entry::Entry;
use super::fields::{DateField, IntField, InternField, StrField, TextField};
use super::text::SEP;

#[derive(Debug, Clone)]
pub(super) enum IdSet {
    One(u32),
    Mask(Vec<bool>),
}

impl IdSet {
    pub(super) fn contains(&self, id: u32) -> bool {
        match self {
            IdSet::One(x) => *x == id,
            IdSet::Mask(m) => m.get(id as usize).copied().unwrap_or(false),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum StrPred {
    Eq(String),
    /// Anchored glob: literal segments separated by `*`.
    Glob(Vec<String>),
    Range(Bound<String>, Bound<String>),
    Exists,
}

impl StrPred {
    pub(super) fn test(&self, v: &str) -> bool {
        match self {
            StrPred::Eq(s) => v == s,
            StrPred::Glob(segs) => glob_anchored(v, segs),
            StrPred::Range(lo, hi) => in_bounds::<str, String>(v, lo, hi),
            StrPred::Exists => true,
        }
    }
}

/// A query compiled against an index.
#[derive(Debug, Clone)]
pub(super) enum Node {
    All,
    Nothing,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Normalised `term` is a substring of the field's normalised text.
    Text {
        field: TextField,
        term: String,
    },
    /// Unanchored glob over each value of the field.
    TextGlob {
        field: TextField,
        segs: Vec<String>,
    },
    TextExists(TextField),
    TextRange {
        field: TextField,
        lo: Bound<String>,
        hi: Bound<String>,
    },
    Interned {
        field: InternField,
        ids: IdSet,
    },
    InternedExists(InternField),
    Str {
        field: StrField,
        pred: StrPred,
    },
    Date {
        field: DateField,
        lo: Bound<DateTime<Utc>>,
        hi: Bound<DateTime<Utc>>,
    },
    Int {
        field: IntField,
        lo: Bound<i64>,
        hi: Bound<i64>,
    },
}

impl Node {
    pub(super) fn eval(&self, e: &Entry) -> bool {
        match self {
            Node::All => true,
            Node::Nothing => false,
            Node::And(children) => children.iter().all(|c| c.eval(e)),
            Node::Or(children) => children.iter().any(|c| c.eval(e)),
            Node::Not(c) => !c.eval(e),
            Node::Text { field, term } => e.text(*field).contains(term.as_str()),
            Node::TextGlob { field, segs } => {
                e.text(*field).split(SEP).any(|v| glob_unanchored(v, segs))
            }
            Node::TextExists(field) => !e.text(*field).is_empty(),
            Node::TextRange { field, lo, hi } => e
                .text(*field)
                .split(SEP)
                .any(|v| !v.is_empty() && in_bounds::<str, String>(v, lo, hi)),
            Node::Interned { field, ids } => e.ids(*field).iter().any(|&id| ids.contains(id)),
            Node::InternedExists(field) => !e.ids(*field).is_empty(),
            Node::Str { field, pred } => e.str_any(field, |v| pred.test(v)),
            Node::Date { field, lo, hi } => in_bounds(&e.date(*field), lo, hi),
            Node::Int { field, lo, hi } => in_bounds(&e.int(*field), lo, hi),
        }
    }

    /// Rough cost of evaluating this node on one document.
    pub(super) fn cost(&self) -> u32 {
        match self {
            Node::All | Node::Nothing => 0,
            Node::Interned { .. }
            | Node::InternedExists(_)
            | Node::Str { .. }
            | Node::Date { .. }
            | Node::Int { .. }
            | Node::TextExists(_) => 1,
            Node::Text { .. } | Node::TextGlob { .. } | Node::TextRange { .. } => 20,
            Node::Not(c) => c.cost(),
            Node::And(children) | Node::Or(children) => children
                .iter()
                .fold(0u32, |a, c| a.saturating_add(c.cost())),
        }
    }

    /// Flattens nested ANDs and ORs and orders children cheapest first, so
    /// that short-circuiting skips the substring checks where it can.
    pub(super) fn optimize(self) -> Node {
        match self {
            Node::And(children) => {
                let mut flat = Vec::with_capacity(children.len());
                for c in children {
                    match c.optimize() {
                        Node::And(inner) => flat.extend(inner),
                        Node::All => {}
                        c => flat.push(c),
                    }
                }
                flat.sort_by_key(Node::cost);
                Node::And(flat)
            }
            Node::Or(children) => {
                let mut flat = Vec::with_capacity(children.len());
                for c in children {
                    match c.optimize() {
                        Node::Or(inner) => flat.extend(inner),
                        Node::Nothing => {}
                        c => flat.push(c),
                    }
                }
                flat.sort_by_key(Node::cost);
                Node::Or(flat)
            }
            Node::Not(c) => Node::Not(Box::new(c.optimize())),
            other => other,
        }
    }

    /// A bare term of one or two characters: its postings list is exactly
    /// the set of matching documents.
    pub(super) fn exact_by_postings(&self) -> bool {
        matches!(self, Node::Text { field: TextField::All, term } if term.chars().nth(2).is_none())
    }
}

pub(super) fn in_bounds<T: ?Sized + Ord, B: Borrow<T>>(
    v: &T,
    lo: &Bound<B>,
    hi: &Bound<B>,
) -> bool {
    let lo_ok = match lo {
        Bound::Unbounded => true,
        Bound::Included(b) => v >= b.borrow(),
        Bound::Excluded(b) => v > b.borrow(),
    };
    let hi_ok = match hi {
        Bound::Unbounded => true,
        Bound::Included(b) => v <= b.borrow(),
        Bound::Excluded(b) => v < b.borrow(),
    };
    lo_ok && hi_ok
}

/// Whole-value glob: `segs` are the literal parts between `*`s.
pub(super) fn glob_anchored(hay: &str, segs: &[String]) -> bool {
    match segs {
        [] => hay.is_empty(),
        [only] => hay == only,
        [first, mid @ .., last] => {
            let Some(mut rest) = hay.strip_prefix(first.as_str()) else {
                return false;
            };
            for m in mid {
                match rest.find(m.as_str()) {
                    Some(i) => rest = rest.get(i + m.len()..).unwrap_or(""),
                    None => return false,
                }
            }
            rest.ends_with(last.as_str())
        }
    }
}

/// Substring glob: the segments occur in order somewhere in `hay`.
pub(super) fn glob_unanchored(hay: &str, segs: &[String]) -> bool {
    let mut rest = hay;
    for s in segs {
        if s.is_empty() {
            continue;
        }
        match rest.find(s.as_str()) {
            Some(i) => rest = rest.get(i + s.len()..).unwrap_or(""),
            None => return false,
        }
    }
    true
}
