//! Interned values of the exact-match fields that filters and facets use
//! most: each distinct value gets a number and the list of documents that
//! hold it.

use std::collections::HashMap;

use super::fields::InternField;

/// Values of one interned field: match key → id, with display text and the
/// slots of the documents holding each value (ascending).
#[derive(Debug, Clone, Default)]
pub(super) struct Interner {
    /// Match key → value id.
    pub(super) map: HashMap<String, u32>,
    /// The match key of each id.
    pub(super) keys: Vec<String>,
    /// The spelling shown in facets, per id.
    pub(super) display: Vec<String>,
    /// The slots of the documents holding each id (ascending).
    pub(super) slots: Vec<Vec<u32>>,
}

impl Interner {
    /// Interns the distinct non-empty values of one document.
    pub(super) fn intern_doc<'a>(
        &mut self,
        field: InternField,
        slot: u32,
        values: impl Iterator<Item = &'a str>,
    ) -> Vec<u32> {
        let mut ids: Vec<u32> = Vec::new();
        for v in values {
            let key = field.key(v);
            if key.is_empty() {
                continue;
            }
            let id = match self.map.get(&key) {
                Some(&id) => {
                    // A value no document holds any more takes the new spelling.
                    if self.slots.get(id as usize).is_some_and(Vec::is_empty)
                        && let Some(d) = self.display.get_mut(id as usize)
                    {
                        v.clone_into(d);
                    }
                    id
                }
                None => {
                    let Ok(id) = u32::try_from(self.keys.len()) else {
                        continue;
                    };
                    self.map.insert(key.clone(), id);
                    self.keys.push(key);
                    self.display.push(v.to_owned());
                    self.slots.push(Vec::new());
                    id
                }
            };
            if !ids.contains(&id) {
                ids.push(id);
                if let Some(list) = self.slots.get_mut(id as usize)
                    && let Err(i) = list.binary_search(&slot)
                {
                    list.insert(i, slot);
                }
            }
        }
        ids.sort_unstable();
        ids
    }

    pub(super) fn release(&mut self, slot: u32, ids: &[u32]) {
        for &id in ids {
            if let Some(list) = self.slots.get_mut(id as usize)
                && let Ok(i) = list.binary_search(&slot)
            {
                list.remove(i);
            }
        }
    }
}

/// One [`Interner`] per [`InternField`].
#[derive(Debug, Clone, Default)]
pub(super) struct Interners {
    organization: Interner,
    owner_org: Interner,
    license_id: Interner,
    tags: Interner,
    groups: Interner,
    res_format: Interner,
}

impl Interners {
    pub(super) fn get(&self, field: InternField) -> &Interner {
        match field {
            InternField::Organization => &self.organization,
            InternField::OwnerOrg => &self.owner_org,
            InternField::LicenseId => &self.license_id,
            InternField::Tags => &self.tags,
            InternField::Groups => &self.groups,
            InternField::ResFormat => &self.res_format,
        }
    }

    pub(super) fn get_mut(&mut self, field: InternField) -> &mut Interner {
        match field {
            InternField::Organization => &mut self.organization,
            InternField::OwnerOrg => &mut self.owner_org,
            InternField::LicenseId => &mut self.license_id,
            InternField::Tags => &mut self.tags,
            InternField::Groups => &mut self.groups,
            InternField::ResFormat => &mut self.res_format,
        }
    }

    /// Interns the distinct non-empty values of one document's field.
    pub(super) fn intern<'a>(
        &mut self,
        field: InternField,
        slot: u32,
        values: impl Iterator<Item = &'a str>,
    ) -> Vec<u32> {
        self.get_mut(field).intern_doc(field, slot, values)
    }
}
