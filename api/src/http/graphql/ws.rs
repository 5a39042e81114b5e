//! `GET /graphql/ws`: subscriptions over the graphql-transport-ws protocol
//! (the one graphql-ws, Apollo Client and urql speak). Written here rather
//! than taken from async-graphql, whose server closes a refused
//! `connection_init` with 1002 and an early `subscribe` with 1011, where
//! the protocol asks for 4403 and 4401 (and clients decide on those codes
//! whether to retry), and which has no limits of its own.
//!
//! Authentication comes in `connection_init` (`{"Authorization": "Bearer
//! …"}`, optionally `X-Organization`), under the rules of HTTP; it is
//! checked again every `recheck`, so a deactivated developer's or revoked
//! key's subscriptions end. Each subscription holds a slot of its
//! connection and of its organization, and sends when its figures change
//! (see `graphql::subscription`); a slow client is sent nothing more until
//! it reads, never a growing queue.

use std::{collections::HashMap, future::poll_fn, pin::Pin, task::Poll};

use async_graphql::{
    Response as GqlResponse,
    futures_util::{Stream, StreamExt as _},
    parser::types::OperationType,
};
use axum::{
    extract::{
        State,
        ws::{
            CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
        },
    },
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use prometheus_client::metrics::gauge::Gauge;
use serde_json::{Value, json};
use tokio::time::{Instant, sleep_until};

use super::{
    body::from_value,
    document::{check, operation_type, parse_document},
    request_data,
    response::error_json,
};
use crate::{
    auth::Caller,
    error::AppError,
    http::{AppState, persisted::Resolved},
    permissions,
    service::live::Slot,
};

/// The subprotocol, as the client offers it in `Sec-WebSocket-Protocol`.
pub const PROTOCOL: &str = "graphql-transport-ws";

/// The protocol's close codes.
mod close {
    pub const NORMAL: u16 = 1000;
    pub const TRY_AGAIN_LATER: u16 = 1013;
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const ALREADY_SUBSCRIBED: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
}

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let refuse = |status: StatusCode, message: &str| {
        let err = AppError::bad_input(message);
        (status, axum::Json(err.to_response_body())).into_response()
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            let message = format!(
                "subscriptions are served over WebSocket here ({}); send queries and mutations to /graphql",
                rejection.body_text()
            );
            return refuse(rejection.status(), &message);
        }
    };
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    if !offered {
        let message = format!("offer the `{PROTOCOL}` subprotocol (Sec-WebSocket-Protocol)");
        return refuse(StatusCode::BAD_REQUEST, &message);
    }
    let max = state.config.limits.max_body_bytes;
    // Small buffers: a replica holds thousands of mostly quiet connections,
    // and the 128 KiB tungstenite starts each with would be most of its
    // memory (bench/live.sh); a larger message still grows them.
    ws.protocols([PROTOCOL])
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| Connection::new(state, socket).serve())
}

/// Why a connection ends: a close frame to send, or none (the client left).
struct Close(u16, String);

impl Close {
    fn new(code: u16, reason: impl Into<String>) -> Close {
        Close(code, reason.into())
    }

    /// A refused authentication: 4401 when the credentials are missing or
    /// wrong (clients stop), 4403 when they are fine but not allowed to
    /// read, 1013 when the database is away (clients retry).
    fn refused(err: &AppError) -> Close {
        let code = match err {
            AppError::Unauthenticated(_) => close::UNAUTHORIZED,
            AppError::ServiceUnavailable | AppError::Collided | AppError::Internal(_) => {
                close::TRY_AGAIN_LATER
            }
            _ => close::FORBIDDEN,
        };
        Close(code, err.message())
    }
}

type Results = Pin<Box<dyn Stream<Item = GqlResponse> + Send>>;

struct Subscription {
    results: Results,
    /// Nothing sent yet: an error then is the `error` message.
    first: bool,
    _slot: Slot,
    _open: Counted,
}

/// Counts one in a gauge while it lives.
struct Counted(Gauge);

impl Counted {
    fn new(gauge: Gauge) -> Counted {
        gauge.inc();
        Counted(gauge)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.dec();
    }
}

struct Connection {
    state: AppState,
    socket: WebSocket,
    /// Once `connection_init` was accepted: the caller, and the headers
    /// it was authenticated from (to check them again).
    caller: Option<(Caller, HeaderMap)>,
    initialised: bool,
    subscriptions: HashMap<String, Subscription>,
    /// When the connection last had a subscription (or opened).
    idle_since: Instant,
    _open: Counted,
}

enum Event {
    Received(Option<Message>),
    Result(String, Option<GqlResponse>),
    InitTimeout,
    Idle,
    Recheck,
}

impl Connection {
    fn new(state: AppState, socket: WebSocket) -> Connection {
        let open = Counted::new(state.telemetry.ws_connections());
        Connection {
            state,
            socket,
            caller: None,
            initialised: false,
            subscriptions: HashMap::new(),
            idle_since: Instant::now(),
            _open: open,
        }
    }

    async fn serve(mut self) {
        let limits = self.state.config.live;
        let init_deadline = Instant::now() + limits.init_timeout;
        let mut recheck = tokio::time::interval(limits.recheck);
        recheck.reset();
        let end = loop {
            let idle_deadline = self.idle_since + limits.idle_timeout;
            let waiting = self.caller.is_none();
            let busy = !self.subscriptions.is_empty();
            let event = tokio::select! {
                msg = self.socket.recv() => Event::Received(msg.and_then(Result::ok)),
                (id, result) = next_result(&mut self.subscriptions), if busy => Event::Result(id, result),
                () = sleep_until(init_deadline), if waiting => Event::InitTimeout,
                () = sleep_until(idle_deadline), if !busy => Event::Idle,
                _ = recheck.tick(), if !waiting => Event::Recheck,
            };
            let outcome = match event {
                Event::Received(None) => break None,
                Event::Received(Some(msg)) => self.received(msg).await,
                Event::Result(id, result) => self.send_result(id, result).await,
                Event::InitTimeout => Err(Some(Close::new(
                    close::INIT_TIMEOUT,
                    "Connection initialisation timeout",
                ))),
                Event::Idle => Err(Some(Close::new(
                    close::NORMAL,
                    "closed after a while without subscriptions",
                ))),
                Event::Recheck => self.recheck().await,
            };
            if let Err(end) = outcome {
                break end;
            }
            if self.subscriptions.is_empty() && busy {
                self.idle_since = Instant::now();
            }
        };
        if let Some(Close(code, reason)) = end {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = self.socket.send(Message::Close(Some(frame))).await;
        }
    }

    /// `Err(None)`: the client went away; `Err(Some(close))`: close.
    async fn received(&mut self, msg: Message) -> Result<(), Option<Close>> {
        let text = match msg {
            Message::Text(text) => text,
            Message::Close(_) => return Err(None),
            // Answered by the WebSocket layer itself.
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Binary(_) => {
                return Err(Some(Close::new(
                    close::BAD_REQUEST,
                    "binary messages are not part of the protocol",
                )));
            }
        };
        let invalid = || Some(Close::new(close::BAD_REQUEST, "Invalid message received"));
        let mut msg: Value = serde_json::from_str(text.as_str()).map_err(|_| invalid())?;
        match msg.get("type").and_then(Value::as_str) {
            Some("connection_init") => self.init(msg.get("payload")).await,
            Some("ping") => self.send(json!({ "type": "pong" })).await,
            Some("pong") => Ok(()),
            Some("subscribe") => {
                let id = msg.get("id").and_then(Value::as_str).ok_or_else(invalid)?;
                let id = id.to_owned();
                let payload = msg.get_mut("payload").map(Value::take);
                let payload = payload.filter(Value::is_object).ok_or_else(invalid)?;
                self.subscribe(id, payload).await
            }
            Some("complete") => {
                let id = msg.get("id").and_then(Value::as_str).ok_or_else(invalid)?;
                self.subscriptions.remove(id);
                Ok(())
            }
            _ => Err(invalid()),
        }
    }

    async fn init(&mut self, payload: Option<&Value>) -> Result<(), Option<Close>> {
        if self.initialised {
            return Err(Some(Close::new(
                close::TOO_MANY_INITS,
                "Too many initialisation requests",
            )));
        }
        self.initialised = true;
        let headers = init_headers(payload).map_err(|err| Some(Close::refused(&err)))?;
        let caller = authenticate(&self.state, &headers).await.map_err(Some)?;
        self.caller = Some((caller, headers));
        self.send(json!({ "type": "connection_ack" })).await
    }

    /// The credentials of a long-lived connection are read again: the same
    /// answer as a new request would get, or the connection ends.
    async fn recheck(&mut self) -> Result<(), Option<Close>> {
        let Some((_, headers)) = &self.caller else {
            return Ok(());
        };
        match authenticate(&self.state, headers).await {
            Ok(caller) => {
                if let Some((old, _)) = &mut self.caller {
                    *old = caller;
                }
                Ok(())
            }
            // The database being away is no reason to drop subscribers;
            // the next check decides.
            Err(Close(close::TRY_AGAIN_LATER, _)) => Ok(()),
            Err(close) => Err(Some(close)),
        }
    }

    async fn subscribe(&mut self, id: String, payload: Value) -> Result<(), Option<Close>> {
        let Some((caller, _)) = &self.caller else {
            return Err(Some(Close::new(close::UNAUTHORIZED, "Unauthorized")));
        };
        if self.subscriptions.contains_key(&id) {
            let reason = format!("Subscriber for {id} already exists");
            return Err(Some(Close::new(close::ALREADY_SUBSCRIBED, reason)));
        }
        match self.open(caller.clone(), payload) {
            Ok(subscription) => {
                self.subscriptions.insert(id, subscription);
                Ok(())
            }
            Err(err) => self.send_error(&id, &err).await,
        }
    }

    /// A subscription, within the connection's and the organization's
    /// limits.
    fn open(&self, caller: Caller, payload: Value) -> Result<Subscription, AppError> {
        let limits = self.state.config.live;
        if self.subscriptions.len() >= limits.per_connection {
            return Err(AppError::LimitExceeded(format!(
                "a connection may have {} subscriptions open at once",
                limits.per_connection
            )));
        }
        let org = caller.ctx.org_id();
        let slot = (self.state.live.admit(org, limits.per_organization)).ok_or_else(|| {
            AppError::LimitExceeded(format!(
                "your organization has {} subscriptions open on this server, the most it may",
                limits.per_organization
            ))
        })?;
        Ok(Subscription {
            results: self.start(caller, payload)?,
            first: true,
            _slot: slot,
            _open: Counted::new(self.state.telemetry.subscriptions()),
        })
    }

    /// The document as `/graphql` resolves it (persisted queries, and in
    /// trusted-documents mode only listed documents), its checks, then the
    /// subscription's results.
    fn start(&self, caller: Caller, payload: Value) -> Result<Results, AppError> {
        let state = &self.state;
        let mut raw = from_value(payload)?;
        // The protocol's payload always has a `query`: an empty one is how
        // a client sends a persisted document by its hash alone.
        if raw.query.as_deref() == Some("") {
            raw.query = None;
        }
        let Resolved { query, parsed } = state.documents.resolve(raw.incoming(true))?;
        let doc = parsed.or_else(|| parse_document(&query, &state.config.limits));
        check(&query, &raw, doc.as_ref(), &state.config)?;
        let ty = doc
            .as_ref()
            .and_then(|d| operation_type(d, raw.operation_name.as_deref()));
        if ty.is_some_and(|ty| ty != OperationType::Subscription) {
            return Err(AppError::bad_input(
                "only subscriptions are served over WebSocket; send queries and mutations to /graphql",
            ));
        }
        let request = raw
            .into_request(&query, doc)
            .data(request_data(state, caller));
        Ok(Box::pin(state.schema.execute_stream(request)))
    }

    async fn send_result(
        &mut self,
        id: String,
        result: Option<GqlResponse>,
    ) -> Result<(), Option<Close>> {
        let Some(response) = result else {
            self.subscriptions.remove(&id);
            return self.send(json!({ "type": "complete", "id": id })).await;
        };
        let first = self
            .subscriptions
            .get_mut(&id)
            .map(|s| std::mem::replace(&mut s.first, false))
            .unwrap_or(false);
        // Refused before it ran (validation, a bad scope, a limit): the
        // protocol's `error`, which also ends the subscription.
        let refused = first && response.data == async_graphql::Value::Null;
        let errors: Vec<Value> = (response.errors.into_iter())
            .map(|err| error_json(err, refused))
            .collect();
        if refused && !errors.is_empty() {
            self.subscriptions.remove(&id);
            return self
                .send(json!({ "type": "error", "id": id, "payload": errors }))
                .await;
        }
        let mut payload = json!({ "data": response.data });
        if !errors.is_empty() {
            payload["errors"] = Value::Array(errors);
        }
        self.send(json!({ "type": "next", "id": id, "payload": payload }))
            .await
    }

    async fn send_error(&mut self, id: &str, err: &AppError) -> Result<(), Option<Close>> {
        let errors = err.to_response_body()["errors"].take();
        self.send(json!({ "type": "error", "id": id, "payload": errors }))
            .await
    }

    /// Waits until the client takes it (backpressure), or it left.
    async fn send(&mut self, msg: Value) -> Result<(), Option<Close>> {
        let text = msg.to_string();
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|_| None)
    }
}

/// The caller `headers` authenticate, allowed to read, as `/graphql` decides.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, Close> {
    let caller =
        (state.auth.authenticate(&state.db, headers).await).map_err(|err| Close::refused(&err))?;
    permissions::may_read(&caller.ctx).map_err(|err| Close::refused(&err))?;
    Ok(caller)
}

/// The next result of any subscription; `None` with its id when it ended.
async fn next_result(
    subscriptions: &mut HashMap<String, Subscription>,
) -> (String, Option<GqlResponse>) {
    poll_fn(|cx| {
        for (id, s) in subscriptions.iter_mut() {
            if let Poll::Ready(result) = s.results.poll_next_unpin(cx) {
                return Poll::Ready((id.clone(), result));
            }
        }
        Poll::Pending
    })
    .await
}

/// The `connection_init` payload as the headers of an HTTP request, so
/// authentication is the one of `/graphql`.
fn init_headers(payload: Option<&Value>) -> Result<HeaderMap, AppError> {
    let mut headers = HeaderMap::new();
    let fields = payload.and_then(Value::as_object).into_iter().flatten();
    for (name, value) in fields {
        let name = name.to_ascii_lowercase();
        if name != "authorization" && name != "x-organization" {
            continue;
        }
        let bad = || AppError::Unauthenticated(format!("`{name}` in connection_init is not valid"));
        let value = value.as_str().ok_or_else(bad)?;
        let value = HeaderValue::from_str(value).map_err(|_| bad())?;
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?,
            value,
        );
    }
    if !headers.contains_key(header::AUTHORIZATION) {
        return Err(AppError::Unauthenticated(
            "send {\"Authorization\": \"Bearer <token>\"} as the connection_init payload".into(),
        ));
    }
    Ok(headers)
}
