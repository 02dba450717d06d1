//! Every action this catalogue answers, with its help text, and the
//! actions about the site itself: `license_list`, `status_show`,
//! `site_read` and `help_show`.

use serde_json::{Value, json};

use super::call::Call;
use super::error::CkanError;
use super::{datasets, groups, writes};
use crate::model;

/// The CKAN version whose Action API this catalogue follows (`status_show`).
pub const CKAN_VERSION: &str = "2.10.4";

type ActionFn = for<'a> fn(
    Call<'a>,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Value, CkanError>> + Send + 'a>,
>;

macro_rules! action {
    ($f:path) => {{
        fn wrapped<'a>(
            c: Call<'a>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Value, CkanError>> + Send + 'a>,
        > {
            Box::pin($f(c))
        }
        wrapped as ActionFn
    }};
}

/// Every action this catalogue answers, with its help text.
pub(super) static ACTIONS: &[(&str, ActionFn)] = &[
    ("package_list", action!(datasets::package_list)),
    (
        "current_package_list_with_resources",
        action!(datasets::current_package_list_with_resources),
    ),
    ("package_show", action!(datasets::package_show)),
    ("package_search", action!(datasets::package_search)),
    ("resource_show", action!(datasets::resource_show)),
    ("resource_search", action!(datasets::resource_search)),
    ("organization_list", action!(groups::organization_list)),
    ("organization_show", action!(groups::organization_show)),
    (
        "organization_list_for_user",
        action!(groups::organization_list_for_user),
    ),
    ("group_list", action!(groups::group_list)),
    ("group_show", action!(groups::group_show)),
    ("tag_list", action!(groups::tag_list)),
    ("tag_show", action!(groups::tag_show)),
    ("license_list", action!(license_list)),
    ("status_show", action!(status_show)),
    ("site_read", action!(site_read)),
    ("help_show", action!(help_show)),
    ("package_create", action!(writes::package_create)),
    ("package_update", action!(writes::package_update)),
    ("package_patch", action!(writes::package_patch)),
    ("package_delete", action!(writes::package_delete)),
    ("resource_create", action!(writes::resource_create)),
    ("resource_update", action!(writes::resource_update)),
    ("resource_patch", action!(writes::resource_patch)),
    ("resource_delete", action!(writes::resource_delete)),
    ("organization_create", action!(writes::organization_create)),
    ("organization_update", action!(writes::organization_update)),
    ("organization_patch", action!(writes::organization_patch)),
    ("group_create", action!(writes::group_create)),
];

const HELP: &[(&str, &str)] = &[
    (
        "package_list",
        "Return a list of the names of the site's datasets (packages).\n\n:param limit: if given, the list of datasets will be broken into pages of at most ``limit`` datasets per page\n:param offset: when ``limit`` is given, the offset to start returning packages from\n:rtype: list of strings",
    ),
    (
        "package_show",
        "Return the metadata of a dataset (package) and its resources.\n\n:param id: the id or name of the dataset\n:rtype: dictionary",
    ),
    (
        "package_search",
        "Searches for packages satisfying a given search criteria.\n\nThe free-text query ``q`` understands Japanese (no spaces needed between words). ``fq`` and ``fq_list`` take Solr filter queries (field:value, \"phrases\", -, +, AND, OR, parentheses, ranges). Parameters: q, fq, fq_list, sort, rows (max 1000), start, facet.field, facet.limit, facet.mincount, include_private.\n:rtype: dictionary with count, results, facets, search_facets",
    ),
    (
        "resource_show",
        "Return the metadata of a resource.\n\n:param id: the id of the resource",
    ),
    (
        "resource_search",
        "Searches for resources satisfying a given search criteria.\n\n:param query: field:term, or a list of them (name, description, format, url, mimetype ...); terms match case-insensitively as substrings\n:param order_by, offset, limit",
    ),
    (
        "package_create",
        "Create a new dataset (package). Needs a token of the owning organization's local government.",
    ),
    (
        "package_update",
        "Update a dataset. Fields not given are reset, except resources, which stay unchanged when omitted.",
    ),
    (
        "package_patch",
        "Patch a dataset: only the given fields change.",
    ),
    (
        "package_delete",
        "Delete a dataset (it is kept with state 'deleted').",
    ),
    (
        "resource_create",
        "Append a resource to a dataset: a link (url) or a file in the multipart field ``upload``.",
    ),
    (
        "resource_update",
        "Update a resource; a new file may be given in ``upload``.",
    ),
    (
        "resource_patch",
        "Patch a resource: only the given fields change.",
    ),
    (
        "organization_create",
        "Create an organization (a publisher) under the token's local government.",
    ),
    (
        "status_show",
        "Return a dictionary with information about the site's configuration.",
    ),
];

async fn license_list(_c: Call<'_>) -> Result<Value, CkanError> {
    Ok(Value::Array(
        model::LICENCES.iter().map(model::licence_dict).collect(),
    ))
}

async fn status_show(c: Call<'_>) -> Result<Value, CkanError> {
    let branding = &c.state.platform.config.branding;
    Ok(json!({
        "site_title": branding.site_name,
        "site_description": "",
        "site_url": c.state.catalogue.site_url(),
        "ckan_version": CKAN_VERSION,
        "error_emails_to": null,
        "locale_default": "ja",
        "extensions": ["madoguchi", "dcat", "ngsi-v2", "standard-datasets"],
    }))
}

async fn site_read(_c: Call<'_>) -> Result<Value, CkanError> {
    Ok(Value::Bool(true))
}

async fn help_show(c: Call<'_>) -> Result<Value, CkanError> {
    let name = c.required("name")?;
    if !ACTIONS.iter().any(|(n, _)| *n == name) {
        return Err(CkanError::NotFound(format!(
            "Action function not found: {name}"
        )));
    }
    Ok(Value::String(
        HELP.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, h)| h.to_string())
            .unwrap_or_else(|| format!("{name}: see CKAN's Action API documentation.")),
    ))
}
