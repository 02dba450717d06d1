//! Facet counts over a search's hits: interned fields counted by value id
//! in one pass, other fields by their values.

use std::collections::HashMap;

use super::entry::Entry;
use super::fields::{FieldRef, InternField};
use super::interner::Interners;
use super::request::SearchRequest;
use super::sort::Hit;

/// Facet counts over all hits, one entry per requested field (duplicates
/// dropped), in request order.
pub(super) fn count(
    interners: &Interners,
    slots: &[Option<Entry>],
    hits: &[Hit<'_>],
    req: &SearchRequest,
) -> Vec<(String, Vec<(String, usize)>)> {
    let mut names: Vec<&String> = Vec::new();
    for name in &req.facet_fields {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let fields: Vec<FieldRef> = names.iter().map(|n| FieldRef::parse(n)).collect();
    // Interned fields are counted by id, all in one pass over the hits.
    let interned: Vec<(usize, InternField)> = fields
        .iter()
        .enumerate()
        .filter_map(|(k, f)| match f {
            FieldRef::Interned(f) => Some((k, *f)),
            _ => None,
        })
        .collect();
    let mut counts: Vec<Vec<usize>> = interned
        .iter()
        .map(|&(_, f)| vec![0usize; interners.get(f).keys.len()])
        .collect();
    if !interned.is_empty() {
        for h in hits {
            for (&(_, f), counts) in interned.iter().zip(&mut counts) {
                for &id in h.e.ids(f) {
                    if let Some(c) = counts.get_mut(id as usize) {
                        *c += 1;
                    }
                }
            }
        }
    }
    let min = req.facet_mincount;
    let limit = usize::try_from(req.facet_limit).ok();
    let mut out = Vec::with_capacity(names.len());
    for (k, (name, field)) in names.iter().zip(&fields).enumerate() {
        let values = if let Some(pos) = interned.iter().position(|&(i, _)| i == k)
            && let (Some(&(_, f)), Some(counts)) = (interned.get(pos), counts.get(pos))
        {
            let interner = &interners.get(f);
            let values = counts
                .iter()
                .zip(&interner.display)
                .zip(&interner.slots)
                .filter(|&((&c, _), slots)| c >= min && (c > 0 || !slots.is_empty()))
                .map(|((&c, d), _)| (d.as_str(), c))
                .collect();
            top_values(values, limit)
        } else {
            let mut map: HashMap<String, usize> = HashMap::new();
            for h in hits {
                for v in h.e.facet_values(field) {
                    *map.entry(v).or_default() += 1;
                }
            }
            if min == 0 {
                for e in slots.iter().flatten() {
                    for v in e.facet_values(field) {
                        map.entry(v).or_default();
                    }
                }
            }
            top_values(
                map.iter()
                    .filter(|&(_, &c)| c >= min)
                    .map(|(v, &c)| (v.as_str(), c))
                    .collect(),
                limit,
            )
        };
        out.push(((*name).clone(), values));
    }
    out
}

/// Orders facet values by count descending then value, keeping `limit`.
fn top_values(mut values: Vec<(&str, usize)>, limit: Option<usize>) -> Vec<(String, usize)> {
    let order = |a: &(&str, usize), b: &(&str, usize)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
    if let Some(limit) = limit
        && limit < values.len()
    {
        if limit == 0 {
            return Vec::new();
        }
        values.select_nth_unstable_by(limit - 1, order);
        values.truncate(limit);
    }
    values.sort_unstable_by(order);
    values.into_iter().map(|(v, c)| (v.to_owned(), c)).collect()
}
