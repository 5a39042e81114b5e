//! The GraphiQL page served to browsers at `/` and `/graphql`.

use async_graphql::http::GraphiQLSource;

use super::AppState;

pub fn page(state: &AppState) -> String {
    let auth = state.dev_token.as_ref().map(|t| format!("Bearer {t}"));
    let mut source = GraphiQLSource::build()
        .endpoint("/graphql")
        .title("devgraph");
    // In dev mode the demo owner's token is pre-filled, so the first page
    // load already shows data; outside dev mode users paste their own.
    if let Some(auth) = auth.as_deref() {
        source = source.header("Authorization", auth);
    }
    source.finish()
}
