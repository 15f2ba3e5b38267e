//! CPU time spent by this thread, and by a future across all the polls that drive it.
//!
//! Used for the executor's timings: when validators share a machine (devnet, `novation bench`),
//! a block's wall-clock execution and commitment times also count the time its task waited for
//! a core while the other validators' work ran, so a share computed from them overstates what
//! the work itself costs. A future's CPU time is the sum, over each call to its `poll`, of the
//! polling thread's CPU time during the call: correct however the runtime moves the task
//! between threads. Work the future hands to another thread (a blocking pool's file read) is
//! not counted. Measurement only: nothing here reaches consensus state.

use std::future::Future;

/// CPU time this thread has used, in nanoseconds (0 where the clock is unavailable).
pub fn thread_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    (t.tv_sec.max(0) as u64).saturating_mul(1_000_000_000).saturating_add(t.tv_nsec.max(0) as u64)
}

/// Drives `future` to completion, adding the CPU time its polls used to `spent`.
pub async fn timed<F: Future>(future: F, spent: &mut u64) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        let start = thread_ns();
        let result = future.as_mut().poll(cx);
        *spent = spent.saturating_add(thread_ns().saturating_sub(start));
        result
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_time_advances_with_work_and_not_with_sleep() {
        let a = thread_ns();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        let b = thread_ns();
        assert!(b > a, "{a} {b} {x}");
        std::thread::sleep(std::time::Duration::from_millis(50));
        let c = thread_ns();
        assert!(c - b < 20_000_000, "sleeping counted as CPU: {}", c - b);
    }

    #[test]
    fn a_future_is_charged_for_its_polls_only() {
        let mut spent = 0u64;
        let out = futures::executor::block_on(timed(
            async {
                let mut x = 0u64;
                for i in 0..5_000_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
                x
            },
            &mut spent,
        ));
        assert!(spent > 0, "{out}");
        let mut idle = 0u64;
        futures::executor::block_on(timed(
            async { std::thread::sleep(std::time::Duration::from_millis(50)) },
            &mut idle,
        ));
        assert!(idle < 20_000_000, "{idle}");
    }
}
