//! Japan's standard open datasets for local governments
//! (自治体標準オープンデータセット, デジタル庁): the column templates of the
//! datasets offices publish most, and the validation of a CSV file
//! against one of them.
//!
//! The columns follow the Digital Agency's current definition (2024
//! 正式版): the managing body (`全国地方公共団体コード`, `ID`,
//! `地方公共団体名`), the name, the address split as in the Address Base
//! Registry (`所在地_連結表記`, `所在地_都道府県` … `建物名等(方書)`),
//! coordinates and the dataset's own items. Files in the older
//! recommended-dataset layout (推奨データセット, 内閣官房 IT室 2019–2021)
//! are accepted too: their header names (`都道府県コード又は市区町村コード`,
//! `NO`, `住所`, `方書`, `名称カナ` …) are aliases of the current ones, and
//! `都道府県名` + `市区町村名` are joined into `地方公共団体名`.
//!
//! In the definition each item is 必須 (◎), 推奨 (○) or optional. A
//! [`Column`]'s `required` is ◎, plus `全国地方公共団体コード`, which this
//! catalogue needs to name the NGSI entities (the definition marks it ○,
//! since a body that is not a local government gives its 法人番号
//! instead); `recommended` is ○.
//!
//! Validation maps the header row by exact name, NFKC-normalised name,
//! the ASCII attribute name or an alias; extra columns are ignored. Each
//! cell is checked by its [`ColumnKind`] and normalised (full-width digits
//! and letters folded, times as `HH:MM`, dates as `YYYY-MM-DD`, weekdays as
//! `月,火,水`). Every problem is reported with its line and column, up to
//! [`MAX_ERRORS`]; the file is never partly accepted.
//!
//! Domain logic, pure: the resource service checks uploads with it, the
//! NGSI entities are built from its tables and the pages describe its
//! templates.
//!
//! - `schema`: the types of a template and of a validated table;
//! - `datasets`: the templates themselves;
//! - `validate`: a CSV file against a template;
//! - `cells`: one cell by its column's kind.

mod cells;
mod datasets;
mod schema;
mod validate;

#[cfg(test)]
mod line_tests;
#[cfg(test)]
mod tests;

pub use datasets::{BODIK_TAG, CHILDCARE_KINDS, sample_csv, template, templates};
pub use schema::{Column, ColumnKind, Table, Template};
pub use validate::{MAX_CELL_CHARS, MAX_ERRORS, validate};
