//! Contact imports (admins): a spreadsheet export is uploaded, its columns mapped, and a
//! job on the `routing` queue applies it, reporting progress and a per-row error report.
//!
//! Rules: up to [`MAX_ROWS`] rows a file; phones normalised to E.164 (Brazil's ninth
//! digit); rows with the same number merged into one (later non-empty cells win, tags
//! add up); existing contacts updated, new ones created with origin `import`; mapped tags
//! replace the contact's tags, unknown tag names are created; an empty cell changes
//! nothing. Re-importing the same file changes nothing more.
//!
//! Exactly once in effect: the job re-reads the file and rebuilds the same entries (the
//! parse is deterministic), skips what its checkpoint says is done, and each contact write
//! carries a marker `IMPROW#<import>#<entry>` (not-exists condition) recording its outcome,
//! so a redelivered or crashed job counts each entry once.
//!
//! Access patterns: an import by id (get `IMPORT#<id>`); the account's imports (query prefix
//! `IMPORT#`); its failed rows (query prefix `IMPERR#<id>#`).

use super::contacts::{self, ORIGIN_IMPORT, canonical_wa_id};
use super::model::Contact;
use super::phone;
use crate::accounts::Caller;
use crate::crm::csv_file::{self, CsvError, Table};
use crate::crm::fields::{self, CustomField, Required};
use crate::crm::tags;
use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::jobs::{self, RoutingJob};
use crate::keys;
use crate::ports::table::attr;
use crate::ports::{Condition, Index, Item, Query, SortCondition, TableError, TransactItem};
use crate::record::{concurrent, from_item, query_all, to_item};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// Rows a file may have.
pub const MAX_ROWS: usize = 5_000;
/// Bytes a file may have (5,000 rows of a wide sheet fit comfortably).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Entries applied between checkpoints, and at once within a chunk.
const CHUNK: usize = 250;
const PARALLEL: usize = 16;
/// How long the per-entry markers are kept (a redelivery comes within minutes).
const MARKER_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Read and waiting for its column mapping (`POST .../start`).
    Uploaded,
    Queued,
    Running,
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactImport {
    pub id: String,
    pub account_id: String,
    pub created_by: String,
    pub status: ImportStatus,
    /// `utf-8` or `windows-1252`.
    pub encoding: String,
    /// `,`, `;` or a tab.
    pub separator: String,
    pub columns: Vec<String>,
    /// Up to three rows, to check the mapping against.
    pub sample: Vec<Vec<String>>,
    /// What each column would be read as, guessed from its name: `name`, `phone`,
    /// `email`, `tags`, `origin` or `custom.<key>`.
    pub suggested_mapping: BTreeMap<String, String>,
    /// The mapping the import runs with.
    pub mapping: Option<BTreeMap<String, String>>,
    pub total_rows: u32,
    pub rows_done: u32,
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub failed: u32,
    /// Entries (rows merged by number) applied; the job resumes here.
    #[serde(default)]
    #[schema(ignore)]
    pub checkpoint: u32,
    /// Whether the rows that failed to parse are recorded.
    #[serde(default)]
    #[schema(ignore)]
    pub parse_errors_recorded: bool,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub version: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportList {
    /// Newest first.
    pub items: Vec<ContactImport>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ImportStart {
    /// Column name → `name`, `phone`, `email`, `tags` (names separated by `,` or `;` or
    /// `|`), `origin`, `custom.<key>` or `ignore`. Exactly one column is `phone`; columns
    /// left out are ignored.
    pub mapping: BTreeMap<String, String>,
}

/// What a column is read as.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Name,
    Phone,
    Email,
    Tags,
    Origin,
    Custom(String),
}

impl Target {
    fn parse(text: &str, fields: &[CustomField]) -> ServiceResult<Option<Target>> {
        Ok(Some(match text.trim() {
            "ignore" | "" => return Ok(None),
            "name" => Target::Name,
            "phone" => Target::Phone,
            "email" => Target::Email,
            "tags" => Target::Tags,
            "origin" => Target::Origin,
            other => match other.strip_prefix("custom.") {
                Some(key) if fields.iter().any(|f| f.key == key) => Target::Custom(key.to_owned()),
                _ => {
                    return Err(ServiceError::invalid(format!(
                        "mapping: {other:?} is not name, phone, email, tags, origin, ignore or custom.<an existing field key>"
                    )));
                }
            },
        }))
    }
}

fn guess(column: &str, fields: &[CustomField]) -> Option<String> {
    let c = super::contact_index::fold(column);
    let target = match c.as_str() {
        "nome" | "name" | "nome completo" | "cliente" | "contato" => "name",
        "telefone" | "celular" | "phone" | "whatsapp" | "fone" | "tel" | "numero" | "mobile" => "phone",
        "email" | "e mail" | "mail" => "email",
        "etiquetas" | "etiqueta" | "tags" | "tag" => "tags",
        "origem" | "origin" | "utm source" => "origin",
        _ => {
            return fields
                .iter()
                .find(|f| f.key == c.replace(' ', "_") || super::contact_index::fold(&f.label) == c)
                .map(|f| format!("custom.{}", f.key));
        }
    };
    Some(target.to_owned())
}

fn csv_error(e: CsvError) -> ServiceError {
    ServiceError::invalid(format!("file: {e}"))
}

fn blob_key(account: &str, id: &str) -> String {
    format!("imports/{account}/{id}.csv")
}

pub async fn load(deps: &Deps, account: &str, id: &str) -> ServiceResult<ContactImport> {
    match deps.table.get(&keys::contact_import(account, id)).await? {
        Some(item) => from_item(item),
        None => Err(ServiceError::NotFound("import")),
    }
}

pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<ContactImport> {
    caller.require_admin()?;
    load(deps, &caller.account_id, id).await
}

pub async fn list(deps: &Deps, caller: &Caller) -> ServiceResult<ImportList> {
    caller.require_admin()?;
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::CONTACT_IMPORT_PREFIX.into()));
    let mut items: Vec<ContactImport> = query_all(deps, q).await?;
    items.reverse();
    Ok(ImportList { items })
}

/// A file uploaded straight to storage (`POST /v1/uploads/presign`), read as [`upload`]
/// reads one sent in the request.
pub async fn upload_from(deps: &Deps, caller: &Caller, blob_key: &str) -> ServiceResult<ContactImport> {
    caller.require_admin()?;
    super::uploads::check_stored(deps, &caller.account_id, blob_key).await?;
    let blob = deps.blob.get(blob_key).await?.ok_or(ServiceError::NotFound("upload"))?;
    upload(deps, caller, blob.bytes).await
}

/// Reads an uploaded file (a clear 422 when it cannot be imported) and keeps it for
/// `start`.
pub async fn upload(deps: &Deps, caller: &Caller, bytes: Vec<u8>) -> ServiceResult<ContactImport> {
    caller.require_admin()?;
    if bytes.len() > MAX_BYTES {
        return Err(ServiceError::invalid("file: at most 10 MB"));
    }
    let table = csv_file::read(&bytes, MAX_ROWS).map_err(csv_error)?;
    let fields = fields::list_all(deps, &caller.account_id).await?;
    let id = deps.ids.new_id();
    let import = ContactImport {
        id: id.clone(),
        account_id: caller.account_id.clone(),
        created_by: caller.user_id.clone(),
        status: ImportStatus::Uploaded,
        encoding: table.encoding.to_owned(),
        separator: (table.separator as char).to_string(),
        suggested_mapping: table
            .columns
            .iter()
            .filter_map(|c| guess(c, &fields).map(|t| (c.clone(), t)))
            .collect(),
        columns: table.columns,
        sample: table.rows.iter().take(3).map(|(_, r)| r.clone()).collect(),
        mapping: None,
        total_rows: table.rows.len() as u32,
        rows_done: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        failed: 0,
        checkpoint: 0,
        parse_errors_recorded: false,
        created_at: deps.clock.now(),
        finished_at: None,
        version: 1,
    };
    deps.blob.put(&blob_key(&caller.account_id, &id), bytes, "text/csv").await?;
    let item = to_item(&keys::contact_import(&caller.account_id, &id), &import)?;
    deps.table.put(item, Some(Condition::NotExists)).await?;
    Ok(import)
}

/// Starts an uploaded import with its column mapping (once).
pub async fn start(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    input: ImportStart,
) -> ServiceResult<ContactImport> {
    caller.require_admin()?;
    let mut import = load(deps, &caller.account_id, id).await?;
    if import.status != ImportStatus::Uploaded {
        return Err(ServiceError::conflict("the import has already started"));
    }
    let fields = fields::list_all(deps, &caller.account_id).await?;
    let mut seen: Vec<Target> = Vec::new();
    for (column, target) in &input.mapping {
        if !import.columns.contains(column) {
            return Err(ServiceError::invalid(format!("mapping: the file has no column {column:?}")));
        }
        if let Some(t) = Target::parse(target, &fields)? {
            if seen.contains(&t) {
                return Err(ServiceError::invalid(format!("mapping: two columns are {target}")));
            }
            seen.push(t);
        }
    }
    if !seen.contains(&Target::Phone) {
        return Err(ServiceError::invalid("mapping: one column must be phone"));
    }
    let read = import.version;
    import.mapping = Some(input.mapping);
    import.status = ImportStatus::Queued;
    import.version += 1;
    let item = to_item(&keys::contact_import(&caller.account_id, id), &import)?;
    deps.table.put(item, Some(Condition::version_is(read))).await.map_err(concurrent)?;
    jobs::enqueue_routing(
        deps,
        &RoutingJob::ContactImport { account_id: import.account_id.clone(), import_id: id.to_owned() },
    )
    .await?;
    Ok(import)
}

/// One contact to write: the rows of the file with the same number, merged.
#[derive(Debug, Clone, Default)]
struct Entry {
    rows: Vec<u32>,
    wa_id: String,
    e164: String,
    name: Option<String>,
    email: Option<String>,
    tags: Option<Vec<String>>,
    origin: Option<String>,
    custom: BTreeMap<String, Value>,
}

/// A row that cannot be imported: its number and why.
type RowFailure = (u32, String);

/// The file's entries in first-row order, and the rows that cannot be imported with why.
fn entries(
    table: &Table,
    mapping: &BTreeMap<String, String>,
    fields: &[CustomField],
) -> ServiceResult<(Vec<Entry>, Vec<RowFailure>)> {
    let mut columns: Vec<(usize, Target)> = Vec::new();
    for (column, target) in mapping {
        if let (Some(i), Some(t)) =
            (table.columns.iter().position(|c| c == column), Target::parse(target, fields)?)
        {
            columns.push((i, t));
        }
    }
    let mut out: Vec<Entry> = Vec::new();
    let mut by_number: HashMap<String, usize> = HashMap::new();
    let mut failed = Vec::new();
    'rows: for (line, cells) in &table.rows {
        let mut e = Entry { rows: vec![*line], ..Entry::default() };
        for (i, target) in &columns {
            let cell = cells[*i].trim();
            if cell.is_empty() {
                continue;
            }
            let bad = |why: String| (*line, why);
            match target {
                Target::Phone => match phone::normalize(cell) {
                    Ok(p) => {
                        e.wa_id = canonical_wa_id(&phone::wa_id_of(&p));
                        e.e164 = p;
                    }
                    Err(err) => {
                        failed.push(bad(format!("phone {cell:?}: {err}")));
                        continue 'rows;
                    }
                },
                Target::Name => e.name = Some(cell.split_whitespace().collect::<Vec<_>>().join(" ")),
                Target::Email => match crate::accounts::users::normalize_email(cell) {
                    Ok(m) => e.email = Some(m),
                    Err(_) => {
                        failed.push(bad(format!("email {cell:?} is not an email address")));
                        continue 'rows;
                    }
                },
                Target::Tags => {
                    e.tags = Some(
                        cell.split([',', ';', '|'])
                            .map(str::trim)
                            .filter(|t| !t.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    )
                }
                Target::Origin => e.origin = Some(cell.to_lowercase()),
                Target::Custom(key) => {
                    let field = fields.iter().find(|f| &f.key == key).expect("mapped fields exist");
                    match fields::coerce(field, &Value::String(cell.to_owned())) {
                        Ok(v) => {
                            e.custom.insert(key.clone(), v);
                        }
                        Err(why) => {
                            failed.push(bad(format!("{} ({key}): {why}", field.label)));
                            continue 'rows;
                        }
                    }
                }
            }
        }
        if e.wa_id.is_empty() {
            failed.push((*line, "no phone number".to_owned()));
            continue;
        }
        match by_number.get(&e.wa_id) {
            None => {
                by_number.insert(e.wa_id.clone(), out.len());
                out.push(e);
            }
            Some(&at) => {
                let first = &mut out[at];
                first.rows.extend(e.rows);
                first.name = e.name.or(first.name.take());
                first.email = e.email.or(first.email.take());
                first.origin = e.origin.or(first.origin.take());
                first.custom.extend(e.custom);
                if let Some(more) = e.tags {
                    let tags = first.tags.get_or_insert_with(Vec::new);
                    for t in more {
                        if !tags.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
                            tags.push(t);
                        }
                    }
                }
            }
        }
    }
    Ok((out, failed))
}

/// What applying an entry did (also the index of its counter in a chunk's tally).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
    Failed,
}

impl Outcome {
    const ALL: [Outcome; 4] = [Outcome::Created, Outcome::Updated, Outcome::Unchanged, Outcome::Failed];

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// Runs (or resumes) an import: the `routing` queue's `ContactImport` job.
pub async fn run(deps: &Deps, account: &str, id: &str) -> ServiceResult<()> {
    let mut import = match load(deps, account, id).await {
        Ok(i) => i,
        Err(ServiceError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    if matches!(import.status, ImportStatus::Done | ImportStatus::Uploaded) {
        return Ok(());
    }
    let Some(mapping) = import.mapping.clone() else { return Ok(()) };
    let Some(file) = deps.blob.get(&blob_key(account, id)).await? else {
        return Err(ServiceError::Internal("the import's file is missing".into()));
    };
    let fields = fields::list_all(deps, account).await?;
    let table = csv_file::read(&file.bytes, MAX_ROWS).map_err(csv_error)?;
    let (entries, parse_failures) = entries(&table, &mapping, &fields)?;
    let tag_names: Vec<String> = entries.iter().flat_map(|e| e.tags.iter().flatten().cloned()).collect();
    let tag_ids = tags::ensure_named(deps, account, &tag_names).await?;

    if !import.parse_errors_recorded {
        for (row, why) in &parse_failures {
            record_failure(deps, account, id, *row, why).await?;
        }
        let n = parse_failures.len() as u32;
        import = checkpoint(deps, import, |i| {
            i.status = ImportStatus::Running;
            i.failed += n;
            i.rows_done += n;
            i.parse_errors_recorded = true;
        })
        .await?;
    }
    while (import.checkpoint as usize) < entries.len() {
        let from = import.checkpoint as usize;
        let chunk = &entries[from..(from + CHUNK).min(entries.len())];
        let entries = &entries;
        let (fields, tag_ids) = (&fields, &tag_ids);
        let outcomes: Vec<ServiceResult<Outcome>> = futures::stream::iter(from..from + chunk.len())
            .map(|i| apply(deps, account, id, i, &entries[i], fields, tag_ids))
            .buffered(PARALLEL)
            .collect()
            .await;
        let mut counts = [0u32; 4];
        let mut rows = 0;
        for (outcome, e) in outcomes.into_iter().zip(chunk) {
            counts[outcome? as usize] += 1;
            rows += e.rows.len() as u32;
        }
        let done = (from + chunk.len()) as u32;
        import = checkpoint(deps, import, |i| {
            if i.checkpoint as usize == from {
                i.checkpoint = done;
                i.created += counts[Outcome::Created as usize];
                i.updated += counts[Outcome::Updated as usize];
                i.unchanged += counts[Outcome::Unchanged as usize];
                i.failed += counts[Outcome::Failed as usize];
                i.rows_done += rows;
            }
        })
        .await?;
    }
    let now = deps.clock.now();
    checkpoint(deps, import, |i| {
        i.status = ImportStatus::Done;
        i.finished_at.get_or_insert(now);
    })
    .await?;
    Ok(())
}

/// Saves a change of the import's progress; on a concurrent change (another worker),
/// re-reads it and applies `change` to the fresh copy (each change checks what it needs).
async fn checkpoint(
    deps: &Deps,
    mut import: ContactImport,
    change: impl Fn(&mut ContactImport),
) -> ServiceResult<ContactImport> {
    for _ in 0..5 {
        let read = import.version;
        change(&mut import);
        import.version = read + 1;
        let item = to_item(&keys::contact_import(&import.account_id, &import.id), &import)?;
        match deps.table.put(item, Some(Condition::version_is(read))).await {
            Ok(()) => return Ok(import),
            Err(TableError::ConditionFailed) => import = load(deps, &import.account_id, &import.id).await?,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("the import kept changing"))
}

async fn record_failure(deps: &Deps, account: &str, id: &str, row: u32, why: &str) -> ServiceResult<()> {
    let key = keys::import_error(account, id, row);
    let item = Item::from([
        ("pk".to_owned(), attr::s(key.pk)),
        ("sk".to_owned(), attr::s(key.sk)),
        ("row".to_owned(), attr::n(row)),
        ("error".to_owned(), attr::s(why)),
    ]);
    Ok(deps.table.put(item, None).await?)
}

fn marker(deps: &Deps, account: &str, id: &str, entry: usize, outcome: Outcome) -> TransactItem {
    let key = keys::import_marker(account, id, entry as u32);
    let ttl = deps.clock.now().timestamp() + MARKER_TTL_SECS;
    TransactItem::Put {
        item: Item::from([
            ("pk".to_owned(), attr::s(key.pk)),
            ("sk".to_owned(), attr::s(key.sk)),
            ("outcome".to_owned(), attr::s(outcome.as_str())),
            (crate::ports::table::TTL.to_owned(), attr::n(ttl)),
        ]),
        condition: Some(Condition::NotExists),
    }
}

/// The outcome an earlier run recorded for this entry, if it wrote it.
async fn recorded(deps: &Deps, account: &str, id: &str, entry: usize) -> ServiceResult<Option<Outcome>> {
    let Some(item) = deps.table.get(&keys::import_marker(account, id, entry as u32)).await? else {
        return Ok(None);
    };
    Ok(attr::get_s(&item, "outcome").and_then(Outcome::parse))
}

/// Applies one entry (once in effect: see the module's notes).
async fn apply(
    deps: &Deps,
    account: &str,
    id: &str,
    index: usize,
    e: &Entry,
    fields: &[CustomField],
    tag_ids: &HashMap<String, String>,
) -> ServiceResult<Outcome> {
    let tags: Option<Vec<String>> = e
        .tags
        .as_ref()
        .map(|names| names.iter().filter_map(|n| tag_ids.get(&n.to_lowercase()).cloned()).collect());
    let fail = |why: String| async move {
        record_failure(deps, account, id, e.rows[0], &why).await?;
        Ok(Outcome::Failed)
    };
    for _ in 0..3 {
        let existing = contacts::by_phone(deps, account, &e.e164).await?;
        let (before, mut contact, outcome) = match existing {
            Some(c) => (Some(c.clone()), c, Outcome::Updated),
            None => {
                if contacts::number_blocked(deps, account, &e.wa_id).await? {
                    return fail("the number was erased or blocked".into()).await;
                }
                let c = Contact {
                    phone: Some(e.e164.clone()),
                    wa_id: Some(phone::wa_id_of(&e.e164)),
                    ..contacts::fresh(deps, account, ORIGIN_IMPORT)
                };
                (None, c, Outcome::Created)
            }
        };
        if let Some(n) = &e.name {
            contact.name = Some(n.clone());
        }
        if let Some(m) = &e.email {
            contact.email = Some(m.clone());
        }
        if let Some(o) = &e.origin {
            contact.origin = Some(o.clone());
        }
        if let Some(t) = &tags {
            contact.tags = t.clone();
            contact.tags.truncate(tags::MAX_TAGS_PER_CONTACT);
        }
        let required = if before.is_none() { Required::Enforce } else { Required::Skip };
        contact.custom = match fields::check(fields, &contact.custom, &e.custom, required) {
            Ok(c) => c,
            Err(err) => return fail(err.to_string()).await,
        };
        let result = match &before {
            Some(b) if *b == contact => {
                return Ok(recorded(deps, account, id, index).await?.unwrap_or(Outcome::Unchanged));
            }
            Some(b) => {
                contacts::save(deps, b, &mut contact, vec![marker(deps, account, id, index, outcome)]).await
            }
            None => contacts::insert(deps, &contact, vec![marker(deps, account, id, index, outcome)]).await,
        };
        match result {
            Ok(()) => return Ok(outcome),
            Err(ServiceError::Conflict(_)) => {
                // The marker exists (an earlier run wrote this entry) or the contact
                // changed meanwhile: the marker tells which.
                if let Some(done) = recorded(deps, account, id, index).await? {
                    return Ok(done);
                }
                continue;
            }
            Err(err) => return Err(err),
        }
    }
    Err(ServiceError::conflict("a contact kept changing during the import; run it again"))
}

/// The numbers (E.164) of a finished import's file, in file order: a campaign's audience.
pub async fn numbers(deps: &Deps, account: &str, id: &str) -> ServiceResult<Vec<String>> {
    let import = load(deps, account, id).await?;
    if import.status != ImportStatus::Done {
        return Err(ServiceError::invalid("the import has not finished"));
    }
    let Some(mapping) = import.mapping else { return Ok(Vec::new()) };
    let Some(file) = deps.blob.get(&blob_key(account, id)).await? else {
        return Err(ServiceError::invalid("the import's file is no longer kept"));
    };
    let fields = fields::list_all(deps, account).await?;
    let table = csv_file::read(&file.bytes, MAX_ROWS).map_err(csv_error)?;
    let (entries, _) = entries(&table, &mapping, &fields)?;
    Ok(entries.into_iter().map(|e| e.e164).collect())
}

/// The rows that failed, as CSV: row number, error, then the row's cells (UTF-8 with a BOM, the
/// file's separator).
pub async fn error_report(deps: &Deps, caller: &Caller, id: &str) -> ServiceResult<Vec<u8>> {
    caller.require_admin()?;
    let import = load(deps, &caller.account_id, id).await?;
    let q = Query::partition(Index::Primary, keys::account_pk(&caller.account_id))
        .sort(SortCondition::BeginsWith(keys::import_errors_prefix(id)));
    let failures: Vec<Item> = crate::record::query_all_items(deps, q).await?;
    let file = deps.blob.get(&blob_key(&caller.account_id, id)).await?;
    let table = file.and_then(|f| csv_file::read(&f.bytes, MAX_ROWS).ok());
    let mut header = vec!["linha".to_owned(), "erro".to_owned()];
    header.extend(import.columns.iter().cloned());
    let rows: Vec<Vec<String>> = failures
        .iter()
        .map(|f| {
            let row = attr::get_n(f, "row").unwrap_or(0) as u32;
            let mut out = vec![row.to_string(), attr::get_s(f, "error").unwrap_or_default().to_owned()];
            if let Some(t) = &table
                && let Some((_, cells)) = t.rows.iter().find(|(line, _)| *line == row)
            {
                out.extend(cells.iter().cloned());
            }
            out
        })
        .collect();
    let separator = import.separator.bytes().next().unwrap_or(b',');
    Ok(csv_file::write(separator, &header, &rows))
}
