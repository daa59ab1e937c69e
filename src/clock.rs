//! Time helpers shared by the prober and the runner.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Sleeps until `at`, or forever when there is nothing to wait for: handy as a `select!` arm.
pub async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Accepts `90`, `0.5`, `90s`, `2m`, `500ms`: a bare number is seconds, as people type it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) => Duration::try_from_secs_f64(secs).map_err(|e| format!("{text:?}: {e}")),
        Err(_) => humantime::parse_duration(text)
            .map_err(|e| format!("{text:?} is not a duration ({e}); try 30s, 2m or 500ms")),
    }
}

/// Accepts `5/s`, `30/m`, `0.5/s`, `1000/h`: arrivals per unit of time, returned per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let bad = || format!("{text:?} is not a rate; write it like 5/s, 30/m or 100/h");
    let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
    let count: f64 = count.trim().parse().map_err(|_| bad())?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => 1.0,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(bad()),
    };
    if !(count.is_finite() && count > 0.0) {
        return Err(format!("{text:?}: the rate must be above zero"));
    }
    Ok(count / per)
}
