//! `faucet` and `withdraw`.

use serde_json::json;

use super::*;

// ---------------------------------------------------------------------------------------------
// Faucet and withdrawals
// ---------------------------------------------------------------------------------------------

pub(super) async fn faucet(k: &KeyArgs, usdc: u64, net: &Net) -> Result<(), SdkError> {
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

pub(super) async fn withdraw(amount: &str, k: &KeyArgs, net: &Net) -> Result<(), SdkError> {
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
