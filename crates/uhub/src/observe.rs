//! The per-request observation hook: the client reports every HTTP request it makes
//! (retries included) to an optional [`RequestObserver`], so that metrics can be
//! collected without the client knowing about any metrics library.

use std::time::Duration;

use super::error::ErrorKind;

/// What happened to one HTTP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestOutcome<'a> {
    /// The API action, e.g. `GetImageTag`.
    pub action: &'a str,
    /// 0 for the first attempt of a call, then 1, 2, ... for its retries.
    pub attempt: u32,
    /// The HTTP status, when a response arrived.
    pub http_status: Option<u16>,
    /// The response's RetCode, when one was decoded (0 on success).
    pub ret_code: Option<i64>,
    /// The error kind, or `None` on success.
    pub error: Option<ErrorKind>,
    /// From sending the request until its body was read and decoded.
    pub latency: Duration,
    /// How long the request waited for the client's rate limiter before it was sent.
    pub rate_limit_wait: Duration,
}

impl RequestOutcome<'_> {
    /// `"success"` or the error kind label, e.g. for a `result` metrics label.
    pub fn result_label(&self) -> &'static str {
        self.error.map_or("success", Into::into)
    }
}

/// Receives one [`RequestOutcome`] per HTTP request. Called on the request's task, so
/// it must be quick and must not block. Closures `Fn(&RequestOutcome)` implement it.
pub trait RequestObserver: Send + Sync + 'static {
    /// Records one finished request.
    fn observe(&self, outcome: &RequestOutcome<'_>);
}

impl<F> RequestObserver for F
where
    F: Fn(&RequestOutcome<'_>) + Send + Sync + 'static,
{
    fn observe(&self, outcome: &RequestOutcome<'_>) {
        self(outcome)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn closures_are_observers_and_labels_name_the_result() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let observer: Arc<dyn RequestObserver> = Arc::new(move |o: &RequestOutcome<'_>| {
            sink.lock().unwrap().push(o.result_label());
        });
        let mut outcome = RequestOutcome {
            action: "GetImageTag",
            attempt: 0,
            http_status: Some(200),
            ret_code: Some(0),
            error: None,
            latency: Duration::from_millis(3),
            rate_limit_wait: Duration::ZERO,
        };
        observer.observe(&outcome);
        outcome.error = Some(ErrorKind::Throttled);
        observer.observe(&outcome);
        assert_eq!(*seen.lock().unwrap(), ["success", "throttled"]);
    }
}
