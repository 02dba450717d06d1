//! The Lucene/Solr query subset CKAN clients send in `q` and `fq`, parsed
//! and compiled into a [`Node`] in one pass.

use std::ops::Bound;

use chrono::{DateTime, Utc};

use super::dates::parse_date_math;
use super::fields::{FieldRef, TextField};
use super::interner::Interners;
use super::query::{IdSet, Node, StrPred, glob_anchored, in_bounds};
use super::request::SearchError;
use super::text::{nfkc, norm_text, snippet};

/// Deepest nesting of parentheses and prefix operators a query may use.
const MAX_DEPTH: usize = 32;
/// Most clauses one `q` or `fq` string may hold (Solr's `maxBooleanClauses`).
pub(super) const MAX_CLAUSES: usize = 1024;

/// A bare word: literal segments separated by unescaped `*`.
#[derive(Debug, Clone)]
struct Word {
    /// The unescaped text, `*` included.
    raw: String,
    segs: Vec<String>,
}

impl Word {
    fn literal(s: String) -> Word {
        Word {
            raw: s.clone(),
            segs: vec![s],
        }
    }
    fn is_glob(&self) -> bool {
        self.segs.len() > 1
    }
    /// Only `*`s: "has any value".
    fn is_star(&self) -> bool {
        self.is_glob() && self.segs.iter().all(String::is_empty)
    }
}

enum Endpoint {
    Open,
    Value(String),
}

/// Recursive-descent parser for the Lucene subset; compiles while parsing.
///
/// Grammar (AND binds tighter than OR, juxtaposition is AND):
/// ```text
/// or      := and (("OR" | "||") and)*
/// and     := unary (("AND" | "&&")? unary)*
/// unary   := ("NOT" | "-" | "!") unary | "+" unary | primary
/// primary := "(" or ")" | phrase | word | word ":" value
/// value   := "(" or ")" | phrase | range | word
/// range   := ("[" | "{") endpoint "TO" endpoint ("]" | "}")
/// ```
pub(super) struct Parser<'a> {
    src: &'a str,
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    clauses: usize,
    negated: usize,
    interners: &'a Interners,
    now: DateTime<Utc>,
    /// In `q`, `unknown:value` is free text (like edismax), not a filter
    /// that matches nothing.
    free_unknown: bool,
    /// Positive free-text terms, for scoring.
    pub(super) score_terms: Vec<(TextField, String)>,
}

type PResult<T> = Result<T, SearchError>;

fn is_word_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '^')
}

impl<'a> Parser<'a> {
    pub(super) fn new(
        interners: &'a Interners,
        src: &'a str,
        now: DateTime<Utc>,
        free_unknown: bool,
    ) -> Parser<'a> {
        Parser {
            src,
            chars: src.chars().collect(),
            pos: 0,
            depth: 0,
            clauses: 0,
            negated: 0,
            interners,
            now,
            free_unknown,
            score_terms: Vec::new(),
        }
    }

    fn err(&self, msg: &str) -> SearchError {
        SearchError::InvalidQuery(format!(
            "{msg} at character {} of {:?}",
            self.pos + 1,
            snippet(self.src)
        ))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<char> {
        self.chars.get(self.pos + off).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// A keyword such as `AND` standing alone at the cursor.
    fn peek_kw(&self, kw: &str) -> bool {
        let mut n = 0;
        for (i, k) in kw.chars().enumerate() {
            if self.peek_at(i) != Some(k) {
                return false;
            }
            n = i + 1;
        }
        match self.peek_at(n) {
            None => true,
            Some(c) => c.is_whitespace() || c == '(' || c == '"',
        }
    }

    fn eat_kw(&mut self, kws: &[&str]) -> bool {
        for kw in kws {
            if self.peek_kw(kw) {
                self.pos += kw.chars().count();
                return true;
            }
        }
        false
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.err("query is nested too deeply"))
        } else {
            Ok(())
        }
    }

    fn count_clause(&mut self) -> PResult<()> {
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES {
            Err(self.err("too many clauses"))
        } else {
            Ok(())
        }
    }

    /// Ignores a `^boost` suffix.
    fn skip_boost(&mut self) {
        if self.peek() == Some('^') {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                self.pos += 1;
            }
        }
    }

    pub(super) fn parse_top(&mut self) -> PResult<Node> {
        self.skip_ws();
        if self.peek().is_none() {
            return Ok(Node::All);
        }
        let node = self.parse_or(None)?;
        self.skip_ws();
        match self.peek() {
            None => Ok(node),
            Some(')') => Err(self.err("unbalanced parentheses: unexpected ')'")),
            Some(_) => Err(self.err("unexpected input")),
        }
    }

    fn parse_or(&mut self, df: Option<&FieldRef>) -> PResult<Node> {
        self.enter()?;
        let mut alts = vec![self.parse_and(df)?];
        loop {
            self.skip_ws();
            if !self.eat_kw(&["OR", "||"]) {
                break;
            }
            alts.push(self.parse_and(df)?);
        }
        self.depth -= 1;
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Node::Nothing)
        } else {
            Node::Or(alts)
        })
    }

    fn at_and_end(&self) -> bool {
        self.peek().is_none()
            || self.peek() == Some(')')
            || self.peek_kw("OR")
            || self.peek_kw("||")
    }

    fn parse_and(&mut self, df: Option<&FieldRef>) -> PResult<Node> {
        let mut parts = Vec::new();
        loop {
            self.skip_ws();
            if self.at_and_end() {
                break;
            }
            if self.eat_kw(&["AND", "&&"]) {
                if parts.is_empty() {
                    return Err(self.err("AND without a left operand"));
                }
                self.skip_ws();
                if self.at_and_end() || self.peek_kw("AND") || self.peek_kw("&&") {
                    return Err(self.err("AND without a right operand"));
                }
                continue;
            }
            parts.push(self.parse_unary(df)?);
        }
        match parts.len() {
            0 => Err(self.err("expected a search clause")),
            1 => Ok(parts.pop().unwrap_or(Node::Nothing)),
            _ => Ok(Node::And(parts)),
        }
    }

    fn parse_unary(&mut self, df: Option<&FieldRef>) -> PResult<Node> {
        self.skip_ws();
        let negate = if self.eat_kw(&["NOT"]) {
            self.skip_ws();
            if self.at_and_end() {
                return Err(self.err("NOT without an operand"));
            }
            true
        } else if let Some(op @ ('-' | '!' | '+')) = self.peek() {
            self.pos += 1;
            if self.peek().is_none_or(char::is_whitespace) {
                return Err(self.err(&format!("'{op}' without an operand")));
            }
            op != '+'
        } else {
            return self.parse_primary(df);
        };
        self.enter()?;
        if negate {
            self.negated += 1;
        }
        let inner = self.parse_unary(df);
        if negate {
            self.negated -= 1;
        }
        self.depth -= 1;
        let inner = inner?;
        Ok(if negate {
            Node::Not(Box::new(inner))
        } else {
            inner
        })
    }

    fn expect_close(&mut self) -> PResult<()> {
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.err("unbalanced parentheses: missing ')'"));
        }
        self.pos += 1;
        self.skip_boost();
        Ok(())
    }

    fn parse_primary(&mut self, df: Option<&FieldRef>) -> PResult<Node> {
        let free = FieldRef::Text(TextField::All);
        match self.peek() {
            None => Err(self.err("expected a search clause")),
            Some('(') => {
                self.pos += 1;
                let node = self.parse_or(df)?;
                self.expect_close()?;
                Ok(node)
            }
            Some(')') => Err(self.err("unbalanced parentheses: unexpected ')'")),
            Some('"') => {
                let phrase = self.read_phrase()?;
                self.count_clause()?;
                self.leaf(df.unwrap_or(&free), Word::literal(phrase))
            }
            Some(_) => {
                let word = self.read_word(true)?;
                if self.peek() == Some(':') {
                    if word.raw.is_empty() {
                        return Err(self.err("missing field name before ':'"));
                    }
                    self.pos += 1;
                    return self.parse_value(FieldRef::parse(&word.raw), &word.raw);
                }
                if word.raw.is_empty() {
                    return Err(self.err("unexpected character"));
                }
                self.count_clause()?;
                match df {
                    None if word.is_star() => Ok(Node::All),
                    _ => self.leaf(df.unwrap_or(&free), word),
                }
            }
        }
    }

    fn parse_value(&mut self, field: FieldRef, name: &str) -> PResult<Node> {
        self.skip_ws();
        let missing = || format!("missing value for field {:?}", snippet(name));
        let field = match self.peek() {
            None | Some(')') => return Err(self.err(&missing())),
            Some('(' | '"' | '[' | '{') => {
                if self.free_unknown && field == FieldRef::Unknown {
                    FieldRef::Text(TextField::All)
                } else {
                    field
                }
            }
            Some(_) => {
                let word = self.read_word(false)?;
                if word.raw.is_empty() {
                    return Err(self.err(&missing()));
                }
                self.count_clause()?;
                if self.free_unknown && field == FieldRef::Unknown {
                    return self.leaf(
                        &FieldRef::Text(TextField::All),
                        Word::literal(format!("{name}:{}", word.raw)),
                    );
                }
                return self.leaf(&field, word);
            }
        };
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                let node = self.parse_or(Some(&field))?;
                self.expect_close()?;
                Ok(node)
            }
            Some('"') => {
                let phrase = self.read_phrase()?;
                self.count_clause()?;
                self.leaf(&field, Word::literal(phrase))
            }
            _ => {
                self.count_clause()?;
                self.parse_range(&field)
            }
        }
    }

    fn read_phrase(&mut self) -> PResult<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(self.err("unbalanced quotes"));
                }
                Some('"') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => out.push(c),
                        None => return Err(self.err("dangling escape character")),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        // Proximity (`"a b"~2`) and boosts are accepted and ignored.
        if self.peek() == Some('~') {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        self.skip_boost();
        Ok(out)
    }

    fn read_word(&mut self, stop_at_colon: bool) -> PResult<Word> {
        let mut raw = String::new();
        let mut segs = vec![String::new()];
        while let Some(c) = self.peek() {
            if is_word_end(c) || (stop_at_colon && c == ':') {
                break;
            }
            self.pos += 1;
            let lit = match c {
                '\\' => {
                    let Some(n) = self.peek() else {
                        return Err(self.err("dangling escape character"));
                    };
                    self.pos += 1;
                    n
                }
                '*' => {
                    raw.push('*');
                    segs.push(String::new());
                    continue;
                }
                c => c,
            };
            raw.push(lit);
            if let Some(s) = segs.last_mut() {
                s.push(lit);
            }
        }
        self.skip_boost();
        Ok(Word { raw, segs })
    }

    fn read_endpoint(&mut self) -> PResult<Endpoint> {
        if self.peek() == Some('"') {
            return Ok(Endpoint::Value(self.read_phrase()?));
        }
        let mut s = String::new();
        let mut escaped = false;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ']' || c == '}' {
                break;
            }
            self.pos += 1;
            if c == '\\' {
                let Some(n) = self.peek() else {
                    return Err(self.err("dangling escape character"));
                };
                self.pos += 1;
                escaped = true;
                s.push(n);
            } else {
                s.push(c);
            }
        }
        if s.is_empty() {
            return Err(self.err("missing range endpoint"));
        }
        Ok(if s == "*" && !escaped {
            Endpoint::Open
        } else {
            Endpoint::Value(s)
        })
    }

    fn parse_range(&mut self, field: &FieldRef) -> PResult<Node> {
        let lo_inc = self.peek() == Some('[');
        self.pos += 1;
        self.skip_ws();
        let lo = self.read_endpoint()?;
        self.skip_ws();
        if !self.eat_kw(&["TO"]) {
            return Err(self.err("a range must look like [a TO b]"));
        }
        self.skip_ws();
        let hi = self.read_endpoint()?;
        self.skip_ws();
        let hi_inc = match self.peek() {
            Some(']') => true,
            Some('}') => false,
            _ => return Err(self.err("unterminated range: expected ']' or '}'")),
        };
        self.pos += 1;
        self.skip_boost();
        self.range_leaf(field, lo, lo_inc, hi, hi_inc)
    }

    fn bound<T>(
        &self,
        e: Endpoint,
        inclusive: bool,
        conv: impl Fn(&Self, &str) -> PResult<T>,
    ) -> PResult<Bound<T>> {
        Ok(match e {
            Endpoint::Open => Bound::Unbounded,
            Endpoint::Value(v) if inclusive => Bound::Included(conv(self, &v)?),
            Endpoint::Value(v) => Bound::Excluded(conv(self, &v)?),
        })
    }

    fn date(&self, s: &str) -> PResult<DateTime<Utc>> {
        parse_date_math(s, self.now)
            .map_err(|m| self.err(&format!("invalid date {:?}: {m}", snippet(s))))
    }

    fn int(&self, s: &str) -> PResult<i64> {
        s.parse::<i64>()
            .map_err(|_| self.err(&format!("invalid number {:?}", snippet(s))))
    }

    fn range_leaf(
        &self,
        field: &FieldRef,
        lo: Endpoint,
        lo_inc: bool,
        hi: Endpoint,
        hi_inc: bool,
    ) -> PResult<Node> {
        let text = |_: &Self, s: &str| Ok(norm_text(s, true));
        let exact = |_: &Self, s: &str| Ok(nfkc(s));
        Ok(match field {
            FieldRef::Star | FieldRef::Unknown => Node::Nothing,
            FieldRef::AnyValue => Node::All,
            FieldRef::Const(c) => {
                let (lo, hi) = (
                    self.bound(lo, lo_inc, exact)?,
                    self.bound(hi, hi_inc, exact)?,
                );
                if in_bounds::<str, String>(c, &lo, &hi) {
                    Node::All
                } else {
                    Node::Nothing
                }
            }
            FieldRef::Text(f) => Node::TextRange {
                field: *f,
                lo: self.bound(lo, lo_inc, text)?,
                hi: self.bound(hi, hi_inc, text)?,
            },
            FieldRef::Str(f) => {
                let pred = StrPred::Range(
                    self.bound(lo, lo_inc, exact)?,
                    self.bound(hi, hi_inc, exact)?,
                );
                Node::Str {
                    field: f.clone(),
                    pred,
                }
            }
            FieldRef::Interned(f) => {
                let key = |_: &Self, s: &str| Ok(f.key(s));
                let (lo, hi) = (self.bound(lo, lo_inc, key)?, self.bound(hi, hi_inc, key)?);
                let keys = &self.interners.get(*f).keys;
                let mask = keys
                    .iter()
                    .map(|k| in_bounds::<str, String>(k, &lo, &hi))
                    .collect();
                Node::Interned {
                    field: *f,
                    ids: IdSet::Mask(mask),
                }
            }
            FieldRef::Date(f) => Node::Date {
                field: *f,
                lo: self.bound(lo, lo_inc, Self::date)?,
                hi: self.bound(hi, hi_inc, Self::date)?,
            },
            FieldRef::Int(f) => Node::Int {
                field: *f,
                lo: self.bound(lo, lo_inc, Self::int)?,
                hi: self.bound(hi, hi_inc, Self::int)?,
            },
        })
    }

    /// Compiles `field:word` (a phrase arrives as a literal word).
    fn leaf(&mut self, field: &FieldRef, word: Word) -> PResult<Node> {
        Ok(match field {
            FieldRef::Star if word.is_star() => Node::All,
            FieldRef::Star => return self.text_leaf(TextField::All, word),
            FieldRef::Unknown => Node::Nothing,
            FieldRef::AnyValue => Node::All,
            FieldRef::Const(c) => {
                if glob_anchored(c, &word.segs) {
                    Node::All
                } else {
                    Node::Nothing
                }
            }
            FieldRef::Text(f) => return self.text_leaf(*f, word),
            FieldRef::Str(f) => {
                let pred = if word.is_star() {
                    StrPred::Exists
                } else if word.is_glob() {
                    StrPred::Glob(word.segs.iter().map(|s| nfkc(s)).collect())
                } else {
                    StrPred::Eq(nfkc(&word.raw))
                };
                Node::Str {
                    field: f.clone(),
                    pred,
                }
            }
            FieldRef::Interned(f) => {
                let interner = self.interners.get(*f);
                if word.is_star() {
                    Node::InternedExists(*f)
                } else if word.is_glob() {
                    let segs: Vec<String> = word.segs.iter().map(|s| f.key(s)).collect();
                    let mask = interner
                        .keys
                        .iter()
                        .map(|k| glob_anchored(k, &segs))
                        .collect();
                    Node::Interned {
                        field: *f,
                        ids: IdSet::Mask(mask),
                    }
                } else {
                    match interner.map.get(&f.key(&word.raw)) {
                        Some(&id) => Node::Interned {
                            field: *f,
                            ids: IdSet::One(id),
                        },
                        None => Node::Nothing,
                    }
                }
            }
            FieldRef::Date(_) | FieldRef::Int(_) if word.is_star() => Node::All,
            FieldRef::Date(f) => {
                let d = self.date(&word.raw)?;
                Node::Date {
                    field: *f,
                    lo: Bound::Included(d),
                    hi: Bound::Included(d),
                }
            }
            FieldRef::Int(f) => {
                let n = self.int(&word.raw)?;
                Node::Int {
                    field: *f,
                    lo: Bound::Included(n),
                    hi: Bound::Included(n),
                }
            }
        })
    }

    fn text_leaf(&mut self, field: TextField, word: Word) -> PResult<Node> {
        if word.is_glob() {
            let segs: Vec<String> = word.segs.iter().map(|s| norm_text(s, false)).collect();
            if segs.iter().all(String::is_empty) {
                return Ok(Node::TextExists(field));
            }
            return Ok(Node::TextGlob { field, segs });
        }
        let term = norm_text(&word.raw, true);
        if term.is_empty() {
            // Nothing searchable (e.g. only control characters): no constraint.
            return Ok(Node::All);
        }
        if self.negated == 0 {
            self.score_terms.push((field, term.clone()));
        }
        Ok(Node::Text { field, term })
    }
}
