//! GLUE: the live status stream, `GET {endpoint}/invoices/{id}/events` through the browser's
//! `EventSource` (it reconnects by itself, passes CORS and CSP `connect-src` like fetch). Its
//! `status` messages are checked as poll answers are ([`crate::api::status_from_text`]) and go to
//! the state machine as [`crate::state::Event::Stream`]; its `ping`s say how long a silence is
//! fine; an error (a refusal such as `503 too_many_streams`, a dropped connection) becomes
//! [`crate::state::Event::StreamDown`] and polling takes over. A backend without the route
//! answers 404: the same.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use crate::contract::StatusReply;
use crate::widget::Listener;

/// What the stream says.
pub(crate) enum Message {
    /// A checked status of this invoice.
    Status(StatusReply),
    /// A heartbeat: the backend's heartbeat period in ms.
    Ping(u64),
    /// An error; `closed`: the browser gave up (refused, not an event stream), no reconnection.
    Down {
        /// Whether the browser will not reconnect.
        closed: bool,
    },
}

/// An open stream; dropping it closes it and removes its listeners.
pub(crate) struct LiveStatus {
    /// The invoice it is about.
    pub id: String,
    source: EventSource,
    _listeners: [Listener; 3],
}

impl LiveStatus {
    /// Opens the stream of invoice `id` (already known URL-safe); `on` hears its messages.
    pub(crate) fn open(endpoint: &str, id: &str, on: Rc<dyn Fn(Message)>) -> Option<LiveStatus> {
        let source = EventSource::new(&format!("{endpoint}/invoices/{id}/events")).ok()?;
        let data = |e: &web_sys::Event| {
            e.dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string())
        };
        let status = {
            let (on, id) = (on.clone(), id.to_owned());
            Listener::new(&source, "status", move |e| {
                match data(&e).and_then(|t| crate::api::status_from_text(&t, &id)) {
                    Some(reply) => on(Message::Status(reply)),
                    // Not a status of this invoice: the stream is not to be believed.
                    None => on(Message::Down { closed: false }),
                }
            })
        };
        let ping = {
            let on = on.clone();
            Listener::new(&source, "ping", move |e| {
                if let Some(ms) = data(&e).and_then(|t| t.trim().parse::<u64>().ok()) {
                    on(Message::Ping(ms));
                }
            })
        };
        let error = {
            let s = source.clone();
            Listener::new(&source, "error", move |_| {
                on(Message::Down {
                    closed: s.ready_state() == EventSource::CLOSED,
                })
            })
        };
        Some(LiveStatus {
            id: id.to_owned(),
            source,
            _listeners: [status, ping, error],
        })
    }

    /// Stops it now (no more messages); safe inside one of its own listeners.
    pub(crate) fn close(&self) {
        self.source.close();
    }
}

impl Drop for LiveStatus {
    fn drop(&mut self) {
        self.source.close();
    }
}
