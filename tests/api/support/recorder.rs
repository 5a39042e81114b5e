//! A pool of its own on a test's database that records every statement it
//! sends, text and bound values: for the tests of what SQL a service
//! sends (one text per batched load, which table a metric reads).

use std::sync::{Arc, Mutex};

use sea_orm::{ConnectOptions, Database, DatabaseConnection, Value};

use crate::support::TestApp;

/// One statement as the driver received it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub sql: String,
    pub values: Vec<Value>,
}

impl Sent {
    /// The sizes of the sets among the bound values: a PostgreSQL array,
    /// or SQLite's JSON array text.
    pub fn set_sizes(&self) -> Vec<usize> {
        self.values.iter().filter_map(set_size).collect()
    }
}

fn set_size(value: &Value) -> Option<usize> {
    match value {
        Value::Array(_, Some(items)) => Some(items.len()),
        Value::String(Some(text)) if text.starts_with('[') => {
            serde_json::from_str::<Vec<serde_json::Value>>(text)
                .ok()
                .map(|items| items.len())
        }
        _ => None,
    }
}

/// A pool of its own on the test's database that records every statement.
pub struct Recorder {
    pub db: DatabaseConnection,
    log: Arc<Mutex<Vec<Sent>>>,
}

impl Recorder {
    pub async fn on(app: &TestApp) -> Recorder {
        let mut options = ConnectOptions::new(app.direct_database_url().to_owned());
        options.max_connections(2).sqlx_logging(false);
        let mut db = Database::connect(options).await.expect("connect");
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        db.set_metric_callback(move |info| {
            let values = info
                .statement
                .values
                .as_ref()
                .map(|v| v.0.clone())
                .unwrap_or_default();
            sink.lock().unwrap().push(Sent {
                sql: info.statement.sql.clone(),
                values,
            });
        });
        Recorder { db, log }
    }

    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}
