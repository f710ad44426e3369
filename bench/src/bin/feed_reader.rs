//! One partner following the change feed as fast as it can: pulls `GET /v1/changes` page after
//! page from the start until a page comes back empty, parsing every change into a JSON tree as a
//! mirror would before applying it, and prints one line of JSON: changes, seconds, changes per
//! second. `bench/run` uses it for the feed-throughput figure, so that the figure is the hub's
//! and not an interpreter's JSON parser.
//!
//! `techex-feed-reader <base-url> <bearer-token> [page-size]`

use std::time::Instant;

use serde::Deserialize;

#[derive(Deserialize)]
struct Page {
    items: Vec<serde_json::Value>,
    next_cursor: Option<String>,
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: techex-feed-reader <base-url> <bearer-token> [page-size]";
    let base = args.next().ok_or(usage)?;
    let token = args.next().ok_or(usage)?;
    let limit: u32 = args.next().map_or(Ok(1000), |l| l.parse()).map_err(|e| format!("page size: {e}"))?;
    let agent = ureq::Agent::new_with_defaults();
    let authorization = format!("Bearer {token}");
    let (mut after, mut changes) = (None::<String>, 0_usize);
    let started = Instant::now();
    loop {
        let mut url = format!("{base}/v1/changes?limit={limit}");
        if let Some(cursor) = &after {
            url.push_str("&after=");
            url.push_str(cursor);
        }
        let page: Page = agent
            .get(&url)
            .header("Authorization", &authorization)
            .call()
            .map_err(|e| format!("{url}: {e}"))?
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_json()
            .map_err(|e| format!("{url}: {e}"))?;
        if page.items.is_empty() {
            break;
        }
        changes += page.items.len();
        after = page.next_cursor;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{}", serde_json::json!({"changes": changes, "seconds": seconds, "per_second": changes as f64 / seconds}));
    Ok(())
}
