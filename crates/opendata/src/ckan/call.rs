//! One action call: the state, who calls, the parameters, the language;
//! and reading parameters as CKAN does (strings, integers, booleans and
//! lists in any encoding).

use serde_json::Value;

use super::error::CkanError;
use super::request::Params;
use crate::model::Actor;
use crate::service::{Entry, OpenData};

/// One action call.
pub(super) struct Call<'a> {
    pub(super) state: &'a OpenData,
    pub(super) actor: Option<&'a Actor>,
    pub(super) params: Params,
    pub(super) lang: platform::i18n::Lang,
}

impl Call<'_> {
    pub(super) fn str(&self, key: &str) -> Option<String> {
        match self.params.data.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => a.first().and_then(|v| v.as_str()).map(str::to_string),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    pub(super) fn required(&self, key: &str) -> Result<String, CkanError> {
        match self.str(key) {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(CkanError::validation(key, "Missing value")),
        }
    }

    pub(super) fn int(&self, key: &str, default: i64) -> Result<i64, CkanError> {
        match self.params.data.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| CkanError::validation(key, "Invalid integer")),
            Some(_) => match self.str(key) {
                Some(s) if s.trim().is_empty() => Ok(default),
                Some(s) => s
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| CkanError::validation(key, "Invalid integer")),
                None => Ok(default),
            },
        }
    }

    pub(super) fn bool(&self, key: &str, default: bool) -> bool {
        match self.params.data.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
            Some(_) => self
                .str(key)
                .map(|s| {
                    matches!(
                        s.trim().to_ascii_lowercase().as_str(),
                        "true" | "1" | "yes" | "on"
                    )
                })
                .unwrap_or(default),
            None => default,
        }
    }

    /// A list parameter in any encoding: a JSON list, a JSON string of a list,
    /// repeated keys, or a single bare value.
    pub(super) fn list(&self, key: &str) -> Vec<String> {
        fn from_value(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Array(items) => items.iter().for_each(|i| from_value(i, out)),
                Value::String(s) => {
                    let t = s.trim();
                    if t.starts_with('[')
                        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(t)
                    {
                        items.iter().for_each(|i| from_value(i, out));
                    } else if !t.is_empty() {
                        out.push(t.to_string());
                    }
                }
                Value::Null => {}
                other => out.push(other.to_string()),
            }
        }
        let mut out = Vec::new();
        if let Some(v) = self.params.data.get(key) {
            from_value(v, &mut out);
        }
        out
    }

    pub(super) fn visible(&self, e: &Entry) -> bool {
        !e.dataset.private
            || self
                .actor
                .is_some_and(|a| a.organisation_id == e.organisation_id)
    }
}

pub(super) fn writer<'a>(c: &Call<'a>, what: &str) -> Result<&'a Actor, CkanError> {
    c.actor.ok_or_else(|| {
        CkanError::Authorization(format!("Action {what} requires an authenticated user"))
    })
}
