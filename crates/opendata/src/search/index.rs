//! The index: documents in slots, posting lists, interned values; adding,
//! removing and searching.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::doc::Doc;
use super::entry::Entry;
use super::facets;
use super::fields::{INTERN_FIELDS, InternField, StrField, TextField};
use super::grams::{Postings, doc_grams, intersect, term_grams};
use super::interner::Interners;
use super::parser::{MAX_CLAUSES, Parser};
use super::query::{IdSet, Node, StrPred};
use super::request::{SearchError, SearchRequest, SearchResult};
use super::sort::{Hit, SortKey, compare, parse_sort};
use super::text::norm_text;

/// An in-memory, searchable set of datasets.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub(super) slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    by_id: HashMap<String, u32>,
    /// Slots by NFKC-normalised id, for `id:` filters.
    by_id_key: HashMap<String, Vec<u32>>,
    pub(super) postings: Postings,
    pub(super) interners: Interners,
}

impl Index {
    /// Indexes `docs`; of several documents with one id the last wins.
    pub fn new(docs: Vec<Doc>) -> Index {
        let mut index = Index::default();
        for doc in docs {
            index.upsert(doc);
        }
        for list in index.postings.values_mut() {
            list.shrink_to_fit();
        }
        index
    }

    /// Adds a document, replacing any with the same id.
    pub fn upsert(&mut self, doc: Doc) {
        self.remove(&doc.id);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let Ok(s) = u32::try_from(self.slots.len()) else {
                    return;
                };
                self.slots.push(None);
                s
            }
        };
        let entry = Entry::build(doc, slot, &mut self.interners);
        for g in doc_grams(&entry.all) {
            let list = self.postings.entry(g).or_default();
            if let Err(i) = list.binary_search(&slot) {
                list.insert(i, slot);
            }
        }
        self.by_id.insert(entry.doc.id.clone(), slot);
        self.by_id_key
            .entry(entry.id_key.clone())
            .or_default()
            .push(slot);
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Some(entry);
        }
    }

    /// Removes the document with this id, if any.
    pub fn remove(&mut self, id: &str) {
        let Some(slot) = self.by_id.remove(id) else {
            return;
        };
        let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        for g in doc_grams(&entry.all) {
            if let Some(list) = self.postings.get_mut(&g)
                && let Ok(i) = list.binary_search(&slot)
            {
                list.remove(i);
                if list.is_empty() {
                    self.postings.remove(&g);
                }
            }
        }
        for f in INTERN_FIELDS {
            self.interners.get_mut(f).release(slot, entry.ids(f));
        }
        if let Some(slots) = self.by_id_key.get_mut(&entry.id_key) {
            slots.retain(|&s| s != slot);
            if slots.is_empty() {
                self.by_id_key.remove(&entry.id_key);
            }
        }
        self.free.push(slot);
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The document with this id.
    pub fn get(&self, id: &str) -> Option<&Doc> {
        let slot = *self.by_id.get(id)?;
        self.slots.get(slot as usize)?.as_ref().map(|e| &e.doc)
    }

    /// Slots of documents whose text contains `term`, or `None` if the
    /// term gives no clue.
    fn postings_for(&self, term: &str) -> Option<Vec<u32>> {
        let grams = term_grams(term);
        if grams.is_empty() {
            return None;
        }
        let mut lists: Vec<&[u32]> = Vec::with_capacity(grams.len());
        for g in &grams {
            match self.postings.get(g) {
                Some(l) => lists.push(l),
                None => return Some(Vec::new()),
            }
        }
        Some(intersect(lists))
    }

    /// An ascending superset of the slots matching `node`, or `None` when
    /// every slot must be checked.
    fn candidates(&self, node: &Node) -> Option<Vec<u32>> {
        let index = self;
        match node {
            Node::Nothing => Some(Vec::new()),
            Node::Text { term, .. } => index.postings_for(term),
            Node::Str {
                field: StrField::Id,
                pred: StrPred::Eq(id),
            } => {
                let mut slots = index.by_id_key.get(id).cloned().unwrap_or_default();
                slots.sort_unstable();
                Some(slots)
            }
            Node::Interned { field, ids } => {
                let lists = &index.interners.get(*field).slots;
                match ids {
                    IdSet::One(id) => Some(lists.get(*id as usize).cloned().unwrap_or_default()),
                    IdSet::Mask(mask) => {
                        let mut acc: Vec<u32> = lists
                            .iter()
                            .zip(mask)
                            .filter(|(_, m)| **m)
                            .flat_map(|(l, _)| l.iter().copied())
                            .collect();
                        acc.sort_unstable();
                        acc.dedup();
                        Some(acc)
                    }
                }
            }
            Node::TextGlob { segs, .. } => segs
                .iter()
                .filter(|s| !s.is_empty())
                .max_by_key(|s| s.chars().count())
                .and_then(|s| index.postings_for(s)),
            Node::And(children) => {
                let lists: Vec<Vec<u32>> = children
                    .iter()
                    .filter_map(|c| index.candidates(c))
                    .collect();
                if lists.is_empty() {
                    None
                } else {
                    Some(intersect(lists.iter().map(Vec::as_slice).collect()))
                }
            }
            Node::Or(children) => {
                let mut acc = Vec::new();
                for c in children {
                    acc.extend(index.candidates(c)?);
                }
                acc.sort_unstable();
                acc.dedup();
                Some(acc)
            }
            _ => None,
        }
    }

    fn parse_q(
        &self,
        q: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Node, Vec<(TextField, String)>), SearchError> {
        let q = q.unwrap_or("").trim();
        if q.is_empty() {
            return Ok((Node::All, Vec::new()));
        }
        let mut parser = Parser::new(&self.interners, q, now, true);
        match parser.parse_top() {
            Ok(node) => Ok((node, parser.score_terms)),
            // Field syntax must be right; plain words never fail (as with
            // CKAN's dismax): fall back to whitespace-separated terms.
            Err(e) if q.contains(':') => Err(e),
            Err(_) => {
                let mut nodes = Vec::new();
                let mut terms = Vec::new();
                for w in q.split_whitespace().take(MAX_CLAUSES) {
                    let term = norm_text(&w.replace('"', ""), true);
                    if !term.is_empty() {
                        nodes.push(Node::Text {
                            field: TextField::All,
                            term: term.clone(),
                        });
                        terms.push((TextField::All, term));
                    }
                }
                Ok((Node::And(nodes), terms))
            }
        }
    }

    /// Runs a search. `now` anchors `NOW` in date math.
    pub fn search(
        &self,
        req: &SearchRequest,
        now: DateTime<Utc>,
    ) -> Result<SearchResult, SearchError> {
        let sort = parse_sort(req.sort.as_deref())?;
        let (qnode, score_terms) = self.parse_q(req.q.as_deref(), now)?;
        let mut clauses = vec![qnode];
        for fq in &req.fq {
            clauses.push(Parser::new(&self.interners, fq, now, false).parse_top()?);
        }
        let mut root = Node::And(clauses).optimize();
        let candidates = self.candidates(&root);
        if candidates.is_some()
            && let Node::And(children) = &mut root
        {
            // Their postings already decided these.
            children.retain(|c| !c.exact_by_postings());
        }

        let owners = self.interners.get(InternField::OwnerOrg);
        let allowed: Vec<u32> = req
            .private_orgs
            .iter()
            .filter_map(|o| owners.map.get(&InternField::OwnerOrg.key(o)).copied())
            .collect();
        let visible = |e: &Entry| {
            !e.doc.private
                || e.ids(InternField::OwnerOrg)
                    .iter()
                    .any(|o| allowed.contains(o))
        };

        let mut hits: Vec<Hit<'_>> = Vec::new();
        let mut consider = |slot: usize| {
            if let Some(Some(e)) = self.slots.get(slot)
                && visible(e)
                && root.eval(e)
            {
                hits.push(Hit { e, score: 0 });
            }
        };
        match candidates {
            Some(list) => list.into_iter().for_each(|s| consider(s as usize)),
            None => (0..self.slots.len()).for_each(consider),
        }

        if !score_terms.is_empty() && sort.iter().any(|(k, _)| *k == SortKey::Score) {
            for h in &mut hits {
                h.score = h.e.score(&score_terms);
            }
        }

        let facets = facets::count(&self.interners, &self.slots, &hits, req);

        let count = hits.len();
        let k = req.start.saturating_add(req.rows).min(count);
        let cmp = |a: &Hit<'_>, b: &Hit<'_>| compare(&sort, a, b);
        if k == 0 {
            hits.clear();
        } else if k < count {
            hits.select_nth_unstable_by(k - 1, cmp);
            hits.truncate(k);
        }
        hits.sort_unstable_by(cmp);
        let ids = hits
            .iter()
            .skip(req.start)
            .map(|h| h.e.doc.id.clone())
            .collect();
        Ok(SearchResult { count, ids, facets })
    }
}
