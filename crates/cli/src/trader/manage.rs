//! `transfer`, `agent approve | revoke` and `margin mode | add | remove`: the account actions
//! that are neither orders nor funding.

use novation_client::tx::AgentScope;
use novation_client::TxReport;
use novation_engine::MarketId;
use serde_json::json;

use super::orders::parse_size;
use super::*;

/// `text` as an address or a key name, from the key directory `keys_dir`.
fn named(text: &str, keys_dir: &Option<PathBuf>, signer: bool) -> Result<Address, SdkError> {
    Ok(address_or_key(text, &Keystore::locate(keys_dir.clone())?, signer)?)
}

/// Prints a finished transaction: JSON with `extra` merged in, or `line` and the block.
fn report_done(net: &Net, report: &TxReport, line: String, extra: serde_json::Value) {
    if net.json {
        let mut v = json!({ "hash": report.hash, "height": report.height() });
        if let (Some(map), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
            map.extend(more);
        }
        print_json(&v);
    } else {
        say!("{line} in block {} (tx {})", report.height().unwrap_or(0), short(&report.hash));
    }
}

pub(super) async fn transfer(
    amount: &str,
    to: &str,
    to_sub: u16,
    k: &KeyArgs,
    net: &Net,
) -> Result<(), SdkError> {
    let amount = units::parse_usdc(amount)?;
    let recipient = named(to, &k.keys_dir, false)?;
    let t = trader(k, net).await?;
    let report = t.transfer(recipient, to_sub, amount).await?;
    let acct = t.http().account(&t.account(), t.sub()).await?;
    report_done(
        net,
        &report,
        format!(
            "transferred {} USDC to {}/{to_sub}; balance {} USDC",
            units::format_usdc(amount),
            hex::encode(recipient.0),
            usdc_of(&acct.balance_atoms)
        ),
        json!({ "amount_atoms": amount.0.to_string(), "to": hex::encode(recipient.0),
            "to_sub": to_sub, "balance_atoms": acct.balance_atoms }),
    );
    Ok(())
}

/// `novation agent ...`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Let an agent key place, modify and cancel orders for your account (it can never
    /// withdraw, transfer or manage agents). Create the agent's key with
    /// `novation keys new NAME --agent-of YOUR_KEY`.
    Approve {
        /// The agent: its key name, or its address.
        agent: String,
        /// Only these markets (repeat the flag; all markets when omitted).
        #[arg(long = "market")]
        markets: Vec<String>,
        /// Largest order size it may place, in base units (unbounded when omitted).
        #[arg(long)]
        max_size: Option<String>,
        /// The grant ends this many seconds after the chain's current time (never when omitted).
        #[arg(long)]
        expires_in: Option<u64>,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
    /// Withdraw an agent's grant.
    Revoke {
        /// The agent: its key name, or its address.
        agent: String,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
}

pub(super) async fn agent(cmd: AgentCommand) -> Result<(), SdkError> {
    match cmd {
        AgentCommand::Approve { agent, markets, max_size, expires_in, key, net } => {
            let agent = named(&agent, &key.keys_dir, true)?;
            let t = trader(&key, &net).await?;
            let specs = markets.iter().map(|m| t.market(m)).collect::<Result<Vec<_>, _>>()?;
            let max_order_qty =
                match (&max_size, specs.as_slice()) {
                    (None, _) => None,
                    // A size in base units means lots of one market's grid.
                    (Some(text), [spec]) => Some(parse_size(spec, text, false)?),
                    (Some(_), _) => return Err(SdkError::Invalid(
                        "--max-size needs exactly one --market (sizes are in that market's lots)"
                            .into(),
                    )),
                };
            let expires = match expires_in {
                None => None,
                Some(secs) => {
                    let now = t.http().status().await?.time_ms;
                    Some(now.saturating_add(secs.saturating_mul(1_000)))
                }
            };
            let expires_ms = expires.unwrap_or(u64::MAX);
            let market_ids: Vec<MarketId> = specs.iter().map(|s| s.id).collect();
            let scope = AgentScope { markets: market_ids, max_order_qty, expires_ms };
            let report = t.approve_agent(agent, scope).await?;
            let names: Vec<&str> = specs.iter().map(|s| s.symbol.as_str()).collect();
            let scope_text = format!(
                "{}{}{}",
                if names.is_empty() { "all markets".to_string() } else { names.join(", ") },
                max_size.map(|text| format!(", orders up to {text}")).unwrap_or_default(),
                expires.map(|ms| format!(", until block time {ms} ms")).unwrap_or_default(),
            );
            report_done(
                &net,
                &report,
                format!("approved agent {} for {scope_text}", hex::encode(agent.0)),
                json!({ "agent": hex::encode(agent.0), "markets": names,
                    "max_order_lots": max_order_qty.map(|q| q.0),
                    "expires_ms": expires }),
            );
            Ok(())
        }
        AgentCommand::Revoke { agent, key, net } => {
            let agent = named(&agent, &key.keys_dir, true)?;
            let t = trader(&key, &net).await?;
            let report = t.revoke_agent(agent).await?;
            report_done(
                &net,
                &report,
                format!("revoked agent {}", hex::encode(agent.0)),
                json!({ "agent": hex::encode(agent.0) }),
            );
            Ok(())
        }
    }
}

/// Cross or isolated margin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MarginArg {
    Cross,
    Isolated,
}

/// `novation margin ...`.
#[derive(Debug, Subcommand)]
pub enum MarginCommand {
    /// Isolated or cross margin for one market (only while you have no position and no
    /// resting orders there).
    Mode {
        /// Market symbol (BTC-PERP) or id.
        market: String,
        /// cross or isolated.
        mode: MarginArg,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        net: Net,
    },
    /// Move USDC from the cross bucket into a market's isolated bucket.
    Add(Adjust),
    /// Move USDC from a market's isolated bucket back to the cross bucket.
    Remove(Adjust),
}

/// The arguments of `margin add` and `margin remove`.
#[derive(Debug, Args)]
pub struct Adjust {
    /// Market symbol (BTC-PERP) or id.
    market: String,
    /// Amount in USDC (at most 6 decimals).
    amount: String,
    #[command(flatten)]
    key: KeyArgs,
    #[command(flatten)]
    net: Net,
}

pub(super) async fn margin(cmd: MarginCommand) -> Result<(), SdkError> {
    match cmd {
        MarginCommand::Mode { market, mode, key, net } => {
            let t = trader(&key, &net).await?;
            let spec = t.market(&market)?.clone();
            let isolated = mode == MarginArg::Isolated;
            let report = t.set_margin_mode(spec.id, isolated).await?;
            let word = if isolated { "isolated" } else { "cross" };
            report_done(
                &net,
                &report,
                format!("{} now uses {word} margin", spec.symbol),
                json!({ "market": spec.symbol, "margin": word }),
            );
            Ok(())
        }
        MarginCommand::Add(a) => adjust(&a, true).await,
        MarginCommand::Remove(a) => adjust(&a, false).await,
    }
}

async fn adjust(a: &Adjust, into: bool) -> Result<(), SdkError> {
    let Adjust { market, amount, key: k, net } = a;
    let amount = units::parse_usdc(amount)?;
    let t = trader(k, net).await?;
    let spec = t.market(market)?.clone();
    let signed = if into { amount } else { Quote(-amount.0) };
    let report = t.adjust_isolated_margin(spec.id, signed).await?;
    let acct = t.http().account(&t.account(), t.sub()).await?;
    let bucket = acct
        .margin
        .iter()
        .find(|m| m.market == Some(spec.id.0))
        .map(|m| m.cash_atoms.clone())
        .unwrap_or_else(|| "0".into());
    let way = if into { "into" } else { "out of" };
    report_done(
        net,
        &report,
        format!(
            "moved {} USDC {way} {}'s isolated margin; it holds {} USDC",
            units::format_usdc(amount),
            spec.symbol,
            usdc_of(&bucket)
        ),
        json!({ "market": spec.symbol, "amount_atoms": signed.0.to_string(),
            "isolated_cash_atoms": bucket }),
    );
    Ok(())
}
