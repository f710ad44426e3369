//! `/v1/export/...`: every public record of a resource in one answer, streamed in batches, so
//! that a partner can take a whole copy and then follow the change feed.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use techex_domain::{Message, RestorePeriod, Text, ValidationErrors};
use techex_persistence::centers::{self, CenterFilter};
use techex_persistence::listings::{self, ListingFilter};
use techex_persistence::{Db, DbConn, StoreError, change_log, organizations};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::{ApiError, Problem, QueryRefused};
use crate::query::Query;
use crate::routes::centers_dto::CenterResponse;
use crate::routes::changes::encode_position;
use crate::routes::listings_dto::ListingResponse;
use crate::routes::organizations_dto::OrganizationResponse;

/// Records read from the database at a time by default: what an export holds in memory.
const BATCH: i64 = 500;
/// Batches waiting for a slow reader before the export pauses.
const BUFFERED_BATCHES: usize = 2;
/// How long a caller turned away should wait.
const BUSY_RETRY_SECONDS: u64 = 10;

/// How many exports a server runs at once (each streams the whole data set, so an anonymous
/// caller cannot start more), and how many records each reads at a time.
#[derive(Clone)]
pub struct ExportSlots {
    slots: Arc<Semaphore>,
    batch: i64,
}

impl ExportSlots {
    pub fn new(slots: usize, batch: i64) -> Self {
        ExportSlots { slots: Arc::new(Semaphore::new(slots)), batch }
    }

    fn take(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.slots.clone().try_acquire_owned().map_err(|_| ApiError::ExportsBusy { retry_after: BUSY_RETRY_SECONDS })
    }
}

impl Default for ExportSlots {
    fn default() -> Self {
        ExportSlots::new(2, BATCH)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    NdJson,
    Csv,
}

/// How to write the export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `ndjson` (the default): one JSON record per line, as `GET` shows it to an anonymous
    /// caller. `csv`: one line per record with the columns named in the first line, UTF-8 with a
    /// byte-order mark so that spreadsheet programs read Vietnamese correctly; lists are joined
    /// with `;`.
    #[param(value_type = Option<ExportFormat>, inline)]
    format: Option<String>,
}

/// The formats of an export.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // documents the vocabulary; the values are read as text
enum ExportFormat {
    Ndjson,
    Csv,
}

impl ExportParams {
    fn format(&self) -> Result<Format, ApiError> {
        match self.format.as_deref() {
            None | Some("ndjson") => Ok(Format::NdJson),
            Some("csv") => Ok(Format::Csv),
            Some(_) => Err(ApiError::InvalidQuery(ValidationErrors::single(
                "format",
                Message::new(Text::OneOf).with("allowed", "ndjson, csv"),
            ))),
        }
    }
}

/// A streamed export: as long as the data set.
pub struct ExportBody;

impl utoipa::PartialSchema for ExportBody {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Every record, one per line: newline-delimited JSON, or CSV with a header line. Streamed; its \
                 length grows with the data set.",
            ))
            .into()
    }
}

impl ToSchema for ExportBody {}

/// Reads the records after an id, at most so many, as seen at an instant.
type ReadBatch = fn(&mut DbConn, Option<Uuid>, i64, DateTime<Utc>, RestorePeriod, Format) -> Result<Batch, StoreError>;

/// Records read, to be written.
struct Batch {
    /// The id of the last record, where the next batch starts; none when there were none.
    last: Option<Uuid>,
    records: usize,
    /// Represents and writes the records: run on another thread than the reading of the next
    /// batch.
    write: Box<dyn FnOnce() -> Bytes + Send>,
}

impl Batch {
    /// `records` as read, each to be represented as `represent` says when written.
    fn of<R, T>(
        exported: &'static Exported,
        format: Format,
        records: Vec<(Uuid, R)>,
        represent: impl Fn(R) -> T + Send + 'static,
    ) -> Batch
    where
        R: Send + 'static,
        T: serde::Serialize,
    {
        Batch {
            last: records.last().map(|(id, _)| *id),
            records: records.len(),
            write: Box::new(move || {
                let records: Vec<(Uuid, T)> = records.into_iter().map(|(id, record)| (id, represent(record))).collect();
                render(exported, format, &records)
            }),
        }
    }
}

/// One kind of record to export: its columns in CSV (name and JSON pointer into the record)
/// and how to read a batch after an id.
struct Exported {
    name: &'static str,
    columns: &'static [(&'static str, &'static str)],
    batch: ReadBatch,
}

const LISTINGS: Exported = Exported {
    name: "listings",
    columns: &[
        ("id", "/id"),
        ("kind", "/kind"),
        ("status", "/status"),
        ("title_vi", "/title/vi"),
        ("title_en", "/title/en"),
        ("summary_vi", "/summary/vi"),
        ("summary_en", "/summary/en"),
        ("keywords", "/keywords"),
        ("field_codes", "/field_codes"),
        ("trl", "/trl"),
        ("ip_status", "/ip_status"),
        ("transfer_forms", "/transfer_forms"),
        ("transfer_methods", "/transfer_methods"),
        ("rights", "/rights"),
        ("price_amount", "/price/amount"),
        ("price_currency", "/price/currency"),
        ("price_negotiable", "/price/negotiable"),
        ("province", "/province"),
        ("province_as_sent", "/province_as_sent"),
        ("owner_name", "/owner/name"),
        ("owner_organization_id", "/owner/organization_id"),
        ("publisher", "/publisher"),
        ("source_exchange", "/source/exchange"),
        ("source_external_id", "/source/external_id"),
        ("version", "/version"),
        ("published_at", "/published_at"),
        ("updated_at", "/updated_at"),
        ("expires_at", "/expires_at"),
    ],
    batch: listing_batch,
};

const ORGANIZATIONS: Exported = Exported {
    name: "organizations",
    columns: &[
        ("id", "/id"),
        ("kind", "/kind"),
        ("name_vi", "/name/vi"),
        ("name_en", "/name/en"),
        ("province", "/province"),
        ("province_as_sent", "/province_as_sent"),
        ("tax_code", "/tax_code"),
        ("website", "/contact/website"),
        ("email", "/contact/email"),
        ("phone", "/contact/phone"),
        ("address", "/contact/address"),
        ("source_exchanges", "/source_exchanges"),
        ("version", "/version"),
        ("created_at", "/created_at"),
        ("updated_at", "/updated_at"),
    ],
    batch: organization_batch,
};

const CENTERS: Exported = Exported {
    name: "centers",
    columns: &[
        ("id", "/id"),
        ("kind", "/kind"),
        ("name_vi", "/name/vi"),
        ("name_en", "/name/en"),
        ("organization_id", "/organization_id"),
        ("province", "/province"),
        ("province_as_sent", "/province_as_sent"),
        ("address", "/address"),
        ("latitude", "/latitude"),
        ("longitude", "/longitude"),
        ("phone", "/contact/phone"),
        ("email", "/contact/email"),
        ("website", "/contact/website"),
        ("services", "/services"),
        ("field_codes", "/field_codes"),
        ("opening_hours", "/opening_hours"),
        ("version", "/version"),
        ("updated_at", "/updated_at"),
    ],
    batch: center_batch,
};

/// Published listings, newest first, as an anonymous caller sees them (no contacts).
fn listing_batch(
    conn: &mut DbConn,
    after: Option<Uuid>,
    limit: i64,
    now: DateTime<Utc>,
    period: RestorePeriod,
    format: Format,
) -> Result<Batch, StoreError> {
    let filter = ListingFilter::published(after.map(techex_domain::ListingId), limit, now);
    let records: Vec<_> =
        listings::list(conn, &filter)?.into_iter().map(|(listing, _)| (listing.id.0, listing)).collect();
    Ok(Batch::of(&LISTINGS, format, records, move |listing| ListingResponse::seen_at(listing, &None, now, period)))
}

fn organization_batch(
    conn: &mut DbConn,
    after: Option<Uuid>,
    limit: i64,
    _: DateTime<Utc>,
    _: RestorePeriod,
    format: Format,
) -> Result<Batch, StoreError> {
    let records: Vec<_> =
        organizations::list(conn, after, limit)?.iter().map(|org| (org.id, OrganizationResponse::from(org))).collect();
    Ok(Batch::of(&ORGANIZATIONS, format, records, std::convert::identity))
}

fn center_batch(
    conn: &mut DbConn,
    after: Option<Uuid>,
    limit: i64,
    _: DateTime<Utc>,
    _: RestorePeriod,
    format: Format,
) -> Result<Batch, StoreError> {
    let records: Vec<_> = centers::list(conn, &CenterFilter::default(), after, limit)?
        .iter()
        .map(|center| (center.id, CenterResponse::from(center)))
        .collect();
    Ok(Batch::of(&CENTERS, format, records, std::convert::identity))
}

/// One value as a CSV cell: text as it is, lists joined with `;`, nothing for null.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items.iter().map(|item| cell(Some(item))).collect::<Vec<_>>().join(";"),
        Some(other) => other.to_string(),
    }
}

fn csv_lines(rows: impl IntoIterator<Item = Vec<String>>) -> Result<Bytes, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for row in rows {
        writer.write_record(row)?;
    }
    writer.into_inner().map(Bytes::from).map_err(|e| e.into_error().into())
}

/// NDJSON is written straight from each representation, its members in their declared order:
/// going through a `serde_json::Value` tree first (members sorted, as `GET` answers) was about
/// half of an export's CPU. CSV picks its columns from such a tree.
fn render<T: serde::Serialize>(exported: &Exported, format: Format, records: &[(Uuid, T)]) -> Bytes {
    match format {
        Format::NdJson => {
            let mut out = Vec::new();
            for (_, record) in records {
                serde_json::to_writer(&mut out, record).expect("representations serialize");
                out.push(b'\n');
            }
            Bytes::from(out)
        }
        Format::Csv => {
            let rows = records.iter().map(|(_, record)| {
                let record = serde_json::to_value(record).expect("representations serialize");
                exported.columns.iter().map(|(_, pointer)| cell(record.pointer(pointer))).collect()
            });
            csv_lines(rows).expect("writing CSV to memory cannot fail")
        }
    }
}

/// Streams `exported` batch by batch: a connection is held only while a batch is read, and a
/// slow reader pauses the export rather than filling memory.
async fn export(
    exported: &'static Exported,
    db: web::Data<Db>,
    slots: web::Data<ExportSlots>,
    params: ExportParams,
    now: DateTime<Utc>,
    period: RestorePeriod,
) -> Result<HttpResponse, ApiError> {
    let format = params.format()?;
    let permit = slots.take()?;
    let batch_size = slots.batch;
    let pool = db.get_ref().clone();
    let start = web::block(move || -> Result<_, StoreError> { change_log::feed_end(&mut *pool.conn()?) }).await??;
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(BUFFERED_BATCHES);
    if format == Format::Csv {
        let mut head = "\u{FEFF}".as_bytes().to_vec();
        head.extend_from_slice(
            &csv_lines([exported.columns.iter().map(|(name, _)| (*name).to_owned()).collect()]).expect("in memory"),
        );
        sender.try_send(Ok(Bytes::from(head))).expect("the channel has room for the header");
    }
    let pool = db.get_ref().clone();
    actix_web::rt::task::spawn_blocking(move || {
        // The next batch is read while this one is written: the database and the JSON each keep
        // a core busy (one after the other, the export of 1,000,000 listings spent half of its
        // time in each). At most one batch waits between them.
        let (to_writer, read) = std::sync::mpsc::sync_channel::<Option<Batch>>(1);
        std::thread::scope(|scope| {
            // Owned here, so the channel closes (and the writer ends) when the reading does.
            let to_writer = to_writer;
            scope.spawn(move || {
                // Given back before `sender` (captured) is dropped, which ends the response: a
                // caller that starts its next export once this one has ended finds the slot free.
                let _permit = permit;
                for batch in read {
                    let chunk =
                        batch.map(|batch| (batch.write)()).ok_or_else(|| std::io::Error::other("the export stopped"));
                    let stopped = chunk.is_err();
                    if sender.blocking_send(chunk).is_err() || stopped {
                        return; // the caller left, or the reading failed
                    }
                }
            });
            let mut after = None;
            loop {
                let batch = pool
                    .conn()
                    .and_then(|mut conn| (exported.batch)(&mut conn, after, batch_size, now, period, format));
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(e) => {
                        log::error!("export of {} stopped: {e}", exported.name);
                        let _ = to_writer.send(None);
                        return;
                    }
                };
                let Some(last) = batch.last else { return };
                after = Some(last);
                let full = batch.records as i64 == batch_size;
                if to_writer.send(Some(batch)).is_err() || !full {
                    return; // the writer stopped (the caller left), or that was the last batch
                }
            }
        });
    });
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let (content_type, extension) = match format {
        Format::NdJson => ("application/x-ndjson", "ndjson"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"techex-{}.{extension}\"", exported.name),
        ))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((CHANGES_CURSOR, encode_position(start)))
        .streaming(body))
}

/// The header naming where the change feed takes over from an export.
pub const CHANGES_CURSOR: &str = "Changes-Cursor";
/// The longest `Content-Disposition` of an export: `attachment; filename="techex-organizations.ndjson"`.
pub const CONTENT_DISPOSITION_MAX: usize = 60;

/// Declares one export endpoint; they differ only in what they export and its documentation.
macro_rules! export_endpoint {
    ($name:ident, $path:literal, $exported:expr, $summary:literal, $description:literal, $what:literal) => {
        #[doc = $summary]
        #[utoipa::path(
            tag = "changes",
            operation_id = stringify!($name),
            description = $description,
            params(ExportParams),
            security((), ("oauth2" = [])),
            responses(
                (status = 200, description = $what, content((ExportBody = "application/x-ndjson"), (ExportBody = "text/csv")),
                 headers(("Changes-Cursor" = String, description = "Where to follow the change feed from after this export"),
                         ("Content-Disposition" = String, description = "A file name for the download"))),
                QueryRefused,
                (status = 503, description = "As many exports run as the server allows (`exports_busy`); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
            )
        )]
        #[get($path)]
        pub async fn $name(
            db: web::Data<Db>,
            slots: web::Data<ExportSlots>,
            params: Query<ExportParams>,
            clock: web::Data<Clock>,
            period: web::Data<RestorePeriod>,
        ) -> Result<HttpResponse, ApiError> {
            export(&$exported, db, slots, params.0, clock.now(), **period).await
        }
    };
}

export_endpoint!(
    export_listings,
    "/export/listings",
    LISTINGS,
    "Export every published listing.",
    "One answer with every published listing as an anonymous caller sees it (no contacts), newest first, streamed. `Changes-Cursor` is a position of the change feed taken before the export began: follow `GET /v1/changes?after=<it>` to stay current; changes the export already holds may come again there, none is missed. A server runs a few exports at once; beyond them the answer is 503 `exports_busy` with `Retry-After`.",
    "Every published listing"
);
export_endpoint!(
    export_organizations,
    "/export/organizations",
    ORGANIZATIONS,
    "Export every organization.",
    "One answer with every organization, in the order they were registered, streamed; with `Changes-Cursor` as for listings.",
    "Every organization"
);
export_endpoint!(
    export_centers,
    "/export/centers",
    CENTERS,
    "Export the directory of application centers.",
    "One answer with every center, in the order they were registered, streamed; with `Changes-Cursor` as for listings.",
    "Every application center"
);

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_listings).service(export_organizations).service(export_centers);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_flatten_lists_and_leave_nulls_empty() {
        assert_eq!(cell(Some(&json!(["206", "401"]))), "206;401");
        assert_eq!(cell(Some(&json!(null))), "");
        assert_eq!(cell(None), "");
        assert_eq!(cell(Some(&json!(7))), "7");
        assert_eq!(cell(Some(&json!("Máy sấy, \"mặt trời\""))), "Máy sấy, \"mặt trời\"");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let line = csv_lines([vec!["a,b".to_owned(), "say \"hi\"".to_owned(), "x\ny".to_owned(), "plain".to_owned()]])
            .unwrap();
        assert_eq!(&line[..], "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",plain\r\n".as_bytes());
    }
}
