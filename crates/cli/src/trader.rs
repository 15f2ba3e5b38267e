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
use novation_client::units;
use novation_client::wire::rest;
use novation_client::{Error as SdkError, HttpClient, Key, KeyError, Keystore, Trader};
use novation_types::{Address, Quote, Side};
use serde::Serialize;
use serde_json::json;

use crate::table::Table;
use crate::watch;

mod funds;
mod manage;
mod orders;
mod views;

use funds::{faucet, withdraw};
use manage::{agent, margin, transfer};
pub use manage::{AgentCommand, MarginCommand};
use orders::order;
use views::{balance, book, markets, orders, positions, trades};
pub use views::{balance_lines, book_table, clock, orders_table, positions_table, trades_table};

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
    #[arg(long, env = "NOVATION_KEY")]
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
    /// Move USDC to another account, or between your own subaccounts.
    Transfer {
        /// Amount in USDC (at most 6 decimals).
        amount: String,
        /// The recipient: an address, or a stored key's name (its account).
        #[arg(long)]
        to: String,
        /// The recipient's subaccount.
        #[arg(long, default_value_t = 0)]
        to_sub: u16,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
    /// Approve or revoke agent keys that trade for your account.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Cross or isolated margin per market, and isolated margin in and out.
    #[command(subcommand)]
    Margin(MarginCommand),
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
        /// Make it an agent key of this account (a key name or an address): it signs for that
        /// account once the account approves it (`novation agent approve`).
        #[arg(long)]
        agent_of: Option<String>,
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
        TraderCommand::Transfer { amount, to, to_sub, key, net } => {
            transfer(&amount, &to, to_sub, &key, &net).await
        }
        TraderCommand::Agent(cmd) => agent(cmd).await,
        TraderCommand::Margin(cmd) => margin(cmd).await,
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

fn keys(cmd: KeysCommand) -> Result<(), KeyError> {
    match cmd {
        KeysCommand::New { name, agent_of, keys_dir, json } => {
            let store = Keystore::locate(keys_dir)?;
            let master = agent_of.map(|a| address_or_key(&a, &store, false)).transpose()?;
            let key = Key::generate(&name)?.with_master(master);
            let path = store.store(&key)?;
            let address = hex::encode(key.address().0);
            let master = master.map(|m| hex::encode(m.0));
            if json {
                print_json(
                    &json!({ "name": name, "address": address, "path": path, "master": master }),
                );
            } else {
                say!("created key {name}");
                say!("address  {address}");
                if let Some(m) = master {
                    say!("agent of {m} (it signs for that account once approved)");
                }
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

/// `text` as an address (40 hex digits, optionally `0x`-prefixed), else the stored key of that
/// name: its account (an agent key's master), or with `signer` the key's own address.
fn address_or_key(text: &str, store: &Keystore, signer: bool) -> Result<Address, KeyError> {
    if let Ok(address) = novation_client::keys::parse_address(text) {
        return Ok(address);
    }
    let key = store.load(text)?;
    Ok(if signer { key.address() } else { key.account() })
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

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
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

/// A decimal string of atoms as USDC (the node sends i128 atoms as strings).
fn usdc_of(atoms: &str) -> String {
    atoms
        .parse::<i128>()
        .map(|a| units::format_usdc(Quote(a)))
        .unwrap_or_else(|_| atoms.to_string())
}
