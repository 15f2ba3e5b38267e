//! Trader commands of `novation`: keys, faucet, orders, account views, book, trades,
//! withdrawals and a live view, all through the node's `/v1` API with `novation-client`.
//!
//! Prices, sizes and amounts are human decimals in and out (`99950.5`, `0.010`, `250`). A price
//! or size off the market's tick or lot grid is refused with the nearest valid values, or, with
//! `--round`, rounded in the trader's favour (buy prices down, sell prices up, sizes down) with a
//! note saying so. `--json` prints the node's JSON (reads) or a JSON summary (actions).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use novation_client::units::{self, UnitsError};
use novation_client::wire::rest;
use novation_client::{
    market, Error as SdkError, HttpClient, Key, Keystore, MarketSpec, Order, Trader, TxReport,
};
use novation_types::{Address, OrderId, PriceTicks, QtyLots, Quote, Side};
use serde::Serialize;
use serde_json::json;

use crate::table::Table;
use crate::watch;

/// `println!` that does not panic when stdout is closed (e.g. piped into `head`).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}
pub(crate) use say;

/// The node to talk to and how to print.
#[derive(Debug, Args)]
pub struct Net {
    /// Node API URL.
    #[arg(long, env = "NOVATION_RPC", default_value = "http://127.0.0.1:8080", global = true)]
    pub rpc: String,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Which key signs.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Key name (in the key directory).
    #[arg(long, env = "NOVATION_KEY")]
    pub key: String,
    /// Key directory (default $NOVATION_KEYS, else ~/.novation/keys).
    #[arg(long, env = "NOVATION_KEYS")]
    pub keys_dir: Option<PathBuf>,
    /// Subaccount.
    #[arg(long, default_value_t = 0)]
    pub sub: u16,
    /// Seconds to wait for the transaction to be final.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

/// Whose account to read: a key's, or any address.
#[derive(Debug, Args)]
pub struct Who {
    /// Key name (its account; an agent key's master).
    #[arg(long, env = "NOVATION_KEY", conflicts_with = "address")]
    pub key: Option<String>,
    /// An account address instead of a key.
    #[arg(long)]
    pub address: Option<String>,
    /// Key directory (default $NOVATION_KEYS, else ~/.novation/keys).
    #[arg(long, env = "NOVATION_KEYS")]
    pub keys_dir: Option<PathBuf>,
    /// Subaccount.
    #[arg(long, default_value_t = 0)]
    pub sub: u16,
}

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SideArg {
    Buy,
    Sell,
}

impl SideArg {
    fn side(self) -> Side {
        match self {
            SideArg::Buy => Side::Buy,
            SideArg::Sell => Side::Sell,
        }
    }
}

/// The trader commands (flattened into `novation`'s top level).
#[derive(Debug, Subcommand)]
pub enum TraderCommand {
    /// Create, list and show trading keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Credit test USDC to a key's account (devnets: the node must hold the faucet key).
    Faucet {
        #[command(flatten)]
        key: KeyArgs,
        /// Whole USDC to credit.
        #[arg(long, default_value_t = 10_000)]
        usdc: u64,
        #[command(flatten)]
        net: Net,
    },
    /// Place, cancel and modify orders.
    #[command(subcommand)]
    Order(OrderCommand),
    /// An account's open orders.
    Orders {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        net: Net,
    },
    /// An account's positions: size, entry, mark, unrealised PnL, liquidation price.
    Positions {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        net: Net,
    },
    /// An account's balance, equity and margin.
    Balance {
        #[command(flatten)]
        who: Who,
        #[command(flatten)]
        net: Net,
    },
    /// The markets: tick and lot sizes, minimum size, mark and index prices, status.
    Markets {
        #[command(flatten)]
        net: Net,
    },
    /// A market's order book.
    Book {
        /// Market symbol (BTC-PERP) or id.
        market: String,
        /// Levels per side.
        #[arg(long, default_value_t = 10)]
        depth: u32,
        #[command(flatten)]
        net: Net,
    },
    /// A market's recent trades.
    Trades {
        /// Market symbol (BTC-PERP) or id.
        market: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        net: Net,
    },
    /// Withdraw USDC collateral.
    Withdraw {
        /// Amount in USDC (at most 6 decimals).
        amount: String,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
    /// A live view of a market's book and trades and (with --key/--address) the account.
    Watch {
        /// Market symbol (BTC-PERP) or id.
        market: String,
        #[command(flatten)]
        who: Who,
        /// Book levels per side.
        #[arg(long, default_value_t = 8)]
        depth: usize,
        /// Stop after this many seconds (0: until Ctrl-C).
        #[arg(long, default_value_t = 0)]
        seconds: u64,
        #[command(flatten)]
        net: Net,
    },
}

/// `novation keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new key and store it (mode 0600).
    New {
        /// Its name.
        name: String,
        /// Key directory (default $NOVATION_KEYS, else ~/.novation/keys).
        #[arg(long, env = "NOVATION_KEYS")]
        keys_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the stored keys (names and addresses).
    List {
        /// Key directory (default $NOVATION_KEYS, else ~/.novation/keys).
        #[arg(long, env = "NOVATION_KEYS")]
        keys_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a key's address and public key.
    Show {
        /// Its name.
        name: String,
        /// Also print the secret key (keep it private).
        #[arg(long)]
        secret: bool,
        /// Key directory (default $NOVATION_KEYS, else ~/.novation/keys).
        #[arg(long, env = "NOVATION_KEYS")]
        keys_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `novation order ...`.
#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Place an order: a limit order with --price, else a market order (IOC within --slippage-bps
    /// of the best opposite price).
    Place {
        /// Market symbol (BTC-PERP) or id.
        market: String,
        /// buy or sell.
        side: SideArg,
        /// Size in base units (e.g. 0.010).
        size: String,
        /// Limit price in USDC.
        #[arg(long)]
        price: Option<String>,
        /// Immediate or cancel.
        #[arg(long, conflicts_with_all = ["fok", "post_only"])]
        ioc: bool,
        /// Fill or kill.
        #[arg(long, conflicts_with_all = ["ioc", "post_only"])]
        fok: bool,
        /// Post-only: rejected if it would take liquidity.
        #[arg(long, conflicts_with_all = ["ioc", "fok"], requires = "price")]
        post_only: bool,
        /// Only reduce the position (IOC, FOK or market orders).
        #[arg(long)]
        reduce_only: bool,
        /// Your id for the order (unique among your live orders in the market).
        #[arg(long)]
        client_id: Option<u64>,
        /// Round an off-grid price or size in your favour instead of refusing it.
        #[arg(long)]
        round: bool,
        /// Market orders: worst price as basis points from the best opposite price.
        #[arg(long, default_value_t = 100)]
        slippage_bps: u32,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
    /// Cancel an order by id, or by your client id.
    Cancel {
        /// The order id.
        #[arg(required_unless_present = "client_id")]
        id: Option<u64>,
        /// Cancel by client id instead.
        #[arg(long, conflicts_with = "id")]
        client_id: Option<u64>,
        /// The market (found from your open orders when omitted).
        #[arg(long)]
        market: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
    /// Cancel every order, in one market or all, on one side or both.
    CancelAll {
        /// Market symbol or id (all markets when omitted).
        market: Option<String>,
        /// Only this side.
        #[arg(long)]
        side: Option<SideArg>,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
    /// Change an order's price and/or size.
    Modify {
        /// The order id.
        id: u64,
        /// New price (unchanged when omitted).
        #[arg(long, required_unless_present = "size")]
        price: Option<String>,
        /// New size (unchanged when omitted).
        #[arg(long)]
        size: Option<String>,
        /// The market (found from your open orders when omitted).
        #[arg(long)]
        market: Option<String>,
        /// Round an off-grid price or size in your favour instead of refusing it.
        #[arg(long)]
        round: bool,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
}

/// Runs a trader command.
pub fn run(cmd: TraderCommand) -> Result<(), String> {
    if let TraderCommand::Keys(k) = cmd {
        return keys(k).map_err(|e| e.to_string());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run_async(cmd)).map_err(|e| explain(&e))
}

async fn run_async(cmd: TraderCommand) -> Result<(), SdkError> {
    match cmd {
        TraderCommand::Keys(_) => Ok(()),
        TraderCommand::Faucet { key, usdc, net } => faucet(&key, usdc, &net).await,
        TraderCommand::Order(o) => order(o).await,
        TraderCommand::Orders { who, net } => orders(&who, &net).await,
        TraderCommand::Positions { who, net } => positions(&who, &net).await,
        TraderCommand::Balance { who, net } => balance(&who, &net).await,
        TraderCommand::Markets { net } => markets(&net).await,
        TraderCommand::Book { market, depth, net } => book(&market, depth, &net).await,
        TraderCommand::Trades { market, limit, net } => trades(&market, limit, &net).await,
        TraderCommand::Withdraw { amount, key, net } => withdraw(&amount, &key, &net).await,
        TraderCommand::Watch { market, who, depth, seconds, net } => {
            let http = HttpClient::new(&net.rpc)?;
            let account = who_account(&who)?.map(|a| (a, who.sub));
            watch::run(http, &market, account, depth, seconds).await
        }
    }
}

/// A one-line reason for an SDK error, phrased for the command line.
fn explain(e: &SdkError) -> String {
    match e {
        SdkError::Rejected { rule, code, reason, hash, .. } => {
            format!("rejected by rule {rule} (code {code}): {reason} (tx {hash})")
        }
        SdkError::Api { code, .. } if code == "unknown_account" => {
            format!(
                "{e}: the account has no state yet; credit it first (novation faucet --key NAME)"
            )
        }
        _ => e.to_string(),
    }
}

fn print_json<T: Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(text) => say!("{text}"),
        Err(e) => eprintln!("error: cannot print JSON: {e}"),
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

fn keys(cmd: KeysCommand) -> Result<(), novation_client::KeyError> {
    match cmd {
        KeysCommand::New { name, keys_dir, json } => {
            let store = Keystore::locate(keys_dir)?;
            let key = store.create(&name)?;
            let path = store.path(&name)?;
            let address = hex::encode(key.address().0);
            if json {
                print_json(&json!({ "name": name, "address": address, "path": path }));
            } else {
                say!("created key {name}");
                say!("address  {address}");
                say!("file     {}", path.display());
            }
        }
        KeysCommand::List { keys_dir, json } => {
            let store = Keystore::locate(keys_dir)?;
            let list = store.list()?;
            if json {
                print_json(&list);
            } else if list.is_empty() {
                say!(
                    "no keys in {} (create one with: novation keys new NAME)",
                    store.dir().display()
                );
            } else {
                let mut t = Table::new(&[("NAME", false), ("ADDRESS", false), ("AGENT OF", false)]);
                for k in list {
                    t.row(vec![k.name, k.address, k.master.unwrap_or_default()]);
                }
                say!("{}", t.render());
            }
        }
        KeysCommand::Show { name, secret, keys_dir, json } => {
            let store = Keystore::locate(keys_dir)?;
            let key = store.load(&name)?;
            let path = store.path(&name)?;
            let address = hex::encode(key.address().0);
            let public = hex::encode(commonware_codec::Encode::encode(key.public_key()));
            let master = key.master().map(|m| hex::encode(m.0));
            let secret = secret.then(|| key.secret_hex());
            if json {
                print_json(&json!({ "name": name, "address": address, "public_key": public,
                    "master": master, "path": path, "secret_key": secret }));
            } else {
                say!("name        {name}");
                say!("address     {address}");
                say!("public key  {public}");
                if let Some(m) = master {
                    say!("agent of    {m}");
                }
                say!("file        {}", path.display());
                if let Some(s) = secret {
                    say!("secret key  {s}");
                }
            }
        }
    }
    Ok(())
}

fn load_key(k: &KeyArgs) -> Result<Key, SdkError> {
    Ok(Keystore::locate(k.keys_dir.clone())?.load(&k.key)?)
}

async fn trader(k: &KeyArgs, net: &Net) -> Result<Trader, SdkError> {
    let key = load_key(k)?;
    let http = HttpClient::new(&net.rpc)?;
    Ok(Trader::connect(http, key)
        .await?
        .with_sub(k.sub)
        .with_timeout(Duration::from_secs(k.timeout.max(1))))
}

/// The account `who` names, if any.
fn who_account(who: &Who) -> Result<Option<Address>, SdkError> {
    if let Some(a) = &who.address {
        return novation_client::keys::parse_address(a).map(Some).map_err(SdkError::Invalid);
    }
    match &who.key {
        Some(name) => Ok(Some(Keystore::locate(who.keys_dir.clone())?.load(name)?.account())),
        None => Ok(None),
    }
}

fn required_account(who: &Who) -> Result<Address, SdkError> {
    who_account(who)?
        .ok_or_else(|| SdkError::Invalid("name an account: --key NAME or --address ADDRESS".into()))
}

// ---------------------------------------------------------------------------------------------
// Faucet and withdrawals
// ---------------------------------------------------------------------------------------------

async fn faucet(k: &KeyArgs, usdc: u64, net: &Net) -> Result<(), SdkError> {
    let key = load_key(k)?;
    let http = HttpClient::new(&net.rpc)?;
    let account = key.account();
    let hash = http.faucet(&account, k.sub, usdc).await?;
    let report = http.wait(&hash, Duration::from_secs(k.timeout.max(1))).await?;
    report.check()?;
    let acct = http.account(&account, k.sub).await?;
    if net.json {
        print_json(&json!({ "hash": hash, "height": report.height(), "credited_usdc": usdc,
            "address": hex::encode(account.0), "sub": k.sub, "balance": acct.balance }));
    } else {
        say!(
            "credited {} USDC to {} ({}/{}) in block {}; balance {} USDC",
            units::format_usdc(Quote(i128::from(usdc) * 1_000_000)),
            k.key,
            hex::encode(account.0),
            k.sub,
            report.height().unwrap_or(0),
            usdc_of(&acct.balance_atoms),
        );
    }
    Ok(())
}

async fn withdraw(amount: &str, k: &KeyArgs, net: &Net) -> Result<(), SdkError> {
    let amount = units::parse_usdc(amount)?;
    let t = trader(k, net).await?;
    let report = t.withdraw(amount).await?;
    let acct = t.http().account(&t.account(), t.sub()).await?;
    if net.json {
        print_json(&json!({ "hash": report.hash, "height": report.height(),
            "amount_atoms": amount.0.to_string(), "balance_atoms": acct.balance_atoms }));
    } else {
        say!(
            "withdrew {} USDC in block {} (tx {}); balance {} USDC",
            units::format_usdc(amount),
            report.height().unwrap_or(0),
            short(&report.hash),
            usdc_of(&acct.balance_atoms)
        );
    }
    Ok(())
}

/// A decimal string of atoms as USDC (the node sends i128 atoms as strings).
fn usdc_of(atoms: &str) -> String {
    atoms
        .parse::<i128>()
        .map(|a| units::format_usdc(Quote(a)))
        .unwrap_or_else(|_| atoms.to_string())
}

// ---------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------

/// An off-grid input refused: the units error plus how `--round` would resolve it.
fn grid_error(e: UnitsError, hint_down: bool) -> SdkError {
    match &e {
        UnitsError::OffGrid { below, above, .. } => {
            let to = if hint_down { below } else { above };
            SdkError::Invalid(format!("{e}; pass --round to use {to}"))
        }
        _ => SdkError::Units(e),
    }
}

fn parse_size(spec: &MarketSpec, text: &str, round: bool) -> Result<QtyLots, SdkError> {
    let size = spec.size(text, round).map_err(|e| grid_error(e, true))?;
    if size.rounded {
        eprintln!(
            "note: size {text} is not a multiple of the lot {}; rounded down to {}",
            spec.lot.format(1),
            spec.format_size(size.lots)
        );
    }
    Ok(size.lots)
}

fn parse_price(
    spec: &MarketSpec,
    text: &str,
    side: Side,
    round: bool,
) -> Result<PriceTicks, SdkError> {
    let price = spec.price(text, side, round).map_err(|e| grid_error(e, side == Side::Buy))?;
    if price.rounded {
        let way = if side == Side::Buy { "down" } else { "up" };
        eprintln!(
            "note: price {text} is not a multiple of the tick {}; rounded {way} to {} (in your favour for a {})",
            spec.tick.format(1),
            spec.format_price(price.ticks),
            side_word(side)
        );
    }
    Ok(price.ticks)
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// The worst price of a market order: `slippage_bps` beyond the best opposite price, rounded
/// to the stricter tick.
async fn market_price(
    t: &Trader,
    spec: &MarketSpec,
    side: Side,
    slippage_bps: u32,
) -> Result<PriceTicks, SdkError> {
    let book = t.http().book(&spec.id.0.to_string(), Some(1)).await?;
    let best = match side {
        Side::Buy => book.asks.first(),
        Side::Sell => book.bids.first(),
    };
    let Some(best) = best else {
        let other = if side == Side::Buy { "asks" } else { "bids" };
        return Err(SdkError::Invalid(format!(
            "no {other} in {} for a market {}; give a limit price with --price",
            spec.symbol,
            side_word(side)
        )));
    };
    let best_ticks = u128::from(best.price_ticks);
    let bps = u128::from(slippage_bps.min(9_999));
    let worst = match side {
        Side::Buy => best_ticks * (10_000 + bps) / 10_000,
        Side::Sell => (best_ticks * (10_000 - bps)).div_ceil(10_000),
    };
    let worst = PriceTicks(u64::try_from(worst).unwrap_or(u64::MAX).max(1));
    eprintln!(
        "market {}: immediate-or-cancel, worst price {} (best {} {} {} {}.{:02}%)",
        side_word(side),
        spec.format_price(worst),
        if side == Side::Buy { "ask" } else { "bid" },
        spec.format_price(PriceTicks(best.price_ticks)),
        if side == Side::Buy { "+" } else { "-" },
        bps / 100,
        bps % 100,
    );
    Ok(worst)
}

async fn order(cmd: OrderCommand) -> Result<(), SdkError> {
    match cmd {
        OrderCommand::Place {
            market,
            side,
            size,
            price,
            ioc,
            fok,
            post_only,
            reduce_only,
            client_id,
            round,
            slippage_bps,
            key,
            net,
        } => {
            let t = trader(&key, &net).await?;
            let spec = t.market(&market)?.clone();
            let side = side.side();
            let qty = parse_size(&spec, &size, round)?;
            let mut o = match &price {
                Some(p) => Order::limit(spec.id, side, parse_price(&spec, p, side, round)?, qty),
                None => Order::market(
                    spec.id,
                    side,
                    market_price(&t, &spec, side, slippage_bps).await?,
                    qty,
                ),
            };
            if ioc {
                o = o.ioc();
            } else if fok {
                o = o.fok();
            } else if post_only {
                o = o.post_only();
            }
            if reduce_only {
                o = o.reduce_only();
            }
            if let Some(c) = client_id {
                o = o.client_id(c);
            }
            let placed = t.place(o).await?;
            let status = t.http().order(&spec.id.0.to_string(), placed.id.0).await.ok();
            print_placed(&spec, &o, &placed.report, placed.id, status.as_ref(), net.json);
            Ok(())
        }
        OrderCommand::Cancel { id, client_id, market, key, net } => {
            let t = trader(&key, &net).await?;
            let spec = locate_order(&t, market.as_deref(), id, client_id).await?;
            let report = match (id, client_id) {
                (_, Some(c)) => t.cancel_by_client_id(spec.id, c).await?,
                (Some(id), None) => t.cancel(spec.id, OrderId(id)).await?,
                (None, None) => {
                    return Err(SdkError::Invalid("give an order id or --client-id".into()))
                }
            };
            let what = client_id
                .map_or_else(|| format!("order {}", id.unwrap_or(0)), |c| format!("client id {c}"));
            done(&report, &format!("cancelled {what} on {}", spec.symbol), net.json);
            Ok(())
        }
        OrderCommand::CancelAll { market, side, key, net } => {
            let t = trader(&key, &net).await?;
            let spec = market.as_deref().map(|m| t.market(m).cloned()).transpose()?;
            let before =
                t.http().orders(&t.account(), t.sub()).await.map(|o| o.orders).unwrap_or_default();
            let side = side.map(SideArg::side);
            let report = t.cancel_all(spec.as_ref().map(|s| s.id), side).await?;
            let matched = before
                .iter()
                .filter(|o| spec.as_ref().is_none_or(|s| s.id.0 == o.market))
                .filter(|o| side.is_none_or(|s| market::side_from_wire(o.side) == s))
                .count();
            let scope =
                spec.as_ref().map_or_else(|| "all markets".to_string(), |s| s.symbol.clone());
            done(&report, &format!("cancelled {matched} open order(s) in {scope}"), net.json);
            Ok(())
        }
        OrderCommand::Modify { id, price, size, market, round, key, net } => {
            let t = trader(&key, &net).await?;
            let spec = locate_order(&t, market.as_deref(), Some(id), None).await?;
            let current = t.http().order(&spec.id.0.to_string(), id).await?;
            let side = market::side_from_wire(current.side);
            let ticks = match &price {
                Some(p) => parse_price(&spec, p, side, round)?,
                None => PriceTicks(current.price_ticks),
            };
            let lots = match &size {
                Some(s) => parse_size(&spec, s, round)?,
                None => QtyLots(current.remaining_lots),
            };
            let report = t.modify(spec.id, OrderId(id), ticks, lots).await?;
            done(
                &report,
                &format!(
                    "modified order {id} on {}: {} {} @ {}",
                    spec.symbol,
                    side_word(side),
                    spec.format_size(lots),
                    spec.format_price(ticks)
                ),
                net.json,
            );
            Ok(())
        }
    }
}

/// The market of an order: `--market`, else the one of the account's open orders that has this
/// id (or client id).
async fn locate_order(
    t: &Trader,
    market: Option<&str>,
    id: Option<u64>,
    client_id: Option<u64>,
) -> Result<MarketSpec, SdkError> {
    if let Some(m) = market {
        return Ok(t.market(m)?.clone());
    }
    let open = t.http().orders(&t.account(), t.sub()).await?.orders;
    let hits: Vec<u16> = open
        .iter()
        .filter(|o| match client_id {
            Some(c) => o.client_id == Some(c),
            None => Some(o.id) == id,
        })
        .map(|o| o.market)
        .collect();
    match hits.as_slice() {
        [m] => Ok(t.market(&m.to_string())?.clone()),
        [] => Err(SdkError::Invalid(
            "no open order of this account has that id; name its market with --market".into(),
        )),
        _ => Err(SdkError::Invalid(
            "several markets have an open order with that id; name one with --market".into(),
        )),
    }
}

fn done(report: &TxReport, what: &str, json: bool) {
    if json {
        print_json(&json!({ "hash": report.hash, "height": report.height(), "result": what }));
    } else {
        say!("{what} (block {}, tx {})", report.height().unwrap_or(0), short(&report.hash));
    }
}

fn tif_word(o: &Order) -> &'static str {
    use novation_engine::TimeInForce as T;
    match o.request().tif {
        T::Gtc => "GTC",
        T::Ioc => "IOC",
        T::Fok => "FOK",
        T::PostOnly => "post-only",
        T::PostOnlySlide => "post-only slide",
    }
}

fn state_word(s: rest::OrderState) -> &'static str {
    match s {
        rest::OrderState::Accepted => "accepted",
        rest::OrderState::Resting => "resting",
        rest::OrderState::PartiallyFilled => "partially filled",
        rest::OrderState::Filled => "filled",
        rest::OrderState::Cancelled => "cancelled",
        rest::OrderState::Expired => "expired",
        rest::OrderState::Rejected => "rejected",
    }
}

fn print_placed(
    spec: &MarketSpec,
    o: &Order,
    report: &TxReport,
    id: OrderId,
    status: Option<&rest::Order>,
    json: bool,
) {
    let r = o.request();
    if json {
        print_json(&json!({ "hash": report.hash, "height": report.height(), "market": spec.symbol,
            "order_id": id.0, "order": status }));
        return;
    }
    say!(
        "order {} placed: {} {} {} @ {} ({}) in block {}, tx {}",
        id.0,
        side_word(r.side),
        spec.format_size(r.qty),
        spec.symbol,
        spec.format_price(r.price),
        tif_word(o),
        report.height().unwrap_or(0),
        short(&report.hash)
    );
    if let Some(s) = status {
        let mut line = format!(
            "status: {}, filled {} of {}",
            state_word(s.status),
            spec.format_size(QtyLots(s.filled_lots)),
            spec.format_size(QtyLots(s.qty_lots.max(r.qty.0)))
        );
        if let Some(reason) = &s.reason {
            line.push_str(&format!(" ({reason})"));
        }
        say!("{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

async fn specs(http: &HttpClient) -> Result<Vec<MarketSpec>, SdkError> {
    http.market_specs().await
}

fn spec_of(specs: &[MarketSpec], id: u16) -> Option<&MarketSpec> {
    specs.iter().find(|s| s.id.0 == id)
}

async fn orders(who: &Who, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let account = required_account(who)?;
    let list = http.orders(&account, who.sub).await?;
    if net.json {
        print_json(&list);
        return Ok(());
    }
    let specs = specs(&http).await?;
    say!("{}", orders_table(&list.orders, &specs).unwrap_or_else(|| "no open orders".into()));
    Ok(())
}

/// Open orders as a table, or `None` without any.
pub fn orders_table(orders: &[rest::Order], specs: &[MarketSpec]) -> Option<String> {
    if orders.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        ("ID", true),
        ("MARKET", false),
        ("SIDE", false),
        ("PRICE", true),
        ("SIZE", true),
        ("FILLED", true),
        ("CLIENT ID", true),
        ("STATUS", false),
    ]);
    for o in orders {
        let (symbol, price, size, filled) = match spec_of(specs, o.market) {
            Some(s) => (
                s.symbol.clone(),
                s.format_price(PriceTicks(o.price_ticks)),
                s.format_size(QtyLots(o.remaining_lots)),
                s.format_size(QtyLots(o.filled_lots)),
            ),
            None => (
                o.market.to_string(),
                o.price.clone(),
                o.remaining_lots.to_string(),
                o.filled_lots.to_string(),
            ),
        };
        t.row(vec![
            o.id.to_string(),
            symbol,
            side_word(market::side_from_wire(o.side)).into(),
            price,
            size,
            filled,
            o.client_id.map(|c| c.to_string()).unwrap_or_default(),
            state_word(o.status).into(),
        ]);
    }
    Some(t.render())
}

async fn positions(who: &Who, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let account = required_account(who)?;
    let acct = http.account(&account, who.sub).await?;
    if net.json {
        print_json(&acct.positions);
        return Ok(());
    }
    let specs = specs(&http).await?;
    say!("{}", positions_table(&acct.positions, &specs).unwrap_or_else(|| "no positions".into()));
    Ok(())
}

/// Positions as a table, or `None` without any.
pub fn positions_table(positions: &[rest::Position], specs: &[MarketSpec]) -> Option<String> {
    let open: Vec<&rest::Position> = positions.iter().filter(|p| p.size_lots > 0).collect();
    if open.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        ("MARKET", false),
        ("SIDE", false),
        ("SIZE", true),
        ("ENTRY", true),
        ("MARK", true),
        ("UPNL (USDC)", true),
        ("LIQ. PRICE", true),
        ("MARGIN", false),
    ]);
    for p in open {
        let spec = spec_of(specs, p.market);
        let size = spec.map_or_else(|| p.size.clone(), |s| s.format_size(QtyLots(p.size_lots)));
        let mark =
            spec.map_or_else(|| p.mark.clone(), |s| s.format_price(PriceTicks(p.mark_ticks)));
        let liq = match (spec, p.liquidation_price_ticks) {
            (Some(s), Some(l)) => s.format_price(PriceTicks(l)),
            _ => p.liquidation_price.clone().unwrap_or_else(|| "-".into()),
        };
        t.row(vec![
            p.symbol.clone(),
            match p.side {
                Some(rest::Side::Buy) => "long".into(),
                Some(rest::Side::Sell) => "short".into(),
                None => "flat".into(),
            },
            size,
            p.entry_price.clone().unwrap_or_else(|| "-".into()),
            mark,
            usdc_of(&p.unrealized_pnl_atoms),
            liq,
            match p.margin {
                rest::MarginMode::Cross => "cross".into(),
                rest::MarginMode::Isolated => "isolated".into(),
            },
        ]);
    }
    Some(t.render())
}

async fn balance(who: &Who, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let account = required_account(who)?;
    let acct = http.account(&account, who.sub).await?;
    if net.json {
        print_json(&acct);
        return Ok(());
    }
    say!("{}", balance_lines(&acct));
    Ok(())
}

/// An account's balance summary.
pub fn balance_lines(a: &rest::Account) -> String {
    let cross = a.margin.iter().find(|m| m.margin == rest::MarginMode::Cross);
    let mut lines = vec![
        format!("account         {}/{}", a.address, a.sub),
        format!("balance         {} USDC", usdc_of(&a.balance_atoms)),
        format!("equity          {} USDC", usdc_of(&a.equity_atoms)),
        format!("unrealised PnL  {} USDC", usdc_of(&a.unrealized_pnl_atoms)),
    ];
    if let Some(c) = cross {
        lines.push(format!("free collateral {} USDC", usdc_of(&c.free_collateral_atoms)));
        lines.push(format!("initial margin  {} USDC", usdc_of(&c.initial_margin_atoms)));
        if let Some(ppb) = c.margin_usage_ppb {
            lines.push(format!(
                "margin usage    {}%",
                units::format_scaled(u128::from(ppb) / 100_000, 2, 2)
            ));
        }
        if c.liquidating {
            lines.push("LIQUIDATING".into());
        }
    }
    lines.push(format!("open orders     {}", a.open_orders));
    lines.push(format!(
        "positions       {}",
        a.positions.iter().filter(|p| p.size_lots > 0).count()
    ));
    lines.join("\n")
}

async fn markets(net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let list = http.markets().await?;
    if net.json {
        print_json(&list);
        return Ok(());
    }
    let mut t = Table::new(&[
        ("ID", true),
        ("MARKET", false),
        ("TICK", true),
        ("LOT", true),
        ("MIN SIZE", true),
        ("MARK", true),
        ("INDEX", true),
        ("STATUS", false),
    ]);
    for m in &list.markets {
        let spec = MarketSpec::from_wire(m);
        let price = |ticks: u64| {
            spec.as_ref().map_or_else(|| ticks.to_string(), |s| s.format_price(PriceTicks(ticks)))
        };
        t.row(vec![
            m.id.to_string(),
            m.symbol.clone(),
            m.tick_size.clone(),
            m.lot_size.clone(),
            m.qty_min.clone(),
            price(m.mark_ticks),
            m.index_ticks.map_or_else(|| "-".into(), price),
            serde_json::to_value(m.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        ]);
    }
    say!("{}", t.render());
    Ok(())
}

async fn book(market: &str, depth: u32, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let specs = specs(&http).await?;
    let spec = market::find(&specs, market)?;
    let b = http.book(&spec.id.0.to_string(), Some(depth)).await?;
    if net.json {
        print_json(&b);
        return Ok(());
    }
    say!("{} book at height {} (seq {})", spec.symbol, b.height, b.seq);
    say!("{}", book_table(spec, &b.bids, &b.asks, depth as usize));
    Ok(())
}

/// Asks (best last) over bids (best first), with the spread between.
pub fn book_table(
    spec: &MarketSpec,
    bids: &[rest::BookLevel],
    asks: &[rest::BookLevel],
    depth: usize,
) -> String {
    let mut t = Table::new(&[("", false), ("PRICE", true), ("SIZE", true)]);
    for l in asks.iter().take(depth).rev() {
        t.row(vec![
            "ask".into(),
            spec.format_price(PriceTicks(l.price_ticks)),
            spec.format_size(QtyLots(l.qty_lots)),
        ]);
    }
    let spread = match (bids.first(), asks.first()) {
        (Some(b), Some(a)) if a.price_ticks >= b.price_ticks => {
            format!("spread {}", spec.format_price(PriceTicks(a.price_ticks - b.price_ticks)))
        }
        (None, None) => "empty book".into(),
        _ => "one-sided".into(),
    };
    t.row(vec!["---".into(), spread]);
    for l in bids.iter().take(depth) {
        t.row(vec![
            "bid".into(),
            spec.format_price(PriceTicks(l.price_ticks)),
            spec.format_size(QtyLots(l.qty_lots)),
        ]);
    }
    t.render()
}

async fn trades(market: &str, limit: u32, net: &Net) -> Result<(), SdkError> {
    let http = HttpClient::new(&net.rpc)?;
    let specs = specs(&http).await?;
    let spec = market::find(&specs, market)?;
    let list = http.trades(&spec.id.0.to_string(), Some(limit)).await?;
    if net.json {
        print_json(&list);
        return Ok(());
    }
    say!(
        "{}",
        trades_table(spec, &list.trades)
            .unwrap_or_else(|| format!("no trades in {} yet", spec.symbol))
    );
    Ok(())
}

/// Trades, newest first, as a table; `None` without any.
pub fn trades_table(spec: &MarketSpec, trades: &[rest::Trade]) -> Option<String> {
    if trades.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        ("TIME (UTC)", false),
        ("HEIGHT", true),
        ("TAKER", false),
        ("PRICE", true),
        ("SIZE", true),
    ]);
    for tr in trades {
        t.row(vec![
            clock(tr.time_ms),
            tr.height.to_string(),
            side_word(market::side_from_wire(tr.taker_side)).into(),
            spec.format_price(PriceTicks(tr.price_ticks)),
            spec.format_size(QtyLots(tr.qty_lots)),
        ]);
    }
    Some(t.render())
}

/// `HH:MM:SS.mmm` of a Unix millisecond time (UTC).
pub fn clock(ms: u64) -> String {
    let day_ms = ms % 86_400_000;
    let (h, m, s, milli) =
        (day_ms / 3_600_000, day_ms / 60_000 % 60, day_ms / 1000 % 60, day_ms % 1000);
    format!("{h:02}:{m:02}:{s:02}.{milli:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_utc_time_of_day() {
        assert_eq!(clock(0), "00:00:00.000");
        assert_eq!(clock(86_400_000 + 3_723_004), "01:02:03.004");
    }

    #[test]
    fn off_grid_errors_say_how_to_round() {
        let spec = MarketSpec {
            id: novation_engine::MarketId(0),
            symbol: "BTC-PERP".into(),
            tick: units::Grid::new(100_000_000).expect("tick"),
            lot: units::Grid::new(1_000_000).expect("lot"),
            qty_min: QtyLots(1),
        };
        let e = parse_price(&spec, "100.05", Side::Sell, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "price 100.05 is not a multiple of 0.1: nearest valid values are 100.0 and 100.1; pass --round to use 100.1"
        );
        assert_eq!(parse_price(&spec, "100.05", Side::Buy, true).unwrap(), PriceTicks(1000));
        let e = parse_size(&spec, "0.0015", false).unwrap_err();
        assert!(e.to_string().ends_with("pass --round to use 0.001"), "{e}");
    }
}
