//! The OpenAPI 3.1 document of the API (`GET /openapi.json`), generated with `utoipa` from the
//! route annotations and the wire types' schemas. The WebSocket protocol is described by its
//! message schemas (`ClientMessage`, `ServerMessage`) and the `/v1/ws` route.

use axum::response::IntoResponse;
use utoipa::OpenApi;

use crate::rest;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "novation trader API",
        description = "REST and WebSocket API of a novation node. Integer units carry their unit in the field name (_ticks, _lots, _atoms, _ppb, _ms); i128 amounts are decimal strings; errors are {\"error\", \"code\"}."
    ),
    paths(
        rest::status,
        rest::markets,
        rest::market,
        rest::book,
        rest::trades,
        rest::candles,
        rest::funding,
        rest::open_interest,
        rest::prices,
        rest::adl,
        rest::insurance,
        rest::liquidations,
        rest::account,
        rest::orders,
        rest::fills,
        rest::order,
        rest::latest_block,
        rest::block,
        rest::tx,
        rest::submit,
        crate::ws::upgrade,
        crate::legacy::health,
    ),
    components(schemas(
        novation_wire::ErrorBody,
        novation_wire::ws::ClientMessage,
        novation_wire::ws::ServerMessage,
        novation_wire::ws::BookSnapshot,
        novation_wire::ws::BookDelta,
    )),
    tags(
        (name = "markets", description = "Markets, books, trades, candles, funding, prices"),
        (name = "accounts", description = "Accounts, positions, orders, fills"),
        (name = "risk", description = "Insurance funds, liquidations, ADL queues"),
        (name = "chain", description = "Blocks and transactions"),
        (name = "websocket", description = "Streaming channels"),
        (name = "node", description = "Node status and health"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as JSON text.
pub fn json() -> String {
    ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into())
}

/// `GET /openapi.json`.
pub async fn serve() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], json())
}
