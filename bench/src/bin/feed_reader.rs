//! One partner following the change feed as fast as it can: pulls `GET /v1/changes` page after
//! page from the start until a page comes back empty. Each page is checked as JSON and split
//! into its changes (as a mirror that stores them does); with `trees`, every change is also
//! parsed into a JSON tree (as a mirror that applies them does), while the next page is asked
//! for. Prints one line of JSON: changes, seconds, changes per second, and the seconds the page
//! requests took. `bench/run` uses it for the feed-throughput figures.
//!
//! `techex-feed-reader <base-url> <bearer-token> [page-size] [trees]`

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;

/// A page split into its changes, each still text.
#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
    next_cursor: Option<String>,
}

struct Feed {
    agent: ureq::Agent,
    base: String,
    authorization: String,
    limit: u32,
}

impl Feed {
    fn page(&self, after: Option<&str>) -> Result<Vec<u8>, String> {
        let mut url = format!("{}/v1/changes?limit={}", self.base, self.limit);
        if let Some(cursor) = after {
            url.push_str("&after=");
            url.push_str(cursor);
        }
        let mut response = self
            .agent
            .get(&url)
            .header("Authorization", &self.authorization)
            .header("Accept-Encoding", "identity")
            .call()
            .map_err(|e| format!("{url}: {e}"))?;
        let length = response.body().content_length().unwrap_or(0);
        let mut body = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
        std::io::Read::read_to_end(&mut response.body_mut().as_reader(), &mut body)
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(body)
    }
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: techex-feed-reader <base-url> <bearer-token> [page-size]";
    let base = args.next().ok_or(usage)?;
    let token = args.next().ok_or(usage)?;
    let limit: u32 = args.next().map_or(Ok(1000), |l| l.parse()).map_err(|e| format!("page size: {e}"))?;
    let trees = args.next().is_some_and(|mode| mode == "trees");
    let feed = Feed { agent: ureq::Agent::new_with_defaults(), base, authorization: format!("Bearer {token}"), limit };
    let started = Instant::now();
    let mut fetching = Duration::ZERO;
    let mut changes = 0_usize;
    let mut body = feed.page(None)?;
    fetching += started.elapsed();
    loop {
        let page: Page = serde_json::from_slice(&body).map_err(|e| format!("page: {e}"))?;
        if page.items.is_empty() {
            break;
        }
        let cursor = page.next_cursor.as_deref().ok_or("a page of changes without next_cursor")?;
        let (next, parsed) = std::thread::scope(|scope| {
            let fetching = scope.spawn(|| {
                let asked = Instant::now();
                feed.page(Some(cursor)).map(|body| (body, asked.elapsed()))
            });
            // Each tree is dropped once built, as a mirror drops each change once applied: held
            // for the whole page, a thousand trees were freed at once, and glibc's consolidation
            // of those frees took a third of the reader's CPU.
            let parsed = if trees {
                page.items
                    .iter()
                    .try_for_each(|change| serde_json::from_str::<serde_json::Value>(change.get()).map(drop))
            } else {
                Ok(())
            };
            (fetching.join().map_err(|_| "the fetching thread panicked".to_owned()), parsed)
        });
        parsed.map_err(|e| format!("change: {e}"))?;
        changes += page.items.len();
        let (next_body, took) = next??;
        fetching += took;
        body = next_body;
    }
    let seconds = started.elapsed().as_secs_f64();
    let per_second = changes as f64 / seconds;
    println!(
        "{}",
        serde_json::json!({"changes": changes, "seconds": seconds, "per_second": per_second, "fetching_seconds": fetching.as_secs_f64()})
    );
    Ok(())
}
