//! The actions that change the catalogue: `package_*`, `resource_*`,
//! `organization_*` and `group_create`. Each needs a token; the service
//! checks the token's local government may write there.

use serde_json::{Value, json};

use super::call::{Call, writer};
use super::datasets::visible_dataset;
use super::error::CkanError;
use super::groups::set;
use crate::service::{datasets, publishers, resources};

pub(super) async fn package_create(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "package_create")?;
    let d = datasets::create(c.state, actor, &c.params.data).await?;
    visible_dataset(&c, &d).await
}

pub(super) async fn package_update(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "package_update")?;
    let id = c.required("id").or_else(|_| c.required("name"))?;
    let d = datasets::update(c.state, actor, id.trim(), &c.params.data, false).await?;
    visible_dataset(&c, &d).await
}

pub(super) async fn package_patch(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "package_patch")?;
    let id = c.required("id")?;
    let d = datasets::update(c.state, actor, id.trim(), &c.params.data, true).await?;
    visible_dataset(&c, &d).await
}

pub(super) async fn package_delete(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "package_delete")?;
    let id = c.required("id")?;
    datasets::delete(c.state, actor, id.trim()).await?;
    Ok(Value::Null)
}

pub(super) async fn resource_create(mut c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "resource_create")?;
    let package_id = c.required("package_id")?;
    let upload = c.params.upload.take();
    let (dataset, resource_id) = resources::create(
        c.state,
        actor,
        package_id.trim(),
        &c.params.data,
        upload,
        c.lang,
    )
    .await?;
    resource_of(&c, &dataset, &resource_id).await
}

/// `resource_update` (`patch` = false) and `resource_patch`.
async fn resource_change(mut c: Call<'_>, name: &str, patch: bool) -> Result<Value, CkanError> {
    let actor = writer(&c, name)?;
    let id = c.required("id")?;
    let upload = c.params.upload.take();
    let (dataset, resource_id) = resources::update(
        c.state,
        actor,
        id.trim(),
        &c.params.data,
        upload,
        patch,
        c.lang,
    )
    .await?;
    resource_of(&c, &dataset, &resource_id).await
}

pub(super) async fn resource_update(c: Call<'_>) -> Result<Value, CkanError> {
    resource_change(c, "resource_update", false).await
}

pub(super) async fn resource_patch(c: Call<'_>) -> Result<Value, CkanError> {
    resource_change(c, "resource_patch", true).await
}

pub(super) async fn resource_delete(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "resource_delete")?;
    let id = c.required("id")?;
    resources::delete(c.state, actor, id.trim()).await?;
    Ok(Value::Null)
}

async fn resource_of(c: &Call<'_>, dataset: &str, resource_id: &str) -> Result<Value, CkanError> {
    let dict = visible_dataset(c, dataset).await?;
    dict.get("resources")
        .and_then(Value::as_array)
        .and_then(|rs| {
            rs.iter()
                .find(|r| r.get("id").and_then(Value::as_str) == Some(resource_id))
        })
        .cloned()
        .ok_or_else(CkanError::not_found)
}

pub(super) async fn organization_create(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "organization_create")?;
    let o = publishers::create_organization(c.state, actor, &c.params.data).await?;
    let mut d = o.dict();
    set(&mut d, "package_count", json!(0));
    set(&mut d, "users", json!([]));
    set(&mut d, "extras", json!([]));
    Ok(d)
}

/// `organization_update` (`patch` = false) and `organization_patch`.
async fn organization_change(c: Call<'_>, name: &str, patch: bool) -> Result<Value, CkanError> {
    let actor = writer(&c, name)?;
    let id = c.required("id")?;
    let o =
        publishers::update_organization(c.state, actor, id.trim(), &c.params.data, patch).await?;
    Ok(o.dict())
}

pub(super) async fn organization_update(c: Call<'_>) -> Result<Value, CkanError> {
    organization_change(c, "organization_update", false).await
}

pub(super) async fn organization_patch(c: Call<'_>) -> Result<Value, CkanError> {
    organization_change(c, "organization_patch", true).await
}

pub(super) async fn group_create(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "group_create")?;
    let g = publishers::create_group(c.state, actor, &c.params.data).await?;
    let mut d = g.dict();
    set(&mut d, "package_count", json!(0));
    Ok(d)
}
