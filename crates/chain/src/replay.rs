//! `novation verify`: re-execute a node's stored chain from genesis and check every root.
//!
//! Reads the finalized blocks from the node's archive in height order, checks that each names
//! its predecessor's digest, re-executes it on a fresh state, writes its changes into a scratch
//! state database and compares the resulting root with the block's `state_root`. Finally
//! compares the replayed state's root with the node's own committed state database. The node must
//! be stopped (the storage directory is locked while it runs).

use commonware_cryptography::Digestible;
use commonware_runtime::{Clock, Metrics, Spawner, Storage};
use commonware_storage::archive::{Archive as _, Identifier};

use crate::executor::{self, StartError};
use crate::genesis::Genesis;
use crate::state::ChainState;
use crate::values;

/// What a replay checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// Blocks re-executed (genesis excluded).
    pub blocks: u64,
    /// Transactions in them.
    pub txs: u64,
    /// Height of the node's committed state (must be the last block replayed or below it).
    pub committed: u64,
    /// The last root checked.
    pub last_root: String,
}

/// Replays the chain stored under `prefix`.
pub async fn replay<E>(context: E, prefix: &str, genesis: &Genesis) -> Result<ReplayReport, String>
where
    E: Spawner + Metrics + Clock + Storage,
{
    let (_finalizations, blocks) = crate::node::open_archives(&context, prefix).await?;
    // The node's own state database (read its committed height and root).
    let (db, genesis_block, committed) =
        executor::open_state(context.child("node_state"), prefix, genesis)
            .await
            .map_err(|e: StartError| e.to_string())?;
    let node_root = db.root();
    drop(db);
    // A scratch database replays every block's writes.
    let scratch_prefix = format!("{prefix}-verify-scratch");
    let (mut scratch, _, _) =
        executor::open_state(context.child("scratch_state"), &scratch_prefix, genesis)
            .await
            .map_err(|e| e.to_string())?;
    let mut state = ChainState::genesis_committed(genesis).map_err(|e| e.to_string())?;
    let mut parent = genesis_block.digest();
    let mut report = ReplayReport {
        blocks: 0,
        txs: 0,
        committed,
        last_root: genesis_block.state_root.to_string(),
    };
    let mut root_at_committed = if committed == 0 { Some(genesis_block.state_root) } else { None };
    let mut height = 1u64;
    loop {
        let block = match blocks.get(Identifier::Index(height)).await {
            Ok(Some(b)) => b,
            Ok(None) => break,
            Err(e) => return Err(format!("reading block {height}: {e:?}")),
        };
        if block.parent != parent {
            return Err(format!("block {height} does not name block {}'s digest", height - 1));
        }
        state.execute(&block).map_err(|e| format!("block {height} failed to execute: {e}"))?;
        let writes = values::collect_writes(&mut state);
        let (next, root) = executor::commit_writes(scratch, writes, height)
            .await
            .map_err(|e| format!("block {height}: {e}"))?;
        scratch = next;
        if root != block.state_root {
            return Err(format!(
                "block {height}: re-executed root {root} differs from the block's {}",
                block.state_root
            ));
        }
        if height == committed {
            root_at_committed = Some(root);
        }
        report.blocks += 1;
        report.txs += block.txs.len() as u64;
        report.last_root = root.to_string();
        parent = block.digest();
        height += 1;
    }
    scratch.destroy().await.map_err(|e| format!("{e:?}"))?;
    match root_at_committed {
        Some(r) if r == node_root => Ok(report),
        Some(r) => Err(format!(
            "the node's state database root {node_root} differs from the replayed root {r} at height {committed}"
        )),
        None => Err(format!(
            "the node committed height {committed} but the archive ends at {}",
            height - 1
        )),
    }
}
