//! The oracle step of block execution, without a network: signed observations in a block are
//! checked (signature, validator, chain), refused when replayed, dropped when from the future,
//! and the aggregated index reaches the engine's markets in their ticks.

use commonware_cryptography::{ed25519::PrivateKey, sha256::Digest, Signer as _};
use novation_chain::block::Block;
use novation_chain::oracle::SignedObservation;
use novation_chain::simulation::{genesis, key};
use novation_chain::state::{ChainState, ExecError};
use novation_chain::tx::ChainId;
use novation_engine::MarketId;
use novation_oracle::aggregate::{Observation, ObservationError, OracleParams};
use novation_oracle::{AssetId, OraclePrice};

const T0: u64 = 1_800_000_000_000;

struct Setup {
    state: ChainState,
    /// Keys in validator-index (sorted) order.
    keys: Vec<PrivateKey>,
}

fn setup() -> Setup {
    let keys: Vec<PrivateKey> = (0..4).map(|i| key("validator", i)).collect();
    let g = genesis(&keys.iter().map(|k| k.public_key()).collect::<Vec<_>>(), T0);
    let sorted = g.sorted_validators();
    let mut keys = keys;
    keys.sort_by_key(|k| sorted.iter().position(|p| *p == k.public_key()));
    Setup { state: ChainState::genesis(&g).expect("genesis"), keys }
}

fn obs(s: &Setup, v: u16, time_ms: u64, btc_usd: u64) -> SignedObservation {
    let o = Observation {
        time_ms,
        prices: vec![
            (AssetId(0), OraclePrice::from_usd(btc_usd)),
            (AssetId(1), OraclePrice::from_usd(3_500)),
        ],
    };
    SignedObservation::sign(&s.keys[usize::from(v)], ChainId(1), v, o)
}

fn block(height: u64, time_ms: u64, observations: Vec<SignedObservation>) -> Block {
    let zero = Digest::from([0u8; 32]);
    Block { parent: zero, height, time_ms, observations, txs: Vec::new(), state_root: zero }
}

#[test]
fn observations_set_the_index_the_engine_uses() {
    let mut s = setup();
    let t = T0 + 200;
    let b = block(1, t, (0..3).map(|v| obs(&s, v, t - 50, 100_000 + u64::from(v) * 10)).collect());
    let done = s.state.execute(&b).expect("valid block");
    // Median of 100,000 / 100,010 / 100,020 (equal stakes): 100,010, within the 2% clamp.
    assert_eq!(done.oracle.assets[0].index, Some(OraclePrice::from_usd(100_010)));
    let m = s.state.engine.market(MarketId(0)).expect("BTC-PERP");
    assert_eq!(m.index.map(|p| p.0), Some(1_000_100), "$100,010 in $0.1 ticks");
    assert_eq!(s.state.history[0].latest().map(|p| p.height), Some(1));
}

#[test]
fn replayed_forged_and_misattributed_observations_make_the_block_invalid() {
    let mut s = setup();
    let t = T0 + 200;
    let first: Vec<_> = (0..3).map(|v| obs(&s, v, t - 50, 100_000)).collect();
    s.state.execute(&block(1, t, first.clone())).expect("valid block");
    let t2 = t + 200;
    let cases: Vec<(&str, Vec<SignedObservation>, ExecError)> = vec![
        (
            "replayed from block 1",
            vec![first[0].clone()],
            ExecError::Oracle(ObservationError::NotNewer {
                validator: 0,
                latest: t - 50,
                got: t - 50,
            }),
        ),
        (
            "price changed after signing",
            {
                let mut o = obs(&s, 1, t2, 100_000);
                o.observation.prices[0].1 = OraclePrice::from_usd(1);
                vec![o]
            },
            ExecError::ObservationSignature(1),
        ),
        (
            "attributed to another validator",
            {
                let mut o = obs(&s, 1, t2, 100_000);
                o.validator = 2;
                vec![o]
            },
            ExecError::ObservationSignature(2),
        ),
        (
            "signed for another chain",
            {
                let o = obs(&s, 3, t2, 100_000);
                vec![SignedObservation::sign(&s.keys[3], ChainId(9), 3, o.observation)]
            },
            ExecError::ObservationSignature(3),
        ),
        (
            "unknown validator",
            {
                let mut o = obs(&s, 3, t2, 100_000);
                o.validator = 7;
                vec![o]
            },
            ExecError::ObservationSignature(7),
        ),
        (
            "out of validator order",
            vec![obs(&s, 2, t2, 100_000), obs(&s, 1, t2, 100_000)],
            ExecError::Oracle(ObservationError::Order(1)),
        ),
    ];
    for (what, observations, expected) in cases {
        let mut copy = s.state.clone();
        assert_eq!(copy.execute(&block(2, t2, observations)).unwrap_err(), expected, "{what}");
    }
    // A fresh one from the same validator is fine.
    s.state.execute(&block(2, t2, vec![obs(&s, 0, t2, 100_000)])).expect("newer observation");
}

#[test]
fn future_observations_are_dropped_not_stored() {
    let mut s = setup();
    let t = T0 + 200;
    let ahead = t + OracleParams::DEFAULT.max_future_ms + 1;
    let mut observations: Vec<_> = (0..3).map(|v| obs(&s, v, t, 100_000)).collect();
    observations.push(obs(&s, 3, ahead, 100_000));
    let done = s.state.execute(&block(1, t, observations)).expect("valid block");
    assert_eq!(done.oracle.future, vec![3]);
    assert!(s.state.oracle.validators()[3].latest.is_none());
}

#[test]
fn without_quorum_block_one_still_seeds_the_genesis_index() {
    let mut s = setup();
    let t = T0 + 200;
    let done = s.state.execute(&block(1, t, vec![obs(&s, 0, t, 120_000)])).expect("valid");
    assert_eq!(done.oracle.assets[0].index, None, "one of four is no quorum");
    let m = s.state.engine.market(MarketId(0)).expect("BTC-PERP");
    assert_eq!(m.index.map(|p| p.0), Some(1_000_000), "genesis $100,000");
    assert_eq!(m.index_height, 1);
}

/// The live executor and `novation verify` both start block 1 from the committed genesis: its
/// pending writes are taken, so block 1 writes only what block 1 changed. (A genesis state whose
/// writes were still pending re-wrote them with block 1: the live root then depended on which
/// validators' observations block 1 carried, and `verify` disagreed with it.)
#[test]
fn block_one_writes_only_its_own_changes() {
    use novation_chain::commit::oracle_validator_key;
    use novation_chain::values::collect_writes;
    let s = setup();
    let g = genesis(&s.keys.iter().map(|k| k.public_key()).collect::<Vec<_>>(), T0);
    let mut committed = ChainState::genesis_committed(&g).expect("genesis");
    assert!(collect_writes(&mut committed.clone()).iter().all(|(k, _)| {
        // Markets and the engine-wide record are written every block; nothing else is pending.
        !(0..4).any(|v| *k == oracle_validator_key(v))
            && *k != novation_chain::commit::oracle_asset_key(0)
    }));
    let t = T0 + 200;
    // Observations of validators 0..3 only: validator 3's record is untouched.
    let b = block(1, t, (0..3).map(|v| obs(&s, v, t - 50, 100_000)).collect());
    committed.execute(&b).expect("valid block");
    let keys: Vec<_> = collect_writes(&mut committed).into_iter().map(|(k, _)| k).collect();
    for v in 0..3 {
        assert!(keys.contains(&oracle_validator_key(v)), "validator {v} observed");
    }
    assert!(!keys.contains(&oracle_validator_key(3)), "validator 3 did not observe");
}
