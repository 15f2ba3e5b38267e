//! The `--quick` benchmark through the library, with a fake stopwatch: it runs, the flow is
//! mostly accepted, nobody is liquidated, and the same seed gives the same report.

use novation_sim::bench::{self, BenchConfig, FakeStopwatch};
use novation_sim::workload::{ActionKind, Workload, WorkloadConfig};

fn quick_report(seed: u64) -> bench::BenchReport {
    let mut sw = FakeStopwatch { ns: 0, step_ns: 1_000 };
    bench::run(&BenchConfig::quick(seed), &mut sw)
}

#[test]
fn quick_benchmark_runs_and_is_deterministic() {
    let a = quick_report(7);
    let t = a.throughput.as_ref().expect("throughput part");
    let s = &t.stats;
    assert!(s.actions() > 0 && s.fills > 0, "the flow trades: {s:?}");
    assert!(s.rejections() * 50 < s.actions(), "under 2 % rejected: {:?}", s.rejected);
    for kind in [ActionKind::Add, ActionKind::Cancel, ActionKind::Modify, ActionKind::Ioc] {
        assert!(s.generated.get(&kind).copied().unwrap_or(0) > 0, "{kind:?} generated");
    }
    assert_eq!(a.liquidation.len(), 2);
    for p in &a.liquidation {
        assert_eq!(p.stats.rejections(), 0, "fixture setup fully accepted: {:?}", p.stats.rejected);
        assert_eq!(
            p.sweep.buckets as usize,
            p.accounts as usize + 10,
            "accounts + insurance funds"
        );
        assert_eq!(p.sweep.positions, 4 * u64::from(p.accounts));
        assert_eq!(p.sweep.below_maintenance, 0);
        assert_eq!(p.liquidations_in_timed_blocks, 0);
    }
    let text = bench::render(&a);
    assert!(text.contains("\nengine_orders_per_sec="), "{text}");
    assert!(text.contains("\nliq_check_ms_4000="), "{text}");
    assert!(text.contains("\nliq_dense_sweep_ms_1000="), "{text}");
    assert_eq!(a, quick_report(7), "same seed, same report");
}

#[test]
fn same_seed_same_actions_different_seed_different_actions() {
    let blocks = |seed: u64| {
        let (mut w, mut engine) = Workload::genesis(WorkloadConfig::quick(seed), 1);
        let mut out = Vec::new();
        for _ in 0..2 {
            let (ctx, txs) = w.next_block(&engine);
            w.apply(&mut engine, &ctx, &txs);
            out.push((ctx, txs));
        }
        out
    };
    assert_eq!(blocks(3), blocks(3));
    assert_ne!(blocks(3), blocks(4));
}
