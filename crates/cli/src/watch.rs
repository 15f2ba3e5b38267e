//! `novation watch MARKET`: a live terminal view of a market's book and trades and, given an
//! account, its balance, positions and open orders.
//!
//! Data: the WebSocket channels `book` and `trades` of the market and, with an account, its
//! `orders` and `positions` (the client reconnects and resubscribes by itself; a book gap is
//! recovered from a fresh snapshot), plus the account summary over REST every two seconds.
//! On a terminal the view is redrawn at most four times a second on the alternate screen with
//! plain ANSI escapes, and Ctrl-C restores the screen; when stdout is not a terminal, one frame
//! is printed when the view stops (`--seconds`).

use std::collections::{BTreeMap, VecDeque};
use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use novation_client::wire::rest;
use novation_client::wire::ws::ServerMessage;
use novation_client::ws::{Channel, WsClient, WsEvent, WsOptions};
use novation_client::{market, BookTracker, Error as SdkError, HttpClient, MarketSpec};
use novation_types::Address;

use crate::trader::{
    balance_lines, book_table, clock, orders_table, positions_table, say, trades_table,
};

/// Trades kept on screen.
const TRADES_SHOWN: usize = 12;
/// Open orders kept (the view's bound; the node bounds an account's orders far lower).
const ORDERS_MAX: usize = 1000;
/// Time between redraws.
const REDRAW: Duration = Duration::from_millis(250);
/// Time between account summary reads.
const ACCOUNT_REFRESH: Duration = Duration::from_secs(2);

struct View {
    spec: MarketSpec,
    specs: Vec<MarketSpec>,
    depth: usize,
    book: BookTracker,
    trades: VecDeque<rest::Trade>,
    account: Option<(Address, u16)>,
    summary: Option<rest::Account>,
    orders: BTreeMap<(u16, u64), rest::Order>,
    positions: BTreeMap<u16, rest::Position>,
    connection: String,
    height: u64,
    note: Option<String>,
}

/// Runs the view until Ctrl-C or `seconds` (0: no limit).
pub async fn run(
    http: HttpClient,
    market_selector: &str,
    account: Option<(Address, u16)>,
    depth: usize,
    seconds: u64,
) -> Result<(), SdkError> {
    let specs = http.market_specs().await?;
    let spec = market::find(&specs, market_selector)?.clone();
    let mut view = View {
        book: BookTracker::new(spec.id.0),
        spec,
        specs,
        depth: depth.max(1),
        trades: VecDeque::new(),
        account,
        summary: None,
        orders: BTreeMap::new(),
        positions: BTreeMap::new(),
        connection: "connecting".into(),
        height: 0,
        note: None,
    };
    let recent = http.trades(&view.spec.id.0.to_string(), Some(TRADES_SHOWN as u32)).await?;
    view.trades = recent.trades.into_iter().collect();
    let mut channels =
        vec![Channel::Book(view.spec.symbol.clone()), Channel::Trades(view.spec.symbol.clone())];
    if let Some((a, sub)) = account {
        channels.push(Channel::Orders(a, sub));
        channels.push(Channel::Positions(a, sub));
        view.refresh_account(&http).await;
        if let Ok(o) = http.orders(&a, sub).await {
            view.orders = o.orders.into_iter().map(|o| ((o.market, o.id), o)).collect();
        }
    }
    let mut ws = WsClient::start(&http.ws_url(), channels, WsOptions::default());
    let tty = std::io::stdout().is_terminal();
    let screen = Screen::enter(tty);
    let deadline = async {
        if seconds == 0 {
            futures::future::pending::<()>().await
        } else {
            tokio::time::sleep(Duration::from_secs(seconds)).await
        }
    };
    tokio::pin!(deadline);
    let mut redraw = tokio::time::interval(REDRAW);
    let mut refresh = tokio::time::interval(ACCOUNT_REFRESH);
    let mut dirty = true;
    loop {
        tokio::select! {
            event = ws.next() => match event {
                Some(e) => { view.on_event(e); dirty = true; }
                None => break,
            },
            _ = redraw.tick() => {
                if dirty && tty {
                    screen.draw(&view.render());
                    dirty = false;
                }
            }
            _ = refresh.tick() => {
                view.refresh_account(&http).await;
                dirty = true;
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = &mut deadline => break,
        }
    }
    ws.close();
    drop(screen);
    if !tty {
        say!("{}", view.render());
    }
    Ok(())
}

impl View {
    async fn refresh_account(&mut self, http: &HttpClient) {
        let Some((a, sub)) = self.account else { return };
        match http.account(&a, sub).await {
            Ok(s) => {
                self.summary = Some(s);
                self.note = None;
            }
            Err(e) => self.note = Some(e.to_string()),
        }
    }

    fn on_event(&mut self, e: WsEvent) {
        match e {
            WsEvent::Connected { .. } => {
                self.connection = "live".into();
                self.book.reset();
            }
            WsEvent::Disconnected { reason, retry_in } => {
                self.connection = format!("reconnecting in {retry_in:.1?} ({reason})");
            }
            WsEvent::Resync { held, prev_seq, .. } => {
                self.connection = format!(
                    "live (book resynchronising: held seq {held:?}, delta from {prev_seq})"
                );
            }
            WsEvent::Message(m) => self.on_message(*m),
        }
    }

    fn on_message(&mut self, m: ServerMessage) {
        self.book.apply(&m);
        match m {
            ServerMessage::Trade { data, .. } if data.market == self.spec.id.0 => {
                self.trades.push_front(data);
                self.trades.truncate(TRADES_SHOWN);
            }
            ServerMessage::Order { data, .. } => {
                let live = matches!(
                    data.status,
                    rest::OrderState::Accepted
                        | rest::OrderState::Resting
                        | rest::OrderState::PartiallyFilled
                );
                let k = (data.market, data.id);
                if live && (self.orders.len() < ORDERS_MAX || self.orders.contains_key(&k)) {
                    self.orders.insert(k, data);
                } else {
                    self.orders.remove(&k);
                }
            }
            ServerMessage::Position { data, .. } => {
                self.positions.insert(data.market, data);
            }
            ServerMessage::Heartbeat { height, .. } => self.height = self.height.max(height),
            ServerMessage::Error { error, code, .. } => {
                self.note = Some(format!("server: {error} ({code})"));
            }
            _ => {}
        }
    }

    fn render(&self) -> String {
        let mut out = Vec::new();
        let height = self.height.max(self.book.height());
        out.push(format!(
            "novation watch {}   height {}   book seq {}   [{}]",
            self.spec.symbol,
            height,
            self.book.seq().map_or_else(|| "-".into(), |s| s.to_string()),
            self.connection
        ));
        out.push(String::new());
        let bids: Vec<rest::BookLevel> = self.book.bids().take(self.depth).cloned().collect();
        let asks: Vec<rest::BookLevel> = self.book.asks().take(self.depth).cloned().collect();
        out.push(book_table(&self.spec, &bids, &asks, self.depth));
        out.push(String::new());
        out.push("recent trades".into());
        let trades: Vec<rest::Trade> = self.trades.iter().cloned().collect();
        out.push(trades_table(&self.spec, &trades).unwrap_or_else(|| "  none yet".into()));
        if let Some(s) = &self.summary {
            out.push(String::new());
            out.push(balance_lines(s));
            let positions: Vec<rest::Position> = if self.positions.is_empty() {
                s.positions.clone()
            } else {
                self.positions.values().cloned().collect()
            };
            out.push(String::new());
            out.push(
                positions_table(&positions, &self.specs).unwrap_or_else(|| "no positions".into()),
            );
            let orders: Vec<rest::Order> = self.orders.values().cloned().collect();
            out.push(String::new());
            out.push(orders_table(&orders, &self.specs).unwrap_or_else(|| "no open orders".into()));
        }
        if let Some(n) = &self.note {
            out.push(String::new());
            out.push(format!("note: {n}"));
        }
        out.push(String::new());
        out.push(format!("{}  Ctrl-C quits", clock(novation_client::nonce::now_ms())));
        out.join("\n")
    }
}

/// The alternate screen while the view runs on a terminal.
struct Screen {
    tty: bool,
}

impl Screen {
    fn enter(tty: bool) -> Screen {
        if tty {
            // Alternate screen, cursor hidden.
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"\x1b[?1049h\x1b[?25l");
            let _ = out.flush();
        }
        Screen { tty }
    }

    fn draw(&self, frame: &str) {
        let mut out = std::io::stdout().lock();
        // Home, then each line followed by clear-to-end-of-line, then clear below.
        let mut text = String::from("\x1b[H");
        for line in frame.lines() {
            text.push_str(line);
            text.push_str("\x1b[K\r\n");
        }
        text.push_str("\x1b[J");
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if self.tty {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(b"\x1b[?25h\x1b[?1049l");
            let _ = out.flush();
        }
    }
}
