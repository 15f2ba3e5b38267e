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

#[cfg(test)]
mod tests {
    /// The document parses, is OpenAPI 3.1, lists every route with a response, and resolves
    /// every schema reference.
    #[test]
    fn document_lists_every_route() {
        let doc: serde_json::Value = serde_json::from_str(&super::json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for (method, path) in [
            ("get", "/v1/status"),
            ("get", "/v1/markets"),
            ("get", "/v1/markets/{market}"),
            ("get", "/v1/markets/{market}/book"),
            ("get", "/v1/markets/{market}/trades"),
            ("get", "/v1/markets/{market}/candles"),
            ("get", "/v1/markets/{market}/funding"),
            ("get", "/v1/markets/{market}/open-interest"),
            ("get", "/v1/markets/{market}/prices"),
            ("get", "/v1/markets/{market}/adl"),
            ("get", "/v1/insurance"),
            ("get", "/v1/liquidations"),
            ("get", "/v1/accounts/{address}/{sub}"),
            ("get", "/v1/accounts/{address}/{sub}/orders"),
            ("get", "/v1/accounts/{address}/{sub}/fills"),
            ("get", "/v1/orders/{market}/{id}"),
            ("get", "/v1/blocks/latest"),
            ("get", "/v1/blocks/{height}"),
            ("get", "/v1/txs/{hash}"),
            ("post", "/v1/txs"),
            ("get", "/v1/ws"),
            ("get", "/health"),
        ] {
            let op = &paths[path][method];
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}");
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
        for name in ["ServerMessage", "ClientMessage", "ErrorBody", "Account", "Book"] {
            assert!(schemas.contains_key(name), "{name}");
        }
    }
}
