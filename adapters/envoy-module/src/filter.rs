//! The filter's logic, in safe code: a configuration per Envoy filter config, a [`Filter`] per
//! stream. Read the request headers once, select the policy, decide; answer or forward; write
//! the plan onto the response. The core does every check.

use polycors::adapter::{FieldValue, HeaderField, ResponseHeaders, RouteNeeds};
use polycors::counters::Counter;
use polycors::decision::{Action, Forwarded};
use polycors::{RequestView, RouteInfo, Scope, ScopedPolicies};

use crate::abi::{ConfigHandle, LogLevel, Stream, log, log_enabled};

/// One Envoy filter configuration: the policies, and the ids of the decision counters.
pub(crate) struct ModuleConfig {
    policies: ScopedPolicies,
    /// What selecting a policy reads (computed once: the request path only reads it).
    needs: RouteNeeds,
    counters: Option<[usize; Counter::ALL.len()]>,
}

/// Loads a configuration (the plugin's JSON), logging every error and warning; `None` if it
/// is invalid.
pub(crate) fn new_config(handle: &ConfigHandle, json: &[u8]) -> Option<ModuleConfig> {
    let policies =
        match ScopedPolicies::from_json(json).and_then(ScopedPolicies::refuse_origin_predicates) {
            Ok(policies) => policies,
            Err(invalid) => {
                for error in invalid.errors() {
                    log(
                        LogLevel::Error,
                        &format!("polycors: invalid configuration: {error}"),
                    );
                }
                return None;
            }
        };
    for (rule, warning) in policies.warnings() {
        let scope = rule.map_or("global".to_owned(), |r| format!("_rules_[{r}]"));
        log(LogLevel::Warn, &format!("polycors: {scope}: {warning}"));
    }
    let mut ids = [0; Counter::ALL.len()];
    let mut counted = true;
    for counter in Counter::ALL {
        match handle.define_counter(&counter.name()) {
            Some(id) => ids[counter.index()] = id,
            None => counted = false,
        }
    }
    if !counted {
        log(
            LogLevel::Warn,
            "polycors: Envoy refused the decision counters; decisions are not counted",
        );
    }
    Some(ModuleConfig {
        needs: policies.route_needs(),
        policies,
        counters: counted.then_some(ids),
    })
}

/// Where a stream stands.
enum State {
    /// The request headers have not been seen, or no policy applies.
    Waiting,
    /// Forwarded: the response gets the plan's headers.
    Forwarded {
        scope: Scope,
        forwarded: Forwarded,
        origin: KeptOrigin,
        /// The start of the debug log line, finished with the response's status.
        log_line: Option<String>,
    },
    /// Answered locally, or done.
    Done,
}

/// What `on_request_headers` tells Envoy.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HeadersStatus {
    /// Let the request through.
    Continue = 0,
    /// Stop: the filter answered.
    Stop = 1,
}

/// One stream's filter.
pub(crate) struct Filter {
    /// Envoy destroys a configuration only after every filter it created.
    config: &'static ModuleConfig,
    state: State,
}

impl Filter {
    pub(crate) fn new(config: &'static ModuleConfig) -> Self {
        Self {
            config,
            state: State::Waiting,
        }
    }

    /// After a panic: the stream gets nothing more from this filter.
    pub(crate) fn fail(&mut self) {
        self.state = State::Done;
    }

    fn count(&self, stream: &Stream, counter: Counter) {
        if let Some(ids) = &self.config.counters {
            stream.increment_counter(ids[counter.index()]);
        }
    }

    pub(crate) fn on_request_headers(&mut self, stream: &Stream) -> HeadersStatus {
        let config = self.config;
        let lines = stream.request_headers();
        let mut view = RequestView::new(b"");
        let mut origin: Option<&[u8]> = None;
        let mut authority = None;
        let mut path: &[u8] = b"";
        for (name, value) in lines.iter() {
            #[cfg(feature = "test-panic")]
            if name == b"x-polycors-test-panic" {
                panic!("x-polycors-test-panic");
            }
            view.add_header(name, value);
            match name {
                b"origin" => origin = origin.or(Some(value)),
                b":authority" => authority = Some(value),
                b":path" => path = value,
                _ => {}
            }
        }
        // `METHOD TARGET origin=ORIGIN -> DECISION [POLICY] -> STATUS (REJECTION)`, the line
        // every adapter's `polycors serve` log shows.
        let mut log_line = log_enabled(LogLevel::Debug).then(|| {
            format!(
                "polycors request: {} {} origin={} -> ",
                view.method().escape_ascii(),
                path.escape_ascii(),
                origin.map_or("-".into(), |o| o.escape_ascii().to_string()),
            )
        });
        let needs = config.needs;
        let route = RouteInfo {
            route_name: needs.route_name.then(|| stream.route_name()).flatten(),
            authority: authority.filter(|_| needs.authority),
            cluster_name: needs.cluster_name.then(|| stream.cluster_name()).flatten(),
        };
        let Some((scope, policy)) = config.policies.select_scoped(&route) else {
            self.count(stream, Counter::NoPolicy);
            if let Some(mut line) = log_line {
                line.push_str("no policy");
                log(LogLevel::Debug, &line);
            }
            return HeadersStatus::Continue;
        };
        let decision = policy.evaluate(&view);
        let (outcome, reason) = Counter::for_verdict(decision.verdict());
        self.count(stream, outcome);
        if let Some(reason) = reason {
            self.count(stream, reason);
        }
        if let Some(line) = &mut log_line {
            line.push_str(&format!("{} [{scope}]", decision.verdict()));
        }
        match decision.action() {
            Action::Answer(answer) => {
                let status = answer.status.code();
                let body = answer.body.as_bytes();
                let mut headers = AnswerHeaders::new(policy, decision.origin());
                decision.write_headers(&mut headers);
                let (mut status_text, mut length) = ([0; 20], [0; 20]);
                let status_text = decimal(u64::from(status), &mut status_text);
                let length = decimal(body.len() as u64, &mut length);
                let lines = std::iter::once((&b":status"[..], status_text))
                    .chain(headers.lines())
                    .chain(std::iter::once((&b"content-length"[..], length)));
                stream.answer(lines, body);
                if let Some(mut line) = log_line {
                    line.push_str(&format!(" -> {status}"));
                    if let Some(rejection) = decision.rejection() {
                        line.push_str(&format!(" ({rejection})"));
                    }
                    log(LogLevel::Debug, &line);
                }
                self.state = State::Done;
                HeadersStatus::Stop
            }
            Action::Forward(forwarded) => {
                self.state = State::Forwarded {
                    scope,
                    forwarded,
                    origin: KeptOrigin::new(origin.unwrap_or_default()),
                    log_line,
                };
                HeadersStatus::Continue
            }
        }
    }

    pub(crate) fn on_response_headers(&mut self, stream: &Stream) {
        let State::Forwarded {
            scope,
            forwarded,
            origin,
            log_line,
        } = std::mem::replace(&mut self.state, State::Done)
        else {
            return;
        };
        if let Some(mut line) = log_line {
            let headers = stream.response_headers();
            let status = headers.iter().find(|(name, _)| *name == b":status");
            let status = status.map_or(String::new(), |(_, v)| v.escape_ascii().to_string());
            line.push_str(&format!(" -> {status}"));
            log(LogLevel::Debug, &line);
        }
        let Some(policy) = self.config.policies.get(scope) else {
            return;
        };
        forwarded.write_headers(&mut EnvoyResponse {
            stream,
            policy,
            origin: origin.as_bytes(),
        });
    }
}

/// `n` in decimal, written at the end of `buffer`.
fn decimal(mut n: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buffer[start..];
        }
    }
}

/// The request's `Origin`, kept for the response: inline up to [`KeptOrigin::INLINE`] bytes (the
/// origins browsers send; no allocation per request), on the heap beyond.
enum KeptOrigin {
    Inline { bytes: [u8; Self::INLINE], len: u8 },
    Heap(Vec<u8>),
}

impl KeptOrigin {
    const INLINE: usize = 96;

    fn new(origin: &[u8]) -> Self {
        match u8::try_from(origin.len()) {
            Ok(len) if origin.len() <= Self::INLINE => {
                let mut bytes = [0; Self::INLINE];
                bytes[..origin.len()].copy_from_slice(origin);
                Self::Inline { bytes, len }
            }
            _ => Self::Heap(origin.to_vec()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { bytes, len } => &bytes[..usize::from(*len)],
            Self::Heap(bytes) => bytes,
        }
    }
}

/// The upstream's response headers in Envoy, as the core's [`ResponseHeaders`]: read through
/// the stream, each change one callback.
struct EnvoyResponse<'a> {
    stream: &'a Stream,
    policy: &'a polycors::Policy,
    origin: &'a [u8],
}

impl ResponseHeaders for EnvoyResponse<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in self.stream.response_headers().iter() {
            f(name, value);
        }
    }

    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool) {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for (name, _) in self.stream.response_headers().iter() {
            if matches(name) && !names.iter().any(|n| n == name) {
                names.push(name.to_vec());
            }
        }
        for name in names {
            if !self.stream.remove_response_header(&name) {
                log(
                    LogLevel::Error,
                    "polycors: Envoy refused to remove a response header",
                );
            }
        }
    }

    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let value = value.resolve(self.policy, self.origin);
        if !self
            .stream
            .set_response_header(field.name().as_bytes(), value)
        {
            log(
                LogLevel::Error,
                "polycors: Envoy refused to set a response header",
            );
        }
    }

    /// Envoy appends without looking for the name (the response has none).
    fn add(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let value = value.resolve(self.policy, self.origin);
        if !self
            .stream
            .add_response_header(field.name().as_bytes(), value)
        {
            log(
                LogLevel::Error,
                "polycors: Envoy refused to add a response header",
            );
        }
    }
}

/// The headers of a local answer as the core writes them: values copied into one buffer
/// (request values the core echoes live only during its call), names static.
struct AnswerHeaders<'a> {
    policy: &'a polycors::Policy,
    origin: &'a [u8],
    bytes: Vec<u8>,
    lines: Vec<AnswerLine>,
}

impl Drop for AnswerHeaders<'_> {
    fn drop(&mut self) {
        ANSWER_BUFFERS.set((
            std::mem::take(&mut self.bytes),
            std::mem::take(&mut self.lines),
        ));
    }
}

thread_local! {
    /// An answer's buffers, reused from one answer to the next on Envoy's worker thread.
    static ANSWER_BUFFERS: std::cell::Cell<(Vec<u8>, Vec<AnswerLine>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

/// A line of an answer: its name, and where its value is in the answer's bytes.
type AnswerLine = (&'static str, std::ops::Range<usize>);

impl<'a> AnswerHeaders<'a> {
    fn new(policy: &'a polycors::Policy, origin: &'a [u8]) -> Self {
        let (mut bytes, mut lines) = ANSWER_BUFFERS.take();
        bytes.clear();
        lines.clear();
        Self {
            policy,
            origin,
            bytes,
            lines,
        }
    }

    fn lines(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.lines
            .iter()
            .map(|(name, range)| (name.as_bytes(), &self.bytes[range.clone()]))
    }
}

impl ResponseHeaders for AnswerHeaders<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in self.lines() {
            f(name, value);
        }
    }

    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool) {
        self.lines.retain(|(name, _)| !matches(name.as_bytes()));
    }

    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let name = field.name();
        let value = value.resolve(self.policy, self.origin);
        let start = self.bytes.len();
        self.bytes.extend_from_slice(value);
        let range = start..self.bytes.len();
        match self.lines.iter_mut().find(|(n, _)| *n == name) {
            Some(line) => line.1 = range,
            None => self.lines.push((name, range)),
        }
    }

    fn add(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let start = self.bytes.len();
        self.bytes
            .extend_from_slice(value.resolve(self.policy, self.origin));
        self.lines.push((field.name(), start..self.bytes.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_every_digit() {
        let mut buffer = [0; 20];
        for (n, text) in [
            (0, "0"),
            (7, "7"),
            (200, "200"),
            (403, "403"),
            (u64::MAX, "18446744073709551615"),
        ] {
            assert_eq!(decimal(n, &mut buffer), text.as_bytes());
        }
    }

    #[test]
    fn a_kept_origin_is_the_origin_inline_or_not() {
        for length in [
            0,
            1,
            KeptOrigin::INLINE - 1,
            KeptOrigin::INLINE,
            KeptOrigin::INLINE + 1,
            300,
        ] {
            let origin: Vec<u8> = (0..length).map(|i| b'a' + (i % 26) as u8).collect();
            let kept = KeptOrigin::new(&origin);
            assert_eq!(kept.as_bytes(), origin, "{length} bytes");
            assert_eq!(
                matches!(kept, KeptOrigin::Inline { .. }),
                length <= KeptOrigin::INLINE,
                "{length} bytes"
            );
        }
    }
}
